namespace Foresight.Feedback.Retraining;

/// <summary>Why a model was retrained (the values appear in status and JSON).</summary>
public static class RetrainTrigger
{
    /// <summary>The first fit, after the warm-up.</summary>
    public const string WarmUp = "warm-up";

    /// <summary>The periodic retrain.</summary>
    public const string Schedule = "schedule";

    /// <summary>The drift detector fired on the forecast-error stream.</summary>
    public const string Drift = "drift";

    /// <summary>The app fell back to reactive-only because its forecasts were worse than seasonal naive.</summary>
    public const string Fallback = "fallback";
}

/// <summary>One retrain of one app's model, for status and results.</summary>
/// <param name="Time">Seconds (caller's clock) when it was triggered; training used the data up to then.</param>
/// <param name="SwappedAt">When the new model was published, or null if it is still training or failed.</param>
/// <param name="TrainWallSeconds">Wall-clock seconds the fit took (off the prediction path).</param>
/// <param name="TrainingBuckets">Buckets of recent history it was trained on.</param>
/// <param name="MaseBefore">Rolling MASE when it was triggered.</param>
/// <param name="MaseAfter">MASE of the forecasts scored over the first buckets after the swap, once measured.</param>
/// <param name="Error">Why the fit failed (the old model was kept), else null.</param>
public sealed record RetrainRecord(
    int App,
    double Time,
    string Trigger,
    double? SwappedAt,
    double TrainWallSeconds,
    int TrainingBuckets,
    double? MaseBefore,
    double? MaseAfter,
    string? Error = null);
