using System.Globalization;
using Foresight.Core.Traffic;

namespace Foresight.Ingest;

/// <summary>
/// Reads a traffic trace (CSV, plain or gzip) into a <see cref="TraceTable"/>, streaming: values are parsed as they
/// are read and kept only as doubles, so multi-million-row traces never sit in memory as text.
/// </summary>
/// <remarks>
/// <para>Gzip is recognised by its magic bytes (1f 8b), whatever the file is called; every member's CRC and length
/// are checked, so a truncated file is an error rather than a shorter trace.</para>
/// <para>The header decides the shape. A header naming any of <c>app</c>, <c>type</c>, <c>source</c> or <c>volume</c>
/// is the long format; anything else is the wide format.</para>
/// <para><b>Wide</b>: a time column first, then one numeric column per source, keyed
/// <c>TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, columnName)</c>. Time-like columns directly after the
/// first (<c>timestamp*</c>, <c>date*</c>, <c>*_utc</c>, <c>*_local*</c>, <c>*time*</c>) are ignored. Times must
/// increase strictly from row to row.</para>
/// <para><b>Long</b>: columns <c>time</c> (or <c>timestamp</c>), <c>app</c>, optional <c>type</c>, <c>source</c>,
/// <c>volume</c>, in any order and any case. Rows with the same time form one time point, times never decrease,
/// a (time, key) pair absent from the file is a volume of 0, and the same pair twice is an error. Keys are
/// <c>(app, type or TraceTable.DefaultType, source)</c> in order of first appearance.</para>
/// <para>Time: numbers in the unit named by the column ("hour", "minute", "day", "millisecond"/"_ms", else seconds),
/// or ISO-8601 timestamps with offset or Z (real instants, so DST offset changes are handled; no offset means UTC;
/// <see cref="TraceTable.StartTime"/> is the first row's instant, null for numeric time).</para>
/// <para>Wide columns whose names look like time (<c>date*</c>, <c>*time*</c>, ...) are dropped when they directly
/// follow the time column, so a source column must not be named like one in that position.</para>
/// <para>An empty cell is a missing reading, filled by <see cref="TraceReadOptions.Fill"/> and counted per column in
/// <see cref="TraceTable.Fills"/> (column name for wide traces, <c>app/type/source</c> for long ones).</para>
/// <para>With <see cref="TraceReadOptions.RegularGrid"/> the time points are placed on a regular grid (step given or
/// inferred, see <see cref="TimeGrid"/>): each moves to its nearest step, a step no row falls on is a missing reading
/// in every column, filled and counted like an empty cell (<see cref="FillReport.FilledSteps"/>), and two time points
/// on one step are an error naming both lines. Times then start at the first step, which may lie a little before or
/// after the first row's time.</para>
/// <para>Every problem in the file is a <see cref="TraceFormatException"/> naming the file, line and column.</para>
/// </remarks>
public static class TraceReader
{
    private static readonly string[] _longColumns = ["app", "type", "source", "volume"];

    // A grid may invent at most this many steps per row read (90% of it) before it is refused as too sparse.
    private const int MaxMissingStepsPerRow = 9;

    public static TraceTable Read(string path, TraceReadOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        options ??= TraceReadOptions.Default;
        options.Validate();

        using CsvRecordReader csv = CsvRecordReader.Open(path);
        if (!csv.ReadRecord())
        {
            throw new TraceFormatException(path, "empty file: expected a header line", 1);
        }

        string[] header = ReadHeader(csv);
        bool isLong = header.Any(h => _longColumns.Contains(h, StringComparer.OrdinalIgnoreCase));
        return isLong ? ReadLong(csv, header, options) : ReadWide(csv, header, options);
    }

    /// <summary>True for names of extra time columns that wide traces carry after the first (ignored).</summary>
    internal static bool IsTimeLike(string name)
    {
        string n = name.ToLowerInvariant();
        return n.StartsWith("timestamp", StringComparison.Ordinal) ||
               n.StartsWith("date", StringComparison.Ordinal) ||
               n.EndsWith("_utc", StringComparison.Ordinal) ||
               n.Contains("_local", StringComparison.Ordinal) ||
               n.Contains("time", StringComparison.Ordinal);
    }

    internal static string[] ReadHeader(CsvRecordReader csv)
    {
        var header = new string[csv.FieldCount];
        var seen = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < header.Length; i++)
        {
            header[i] = csv[i].Trim().ToString();
            if (header[i].Length == 0)
            {
                throw new TraceFormatException(csv.File, "empty column name in the header", 1, $"column {i + 1}");
            }

            if (!seen.TryAdd(header[i], i))
            {
                throw new TraceFormatException(
                    csv.File,
                    $"duplicate column name '{header[i]}' (columns {seen[header[i]] + 1} and {i + 1})",
                    1,
                    header[i]);
            }
        }

