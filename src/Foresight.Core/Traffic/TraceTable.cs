namespace Foresight.Core.Traffic;

/// <summary>
/// A traffic trace in columnar form: one value column per <see cref="TrafficKey"/>, one row per time point.
/// Values are volumes per row interval (for example requests per hour). Rows are strictly increasing in time.
/// </summary>
public sealed class TraceTable
{
    /// <summary>The app name used for wide traces, whose columns are sources shared by every application.</summary>
    public const string AnyApp = "*";

    /// <summary>The traffic type used when a trace does not distinguish types.</summary>
    public const string DefaultType = "default";

    public TraceTable(
        string name,
        double[] timeSeconds,
        DateTimeOffset? startTime,
        IReadOnlyList<TrafficKey> keys,
        double[][] values,
        FillReport fills)
    {
        ArgumentNullException.ThrowIfNull(timeSeconds);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(values);
        if (keys.Count != values.Length)
        {
            throw new ArgumentException("One value column is needed per key.", nameof(values));
        }

        foreach (double[] column in values)
        {
            if (column.Length != timeSeconds.Length)
            {
                throw new ArgumentException("Every value column needs one value per time point.", nameof(values));
            }
        }

        for (int i = 1; i < timeSeconds.Length; i++)
        {
            if (!(timeSeconds[i] > timeSeconds[i - 1]))
            {
                throw new ArgumentException($"Time must increase strictly (row {i}).", nameof(timeSeconds));
            }
        }

        Name = name;
        TimeSeconds = timeSeconds;
        StartTime = startTime;
        Keys = keys;
        Values = values;
        Fills = fills;
    }

    /// <summary>Where the trace came from (usually its file path).</summary>
    public string Name { get; }

    /// <summary>Seconds since the first row, one per row.</summary>
    public double[] TimeSeconds { get; }

    /// <summary>Wall-clock time of the first row, when the trace has timestamps.</summary>
    public DateTimeOffset? StartTime { get; }

    public IReadOnlyList<TrafficKey> Keys { get; }

    /// <summary>[key][row] volumes.</summary>
    public double[][] Values { get; }

    public FillReport Fills { get; }

    public int RowCount => TimeSeconds.Length;

    /// <summary>The typical row interval (the median gap), in seconds.</summary>
    public double StepSeconds
    {
        get
        {
            if (TimeSeconds.Length < 2)
            {
                return 1;
            }

            var gaps = new double[TimeSeconds.Length - 1];
            for (int i = 1; i < TimeSeconds.Length; i++)
            {
                gaps[i - 1] = TimeSeconds[i] - TimeSeconds[i - 1];
            }

            Array.Sort(gaps);
            return gaps[gaps.Length / 2];
        }
    }

    /// <summary>Trace duration: the last row's start plus one step.</summary>
    public double DurationSeconds => TimeSeconds.Length == 0 ? 0 : TimeSeconds[^1] + StepSeconds;
}

/// <summary>How missing readings (empty cells, and whole missing steps of a trace read onto a grid) were filled.</summary>
/// <param name="Rule">The rule applied, e.g. "linear-interpolation".</param>
/// <param name="FilledCells">Total cells filled: the empty cells plus, per missing step, one cell per column.</param>
/// <param name="FilledByColumn">Cells filled per column name (only columns with fills), missing steps included.</param>
public sealed record FillReport(string Rule, long FilledCells, IReadOnlyDictionary<string, long> FilledByColumn)
{
    public static FillReport None { get; } = new("none", 0, new Dictionary<string, long>());

    /// <summary>The grid step when the rows were placed on a regular grid; null when times were kept as read.</summary>
    public double? GridStepSeconds { get; init; }

    /// <summary>Grid steps no row fell on: each is a missing reading in every column (counted in <see cref="FilledCells"/> too).</summary>
    public long FilledSteps { get; init; }

    /// <summary>Rows whose time was off the grid and was moved onto its nearest step.</summary>
    public long SnappedRows { get; init; }

    /// <summary>The largest such move, in seconds.</summary>
    public double MaxSnapSeconds { get; init; }

    /// <summary>The cells of the missing steps: <see cref="FilledSteps"/> × the number of columns.</summary>
    public long FilledStepCells { get; init; }

    /// <summary>Filled cells that were empty in the file (the rest of <see cref="FilledCells"/>).</summary>
    public long FilledEmptyCells => FilledCells - FilledStepCells;

    /// <summary>
    /// One line for a warning, e.g. "40 missing readings filled by linear-interpolation, 36 of them in 12 missing
    /// steps of 300 s; 87 rows moved onto the 300 s grid (at most 4 s)"; null when nothing was filled or moved.
    /// </summary>
    /// <param name="detail">Put in parentheses after the count of fills (e.g. the columns with most fills).</param>
    public string? Describe(string? detail = null)
    {
        var parts = new List<string>();
        if (FilledCells > 0)
        {
            string fills = $"{Count(FilledCells, "missing reading")} filled by {Rule}" + (string.IsNullOrEmpty(detail) ? "" : $" ({detail})");
            if (FilledSteps > 0)
            {
                fills += $", {FilledStepCells} of them in {Count(FilledSteps, "missing step")} of {Seconds(GridStepSeconds ?? 0)} s";
            }

            parts.Add(fills);
        }

        if (SnappedRows > 0)
        {
            parts.Add($"{Count(SnappedRows, "row")} moved onto the {Seconds(GridStepSeconds ?? 0)} s grid (at most {Seconds(MaxSnapSeconds)} s)");
        }

        return parts.Count == 0 ? null : string.Join("; ", parts);
    }

    private static string Count(long n, string noun) => n == 1 ? $"1 {noun}" : $"{n} {noun}s";

    private static string Seconds(double seconds) => seconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
}
