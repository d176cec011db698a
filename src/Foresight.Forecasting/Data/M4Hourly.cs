using System.Globalization;
using System.IO.Compression;
using Foresight.Core;

namespace Foresight.Forecasting.Data;

/// <summary>One row of <c>m4_official_results_hourly.csv</c> (missing numbers are null).</summary>
public sealed record M4OfficialRow(string MethodId, string Team, string Type, double? SMape, double? Mase, double? Owa, double? Msis, double? Acd);

/// <summary>
/// The M4 Hourly data set: 414 series, horizon 48, m = 24, no timestamps. Files as in the M4-methods repository
/// (wide CSV, quoted, ragged rows padded with empty cells), optionally gzip.
/// </summary>
public static class M4Hourly
{
    public const int Horizon = 48;
    public const int SeasonLength = 24;

    /// <summary>Loads <c>Hourly-train.csv(.gz)</c> and <c>Hourly-test.csv(.gz)</c> from a directory.</summary>
    /// <returns>The training series (step one hour, m = 24) and the test values per series, in the same order.</returns>
    public static (SeriesSet Train, double[][] Test) Load(string directory)
    {
        string train = Find(directory, "Hourly-train.csv");
        string test = Find(directory, "Hourly-test.csv");
        List<(string Id, double[] Values)> trainRows = ReadWide(train);
        List<(string Id, double[] Values)> testRows = ReadWide(test);
        if (trainRows.Count != testRows.Count)
        {
            throw new InvalidInputException(test, $"{testRows.Count} test rows for {trainRows.Count} training rows.");
        }

        var series = new Series[trainRows.Count];
        var actual = new double[trainRows.Count][];
        for (int i = 0; i < series.Length; i++)
        {
            if (trainRows[i].Id != testRows[i].Id)
            {
                throw new InvalidInputException(test, $"row {i + 2} is '{testRows[i].Id}' but the training row is '{trainRows[i].Id}'.", i + 2);
            }

            series[i] = new Series(trainRows[i].Id, trainRows[i].Values);
            actual[i] = testRows[i].Values;
        }

        return (new SeriesSet(TimeSpan.FromHours(1), series, seasonLength: SeasonLength, source: train), actual);
    }

    /// <summary>Reads the official Hourly table.</summary>
    public static IReadOnlyList<M4OfficialRow> LoadOfficial(string path)
    {
        var rows = new List<M4OfficialRow>();
        foreach (string line in File.ReadLines(path).Skip(1))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            string[] f = line.Split(',');
            rows.Add(new M4OfficialRow(f[0], f[1], f[2], Num(f, 3), Num(f, 4), Num(f, 5), Num(f, 6), Num(f, 7)));
        }

        return rows;
    }

    private static double? Num(string[] f, int i) =>
        i < f.Length && double.TryParse(f[i], NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : null;

    private static string Find(string directory, string name)
    {
        foreach (string candidate in new[] { Path.Combine(directory, name + ".gz"), Path.Combine(directory, name) })
        {
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidInputException(directory, $"neither {name} nor {name}.gz exists here.");
    }

    /// <summary>Reads an M4 wide CSV: first cell the id, then values until the first empty cell.</summary>
    public static List<(string Id, double[] Values)> ReadWide(string path)
    {
        using Stream file = File.OpenRead(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
        using var reader = new StreamReader(stream);
        var rows = new List<(string, double[])>();
        _ = reader.ReadLine(); // header
        long lineNo = 1;
        var values = new List<double>();
        while (reader.ReadLine() is { } line)
        {
            lineNo++;
            if (line.Length == 0)
            {
                continue;
            }

            string[] cells = line.Split(',');
            string id = cells[0].Trim('"');
            values.Clear();
            for (int c = 1; c < cells.Length; c++)
            {
                string cell = cells[c].Trim('"');
                if (cell.Length == 0)
                {
                    break;
                }

                if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
                {
                    throw new InvalidInputException(path, $"'{cell}' is not a number.", lineNo, $"V{c + 1}");
                }

                values.Add(v);
            }

            if (values.Count == 0)
            {
                throw new InvalidInputException(path, $"series '{id}' is empty.", lineNo);
            }

            rows.Add((id, values.ToArray()));
        }

        return rows;
    }
}