        csv.Header = header;
        return header;
    }

    internal static void CheckCellCount(CsvRecordReader csv, int expected)
    {
        int got = csv.FieldCount;
        if (got == expected)
        {
            return;
        }

        string problem = $"ragged row: expected {expected} cells (as in the header), got {got}";
        // Name the first missing column, or the last real one when there are extra cells.
        throw got < expected
            ? csv.Error(problem, got)
            : csv.Error(problem + $"; extra cells after the last column '{csv.ColumnName(expected - 1)}'", expected - 1);
    }

    private static TraceTable ReadWide(CsvRecordReader csv, string[] header, TraceReadOptions options)
    {
        int firstSource = 1;
        while (firstSource < header.Length && IsTimeLike(header[firstSource]))
        {
            firstSource++;
        }

        int sourceCount = header.Length - firstSource;
        if (sourceCount == 0)
        {
            throw new TraceFormatException(
                csv.File,
                "no source columns: a wide trace needs a time column followed by one numeric column per source",
                1,
                header[0]);
        }

        var time = new TimeColumn(csv, 0, header[0]);
        var times = new ChunkedColumn();
        ChunkedColumn? lines = options.RegularGrid ? new ChunkedColumn() : null;   // each row's line, to name a grid collision
        var columns = new ChunkedColumn[sourceCount];
        for (int j = 0; j < sourceCount; j++)
        {
            columns[j] = new ChunkedColumn();
        }

        double previous = double.NegativeInfinity;
        while (csv.ReadRecord())
        {
            CheckCellCount(csv, header.Length);
            double t = time.Parse();
            CheckOrder(csv, t, previous, strictly: true);
            previous = t;
            times.Add(t);
            lines?.Add(csv.RecordLine);
            for (int j = 0; j < sourceCount; j++)
            {
                columns[j].Add(CellParser.ParseReading(csv, firstSource + j, options.MaxValue));
            }
        }

        if (times.Count == 0)
        {
            throw new TraceFormatException(csv.File, "no data rows: the file has a header but no rows", 2);
        }

        var keys = new TrafficKey[sourceCount];
        var names = new string[sourceCount];
        for (int j = 0; j < sourceCount; j++)
        {
            names[j] = header[firstSource + j];
            keys[j] = new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, names[j]);
        }

        return Build(csv, time, header[0], times, lines, keys, names, columns, options);
    }

    private static TraceTable ReadLong(CsvRecordReader csv, string[] header, TraceReadOptions options)
    {
        int timeIndex = -1, appIndex = -1, typeIndex = -1, sourceIndex = -1, volumeIndex = -1;
        for (int i = 0; i < header.Length; i++)
        {
            switch (header[i].ToLowerInvariant())
            {
                case "time" or "timestamp" when timeIndex < 0:
                    timeIndex = i;
                    break;
                case "time" or "timestamp":
                    throw new TraceFormatException(
                        csv.File, $"two time columns ('{header[timeIndex]}' and '{header[i]}')", 1, header[i]);
                case "app":
                    appIndex = i;
                    break;
                case "type":
                    typeIndex = i;
                    break;
                case "source":
                    sourceIndex = i;
                    break;
                case "volume":
                    volumeIndex = i;
                    break;
                default:
                    throw new TraceFormatException(
                        csv.File,
                        $"unknown column '{header[i]}' in a long-format trace (allowed: time or timestamp, app, type, source, volume)",
                        1,
                        header[i]);
            }
        }

        RequireColumn(csv, timeIndex, "time");
        RequireColumn(csv, appIndex, "app");
        RequireColumn(csv, sourceIndex, "source");
        RequireColumn(csv, volumeIndex, "volume");

        var time = new TimeColumn(csv, timeIndex, header[timeIndex]);
        var times = new ChunkedColumn();
        ChunkedColumn? lines = options.RegularGrid ? new ChunkedColumn() : null;   // each time point's first line
        var keyIndex = new Dictionary<TrafficKey, int>();
        var keys = new List<TrafficKey>();
        var columns = new List<ChunkedColumn>();
        var lastSetLine = new List<long>();      // line that set the key's value at the current time (0 = none)
        var lastSetGroup = new List<int>();
        var strings = new Dictionary<string, string>(StringComparer.Ordinal);
        Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> intern = strings.GetAlternateLookup<ReadOnlySpan<char>>();

        double previous = double.NegativeInfinity;
        while (csv.ReadRecord())
        {
            CheckCellCount(csv, header.Length);
            double t = time.Parse();
            CheckOrder(csv, t, previous, strictly: false, timeIndex);
            if (t > previous || times.Count == 0)
            {
                // A new time point: every known key reads 0 there until a row says otherwise.
                times.Add(t);
                lines?.Add(csv.RecordLine);
                foreach (ChunkedColumn column in columns)
                {
                    column.Add(0);
                }
            }

            previous = t;
            int group = times.Count - 1;
            string app = Intern(csv, intern, appIndex, "app", required: true);
            string type = typeIndex < 0 ? TraceTable.DefaultType : Intern(csv, intern, typeIndex, "type", required: false);
            string source = Intern(csv, intern, sourceIndex, "source", required: true);
            var key = new TrafficKey(app, type, source);
            if (!keyIndex.TryGetValue(key, out int k))
            {
                k = keys.Count;
                keyIndex.Add(key, k);
                keys.Add(key);
                var column = new ChunkedColumn();
                column.AddRepeated(0, times.Count);
                columns.Add(column);
                lastSetLine.Add(0);
                lastSetGroup.Add(-1);
            }
            else if (lastSetGroup[k] == group)
            {
                throw csv.Error(
                    $"duplicate row: time '{CellParser.Shorten(csv[timeIndex])}' and key {key} already appear on line {lastSetLine[k]}",
                    sourceIndex);
            }

            columns[k].SetLast(CellParser.ParseReading(csv, volumeIndex, options.MaxValue));
            lastSetGroup[k] = group;
            lastSetLine[k] = csv.RecordLine;
        }

        if (times.Count == 0)
        {
            throw new TraceFormatException(csv.File, "no data rows: the file has a header but no rows", 2);
        }

        string[] names = keys.Select(k => k.ToString()).ToArray();
        return Build(csv, time, header[timeIndex], times, lines, keys.ToArray(), names, columns.ToArray(), options);
    }

    private static void RequireColumn(CsvRecordReader csv, int index, string name)
    {
        if (index < 0)
        {
            throw new TraceFormatException(
                csv.File,
                $"missing required column '{name}': a header naming app, type, source or volume is a long-format trace " +
                "and needs time (or timestamp), app, source and volume (type is optional)",
                1,
                name);
        }
    }

    private static string Intern(
        CsvRecordReader csv,
        Dictionary<string, string>.AlternateLookup<ReadOnlySpan<char>> intern,
        int column,
        string what,
        bool required)
    {
        ReadOnlySpan<char> text = csv[column].Trim();
        if (text.IsEmpty)
        {
            if (required)
            {
                throw csv.Error($"empty {what}: every long-format row needs one", column);
            }

            return TraceTable.DefaultType;
        }

        if (!intern.TryGetValue(text, out string? value))
        {
            value = text.ToString();
            intern[text] = value;
        }

        return value;
    }

    private static void CheckOrder(CsvRecordReader csv, double t, double previous, bool strictly, int column = 0)
    {
        if (t > previous || (!strictly && t == previous))
        {
            return;
        }

        string when = FormatSeconds(t);
        string before = FormatSeconds(previous);
        throw t < previous
            ? csv.Error($"time going backwards: {when} s after {before} s on the previous row (rows must be sorted by time)", column)
            : csv.Error($"time repeating: the same time as the previous row ({when} s after the first row)", column);
    }

    private static string FormatSeconds(double seconds) => seconds.ToString("0.###", CultureInfo.InvariantCulture);

    private static TraceTable Build(
        CsvRecordReader csv,
        TimeColumn time,
        string timeName,
        ChunkedColumn times,
        ChunkedColumn? lines,
        TrafficKey[] keys,
        string[] names,
        ChunkedColumn[] columns,
        TraceReadOptions options)
    {
        double[] timeSeconds = times.ToArray();
        DateTimeOffset? startTime = time.StartTime;
        TimeGrid.Placement? grid = null;
        if (lines is not null && timeSeconds.Length >= 2)
        {
            grid = PlaceOnGrid(csv, time, timeName, timeSeconds, lines.ToArray(), options);
            timeSeconds = new double[grid.SlotCount];
            for (int i = 0; i < timeSeconds.Length; i++)
            {
                timeSeconds[i] = i * grid.StepSeconds;
            }

            startTime = startTime?.AddTicks((long)Math.Round(grid.FirstSlotSeconds * TimeSpan.TicksPerSecond));
        }

        var values = new double[columns.Length][];
        var filledByColumn = new Dictionary<string, long>(StringComparer.Ordinal);
        long filled = 0;
        for (int j = 0; j < columns.Length; j++)
        {
            values[j] = columns[j].ToArray();
            columns[j] = null!;     // let each column's chunks go as soon as it is copied
            if (grid is not null && grid.MissingSteps > 0)
            {
                // A step no row fell on is a missing reading, filled like an empty cell.
                var spread = new double[grid.SlotCount];
                Array.Fill(spread, double.NaN);
                for (int r = 0; r < grid.Slots.Length; r++)
                {
                    spread[grid.Slots[r]] = values[j][r];
                }

                values[j] = spread;
            }

            long n = MissingValueFill.Apply(timeSeconds, values[j], options.Fill);
            if (n < 0)
            {
                throw new TraceFormatException(
                    csv.File,
                    $"column '{names[j]}' has no readings: every cell is empty (lines 2 to {csv.RecordLine}), so there is nothing to fill from",
                    2,
                    names[j]);
            }

            if (n > 0)
            {
                filledByColumn[names[j]] = n;
                filled += n;
            }
        }

        var fills = new FillReport(TraceReadOptions.RuleName(options.Fill), filled, filledByColumn);
        if (grid is not null)
        {
            fills = fills with
            {
                GridStepSeconds = grid.StepSeconds,
                FilledSteps = grid.MissingSteps,
                FilledStepCells = grid.MissingSteps * columns.Length,
                SnappedRows = grid.SnappedRows,
                MaxSnapSeconds = grid.MaxSnapSeconds,
            };
        }
        else if (lines is not null && options.StepSeconds is double step)
        {
            fills = fills with { GridStepSeconds = step };
        }

        return new TraceTable(csv.File, timeSeconds, startTime, keys, values, fills);
    }

    // A grid with two rows on one step, or one mostly invented, is an error naming the file (and the lines).
    private static TimeGrid.Placement PlaceOnGrid(
        CsvRecordReader csv, TimeColumn time, string timeName, double[] timeSeconds, double[] lines, TraceReadOptions options)
    {
        bool inferred = options.StepSeconds is null;
        double step = options.StepSeconds ?? TimeGrid.InferStep(timeSeconds);
        TimeGrid.Placement grid = TimeGrid.Place(timeSeconds, time.OriginSeconds, step);
        string stepText = $"{FormatSeconds(step)} s";
        string hint = inferred
            ? $"the step of {stepText} was inferred from the median gap between rows; if the data's step is different, give it explicitly"
            : $"the step of {stepText} was given; if the data's step is shorter, give that instead";
        if (grid.Collision >= 0)
        {
            int r = grid.Collision;
            throw new TraceFormatException(
                csv.File,
                $"time {DescribeTime(time, timeSeconds[r])} falls on the same {stepText} step as line {(long)lines[r - 1]} " +
                $"({DescribeTime(time, timeSeconds[r - 1])}): two readings for one step ({hint})",
                (long)lines[r],
                timeName);
        }

        if (inferred && grid.SpreadSeconds >= step / 2)
        {
            // Jitter is a few seconds; rows half a step apart relative to their steps do not follow this grid at all.
            (int first, int second) = (Math.Min(grid.EarliestRow, grid.LatestRow), Math.Max(grid.EarliestRow, grid.LatestRow));
            throw new TraceFormatException(
                csv.File,
                $"the rows do not follow one {stepText} step: time {DescribeTime(time, timeSeconds[second])} and line {(long)lines[first]}'s " +
                $"{DescribeTime(time, timeSeconds[first])} lie {FormatSeconds(grid.SpreadSeconds)} s apart relative to their steps, " +
                $"half a step or more ({hint})",
                (long)lines[second],
                timeName);
        }

        if (grid.MissingSteps > MaxMissingStepsPerRow * (double)timeSeconds.Length)
        {
            throw new TraceFormatException(
                csv.File,
                $"too sparse for a regular grid: {grid.MissingSteps} of the {grid.SlotCount} steps between the first and the last row " +
                $"(lines {(long)lines[0]} to {(long)lines[^1]}) have no row, more than {MaxMissingStepsPerRow} per row ({hint})",
                field: timeName);
        }

        return grid;
    }

    // A time as the file gave it: an instant for timestamps (in the first row's offset), else seconds after the first row.
    private static string DescribeTime(TimeColumn time, double seconds) =>
        time.StartTime is DateTimeOffset start
            ? start.AddTicks((long)Math.Round(seconds * TimeSpan.TicksPerSecond)).ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture)
            : $"{FormatSeconds(seconds)} s after the first row";
}
