using System.Globalization;
using Foresight.Core.Topology;

namespace Foresight.Ingest;

/// <summary>
/// Reads a sources file (CSV, plain or gzip): one row per traffic source with its position, and matches its rows
/// to a trace's columns.
/// </summary>
/// <remarks>
/// <para>The id column is the first present of <c>cell_id</c>, <c>area_id</c>, <c>sensor_id</c>, <c>source_id</c>,
/// <c>source</c>, <c>id</c> (any case). Ids are compared ignoring case.</para>
/// <para>Coordinates come from <c>x_km</c>, <c>y_km</c> when both are present. Otherwise from a longitude and a
/// latitude column (<c>lon</c>/<c>lng</c>/<c>long</c>/<c>longitude</c> and <c>lat</c>/<c>latitude</c>, else names ending
/// in <c>_lon</c>/<c>_lng</c>/<c>_longitude</c> and <c>_lat</c>/<c>_latitude</c> or starting with <c>lon_</c>/<c>lat_</c>),
/// projected equirectangularly from the south-west corner of all points:
/// x = (lon − min lon)·111.320·cos(mean lat), y = (lat − min lat)·110.574 km.</para>
/// <para>Other columns are ignored. Problems are <see cref="TraceFormatException"/>s naming file, line and column.</para>
/// </remarks>
public static class SourcesReader
{
    /// <summary>Kilometres per degree of latitude.</summary>
    public const double KmPerDegreeLat = 110.574;

    /// <summary>Kilometres per degree of longitude at the equator (scaled by cos(latitude)).</summary>
    public const double KmPerDegreeLonAtEquator = 111.320;

    private static readonly string[] _idColumns = ["cell_id", "area_id", "sensor_id", "source_id", "source", "id"];
    private static readonly string[] _columnPrefixes = ["cell_", "area_", "source_", "sensor_"];

    public static IReadOnlyList<Source> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using CsvRecordReader csv = CsvRecordReader.Open(path);
        if (!csv.ReadRecord())
        {
            throw new TraceFormatException(path, "empty file: expected a header line", 1);
        }

        string[] header = TraceReader.ReadHeader(csv);
        int idIndex = FindFirst(header, _idColumns);
        if (idIndex < 0)
        {
            throw new TraceFormatException(
                path, $"no id column: expected one of {string.Join(", ", _idColumns)}", 1, "id");
        }

        int xIndex = FindFirst(header, ["x_km"]);
        int yIndex = FindFirst(header, ["y_km"]);
        bool projected = xIndex < 0 || yIndex < 0;
        if (projected)
        {
            if (xIndex >= 0 || yIndex >= 0)
            {
                string missing = xIndex < 0 ? "x_km" : "y_km";
                throw new TraceFormatException(path, $"missing column '{missing}': x_km and y_km go together", 1, missing);
            }

            xIndex = FindCoordinate(header, ["lon", "lng", "long", "longitude"], ["lon", "lng", "longitude"]);
            yIndex = FindCoordinate(header, ["lat", "latitude"], ["lat", "latitude"]);
            if (xIndex < 0 || yIndex < 0)
            {
                string missing = xIndex < 0 ? "longitude" : "latitude";
                throw new TraceFormatException(
                    path,
                    $"no coordinate columns: expected x_km and y_km, or longitude and latitude columns " +
                    $"(lon/lat, lng, longitude/latitude, *_lon/*_lat); the {missing} column is missing",
                    1,
                    missing);
            }
        }

        var rows = new List<(string Id, double X, double Y)>();
        var seen = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        while (csv.ReadRecord())
        {
            TraceReader.CheckCellCount(csv, header.Length);
            string id = csv[idIndex].Trim().ToString();
            if (id.Length == 0)
            {
                throw csv.Error("empty id", idIndex);
            }

            if (!seen.TryAdd(id, csv.RecordLine))
            {
                throw csv.Error($"duplicate id '{id}' (first on line {seen[id]})", idIndex);
            }

            double x = ParseCoordinate(csv, xIndex, projected ? 180 : double.MaxValue);
            double y = ParseCoordinate(csv, yIndex, projected ? 90 : double.MaxValue);
            rows.Add((id, x, y));
        }

        if (rows.Count == 0)
        {
            throw new TraceFormatException(path, "no data rows: the file has a header but no sources", 2);
        }

        if (!projected)
        {
            return rows.Select(r => new Source(r.Id, r.X, r.Y)).ToArray();
        }

