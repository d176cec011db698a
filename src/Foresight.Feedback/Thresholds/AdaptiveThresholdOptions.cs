namespace Foresight.Feedback.Thresholds;

/// <summary>Bounds and rates for <see cref="AdaptiveThresholds"/>. Validate() names the first invalid setting.</summary>
public sealed record AdaptiveThresholdOptions
{
    public double InitialConfidence { get; init; } = 0.6;

    public double MinConfidence { get; init; } = 0.5;

    public double MaxConfidence { get; init; } = 0.9;

    /// <summary>Change of the confidence threshold per adjustment.</summary>
    public double ConfidenceStep { get; init; } = 0.02;

    public double InitialShift { get; init; } = 0.1;

    public double MinShift { get; init; } = 0.05;

    public double MaxShift { get; init; } = 0.5;

    /// <summary>Change of the shift threshold per adjustment.</summary>
    public double ShiftStep { get; init; } = 0.02;

    /// <summary>Below this precision (acted shifts that were real) the controller acts too eagerly.</summary>
    public double TargetPrecision { get; init; } = 0.7;

    /// <summary>Below this recall (real shifts acted on) the controller misses shifts.</summary>
    public double TargetRecall { get; init; } = 0.7;

    /// <summary>
    /// A rate counts as short of its target only below target minus this band, and no move is made while it is inside:
    /// about one standard error of a rate near 0.7 measured on <see cref="MinDecisions"/> decisions (√(0.7·0.3/30) ≈ 0.08),
    /// so noise in the measurement does not move the thresholds.
    /// </summary>
    public double Band { get; init; } = 0.1;

    /// <summary>
    /// Scored decisions made under the current thresholds needed before precision (positives) or recall (real shifts) is
    /// trusted: the usual large-sample minimum for a proportion.
    /// </summary>
    public int MinDecisions { get; init; } = 30;

    /// <summary>At or above this MASE the forecasts are no better than seasonal naive: be more conservative.</summary>
    public double ConservativeMase { get; init; } = 1.0;

    /// <summary>Below this MASE the forecasts are clearly good: the shift threshold may relax towards its minimum.</summary>
    public double RelaxMase { get; init; } = 0.8;

    /// <summary>
    /// Minimum seconds between adjustments (dwell), so each change can show its effect before the next: twice the
    /// longest lead time plus hold of the built-in apps (about 45 s start-up + 60 s warm-up + 30 s hold), rounded up.
    /// </summary>
    public double CooldownSeconds { get; init; } = 300;

    /// <summary>Changes kept in <see cref="AdaptiveThresholds.History"/> (oldest dropped first).</summary>
    public int HistoryCapacity { get; init; } = 256;

    public string? Validate()
    {
        if (!(MinConfidence is > 0 and < 1) || !(MaxConfidence is > 0 and < 1) || !(MinConfidence <= MaxConfidence))
        {
            return nameof(MaxConfidence);
        }

        if (!(InitialConfidence >= MinConfidence && InitialConfidence <= MaxConfidence))
        {
            return nameof(InitialConfidence);
        }

        if (!(MinShift >= 0) || !(MinShift <= MaxShift) || double.IsInfinity(MaxShift))
        {
            return nameof(MaxShift);
        }

        if (!(InitialShift >= MinShift && InitialShift <= MaxShift))
        {
            return nameof(InitialShift);
        }

        if (!(ConfidenceStep > 0) || double.IsInfinity(ConfidenceStep))
        {
            return nameof(ConfidenceStep);
        }

        if (!(ShiftStep > 0) || double.IsInfinity(ShiftStep))
        {
            return nameof(ShiftStep);
        }

        if (!(TargetPrecision is >= 0 and <= 1) || !(TargetRecall is >= 0 and <= 1))
        {
            return !(TargetPrecision is >= 0 and <= 1) ? nameof(TargetPrecision) : nameof(TargetRecall);
        }

        if (!(Band is >= 0 and < 1))
        {
            return nameof(Band);
        }

        if (MinDecisions < 1)
        {
            return nameof(MinDecisions);
        }

        if (!(RelaxMase > 0) || !(RelaxMase <= ConservativeMase) || double.IsInfinity(ConservativeMase))
        {
            return nameof(RelaxMase);
        }

        if (!(CooldownSeconds >= 0) || double.IsInfinity(CooldownSeconds))
        {
            return nameof(CooldownSeconds);
        }

        return HistoryCapacity < 1 ? nameof(HistoryCapacity) : null;
    }
}
