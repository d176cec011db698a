namespace Foresight.Ingest;

/// <summary>How an empty cell (a missing reading) is filled.</summary>
public enum FillRule
{
    /// <summary>
    /// Report name "linear-interpolation". A missing reading is interpolated linearly in time between the nearest
    /// readings of the same column before and after it: v = a + (b − a)·(t − tₐ)/(t_b − tₐ), so the filled value
    /// always lies between its two neighbours. A gap at the start or end of a column takes the nearest reading.
    /// </summary>
    LinearInterpolation,

    /// <summary>
    /// Report name "carry-forward". A missing reading repeats the previous reading of the same column.
    /// A gap at the start of a column takes the first reading (there is nothing to carry).
    /// </summary>
    CarryForward,
}

/// <summary>Options for <see cref="TraceReader.Read"/>.</summary>
public sealed record TraceReadOptions
{
    public static TraceReadOptions Default { get; } = new();

    /// <summary>
    /// How empty cells are filled (default <see cref="FillRule.LinearInterpolation"/>). Under either rule a column
    /// with no reading at all is an error, and every filled cell is counted per column in <c>TraceTable.Fills</c>.
    /// </summary>
    public FillRule Fill { get; init; } = FillRule.LinearInterpolation;

    /// <summary>Readings above this are rejected as absurd (a unit or parsing mistake upstream). Default 1e12.</summary>
    public double MaxValue { get; init; } = 1e12;

    /// <summary>
    /// Place the rows on a regular time grid (default false: times are kept as read). The step is
    /// <see cref="StepSeconds"/>, or inferred from the rows; each row moves to its nearest step (a timestamp a few
    /// seconds off is put back on the grid), a step no row falls on is a missing reading in every column (filled by
    /// <see cref="Fill"/> and counted in <c>TraceTable.Fills</c>), and two rows on one step are an error naming
    /// their lines. See <see cref="TimeGrid"/> for how the step and the grid's phase are chosen.
    /// </summary>
    public bool RegularGrid { get; init; }

    /// <summary>The grid step in seconds when <see cref="RegularGrid"/> is set; null (default) infers it.</summary>
    public double? StepSeconds { get; init; }

    internal static string RuleName(FillRule rule) => rule switch
    {
        FillRule.LinearInterpolation => "linear-interpolation",
        FillRule.CarryForward => "carry-forward",
        _ => throw new ArgumentOutOfRangeException(nameof(rule), rule, "Unknown fill rule."),
    };

    internal void Validate()
    {
        if (!Enum.IsDefined(Fill))
        {
            throw new ArgumentOutOfRangeException(nameof(Fill), Fill, "Unknown fill rule.");
        }

        if (!(MaxValue > 0) || double.IsNaN(MaxValue))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxValue), MaxValue, "MaxValue must be positive.");
        }

        if (StepSeconds is double step && (!(step > 0) || double.IsInfinity(step)))
        {
            throw new ArgumentOutOfRangeException(nameof(StepSeconds), step, "StepSeconds must be positive and finite.");
        }

        if (StepSeconds is not null && !RegularGrid)
        {
            throw new ArgumentException("StepSeconds is the step of the regular grid: set RegularGrid too.", nameof(StepSeconds));
        }
    }
}