        double minLon = rows.Min(r => r.X);
        double minLat = rows.Min(r => r.Y);
        double meanLat = rows.Average(r => r.Y);
        double kmPerLon = KmPerDegreeLonAtEquator * Math.Cos(meanLat * Math.PI / 180);
        return rows.Select(r => new Source(r.Id, (r.X - minLon) * kmPerLon, (r.Y - minLat) * KmPerDegreeLat)).ToArray();
    }

    /// <summary>
    /// For each trace column, in order, the source it refers to, renamed to the column's name. A column matches the
    /// sources row whose id equals it, with or without a <c>cell_</c>/<c>area_</c>/<c>source_</c>/<c>sensor_</c>
    /// prefix on either side (column "area_17" matches id "17"). Rows the trace does not use are fine; a column with
    /// no row is a <see cref="TraceFormatException"/> naming <paramref name="sourcesFile"/> and the column.
    /// </summary>
    public static IReadOnlyList<Source> MatchColumns(
        IReadOnlyList<Source> sources,
        IEnumerable<string> traceColumnNames,
        string sourcesFile)
    {
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(traceColumnNames);
        ArgumentNullException.ThrowIfNull(sourcesFile);

        var byId = new Dictionary<string, Source>(StringComparer.OrdinalIgnoreCase);
        var byBareId = new Dictionary<string, List<Source>>(StringComparer.OrdinalIgnoreCase);
        foreach (Source source in sources)
        {
            byId.TryAdd(source.Id, source);
            string bare = StripPrefix(source.Id);
            if (!byBareId.TryGetValue(bare, out List<Source>? list))
            {
                byBareId[bare] = list = [];
            }

            list.Add(source);
        }

        var result = new List<Source>();
        foreach (string column in traceColumnNames)
        {
            string bare = StripPrefix(column);
            if (!byId.TryGetValue(column, out Source? match) && !byId.TryGetValue(bare, out match))
            {
                if (byBareId.TryGetValue(bare, out List<Source>? candidates))
                {
                    if (candidates.Count > 1)
                    {
                        throw new TraceFormatException(
                            sourcesFile,
                            $"ambiguous column '{column}': it matches ids {string.Join(", ", candidates.Select(c => $"'{c.Id}'"))} in sources file {sourcesFile}",
                            field: column);
                    }

                    match = candidates[0];
                }
                else
                {
                    throw new TraceFormatException(
                        sourcesFile, $"unknown column '{column}': not in sources file {sourcesFile}", field: column);
                }
            }

            result.Add(new Source(column, match.XKm, match.YKm));
        }

        return result;
    }

    private static string StripPrefix(string name)
    {
        foreach (string prefix in _columnPrefixes)
        {
            if (name.Length > prefix.Length && name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return name[prefix.Length..];
            }
        }

        return name;
    }

    private static int FindFirst(string[] header, string[] names)
    {
        foreach (string name in names)
        {
            int i = Array.FindIndex(header, h => h.Equals(name, StringComparison.OrdinalIgnoreCase));
            if (i >= 0)
            {
                return i;
            }
        }

        return -1;
    }

    // An exact name first (lon), then one with the name as a suffix or prefix (nearest_lte_bs_lon, lon_approx).
    private static int FindCoordinate(string[] header, string[] exact, string[] parts)
    {
        int i = FindFirst(header, exact);
        if (i >= 0)
        {
            return i;
        }

        return Array.FindIndex(header, h => parts.Any(p =>
            h.EndsWith("_" + p, StringComparison.OrdinalIgnoreCase) ||
            h.StartsWith(p + "_", StringComparison.OrdinalIgnoreCase)));
    }

    private static double ParseCoordinate(CsvRecordReader csv, int column, double limit)
    {
        ReadOnlySpan<char> text = csv[column];
        if (text.IsWhiteSpace())
        {
            throw csv.Error("missing coordinate: the cell is empty", column);
        }

        if (!CellParser.TryParseNumber(text.Trim(), out double value))
        {
            throw csv.Error($"not a number: '{CellParser.Shorten(text)}' (a coordinate must be a finite number)", column);
        }

        if (Math.Abs(value) > limit)
        {
            throw csv.Error(
                $"coordinate {value.ToString(CultureInfo.InvariantCulture)} is out of range (a {(limit == 90 ? "latitude" : "longitude")} lies within ±{limit})",
                column);
        }

        return value;
    }
}
