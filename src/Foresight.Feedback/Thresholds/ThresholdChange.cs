namespace Foresight.Feedback.Thresholds;

public enum ThresholdKind
{
    /// <summary><c>PredictiveOptions.ConfidenceThreshold</c>.</summary>
    Confidence,

    /// <summary><c>PredictiveOptions.TrafficShiftThreshold</c>.</summary>
    Shift,
}

/// <summary>One change of a threshold, with why it was made.</summary>
/// <param name="Time">Seconds (the caller's clock) when the change was made.</param>
public sealed record ThresholdChange(double Time, ThresholdKind Threshold, double OldValue, double NewValue, string Reason);

/// <summary>
/// Outcomes of scored decisions over some recent window. A positive is a predicted shift acted on; it is true when the
/// shift was real. A false negative is a real shift the controller did not predict.
/// </summary>
public readonly record struct DecisionCounts(int TruePositives, int FalsePositives, int FalseNegatives)
{
    /// <summary>TP / (TP + FP), or null without any positive.</summary>
    public double? Precision => TruePositives + FalsePositives > 0 ? (double)TruePositives / (TruePositives + FalsePositives) : null;

    /// <summary>TP / (TP + FN), or null without any real shift.</summary>
    public double? Recall => TruePositives + FalseNegatives > 0 ? (double)TruePositives / (TruePositives + FalseNegatives) : null;
}
