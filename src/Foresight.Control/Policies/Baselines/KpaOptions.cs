namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// Settings of the Knative Pod Autoscaler baseline (concurrency metric). Defaults are the config-autoscaler defaults
/// in knative/serving pkg/autoscaler/config/config.go; only <see cref="TargetPerPod"/> and the bounds are ours.
/// Docs: https://knative.dev/docs/serving/autoscaling/kpa-specific/ and
/// https://knative.dev/docs/serving/autoscaling/scale-bounds/
/// </summary>
public sealed record KpaOptions
{
    /// <summary>Knative's TargetMin: the smallest allowed per-pod target.</summary>
    public const double TargetMin = 0.01;

    /// <summary>Averaging window of stable mode, and how long panic lasts after the last trigger (<c>stable-window</c>, default 60 s, 6 s ≤ w ≤ 1 h).</summary>
    public TimeSpan StableWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Panic window as a percentage of the stable window (<c>panic-window-percentage</c>, default 10 → 6 s).</summary>
    public double PanicWindowPercentage { get; init; } = 10.0;

    /// <summary>Panic when the panic-window demand needs this percentage of the ready pods (<c>panic-threshold-percentage</c>, default 200).</summary>
    public double PanicThresholdPercentage { get; init; } = 200.0;

    /// <summary>
    /// Concurrency each pod should carry. Knative resolves it as containerConcurrency × target utilization
    /// (ResolveMetricTarget in pkg/reconciler/autoscaling/resources/target.go); for fairness use
    /// <see cref="ParityTarget"/> with the app's per-instance concurrency capacity and the shared 0.7 utilization.
    /// </summary>
    public required double TargetPerPod { get; init; }

    /// <summary>At most this multiple of the ready pods per decision (<c>max-scale-up-rate</c>, default 1000).</summary>
    public double MaxScaleUpRate { get; init; } = 1000.0;

    /// <summary>At least ready / this rate pods per decision (<c>max-scale-down-rate</c>, default 2).</summary>
    public double MaxScaleDownRate { get; init; } = 2.0;

    /// <summary>Scale-down decisions take the maximum over this trailing window (<c>scale-down-delay</c>, default 0 s, ≤ 1 h).</summary>
    public TimeSpan ScaleDownDelay { get; init; } = TimeSpan.Zero;

    /// <summary>How often the autoscaler decides (tickInterval in pkg/autoscaler/scaling/multiscaler.go, 2 s). The simulator calls Scale at this cadence.</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Minimum non-zero scale (<c>autoscaling.knative.dev/activation-scale</c>, default 1).</summary>
    public int ActivationScale { get; init; } = 1;

    /// <summary>
    /// <c>autoscaling.knative.dev/min-scale</c>. Must be ≥ 1 here: we never scale to zero, so the scale-to-zero
    /// machinery (grace period, activator probing, retention) never engages and is not modelled.
    /// </summary>
    public int MinScale { get; init; } = 1;

    /// <summary><c>autoscaling.knative.dev/max-scale</c>; 0 means unbounded, as upstream. Required so the fairness bound is explicit.</summary>
    public required int MaxScale { get; init; }

    /// <summary>
    /// StableWindow × PanicWindowPercentage / 100, rounded to whole seconds and at least one 1 s bucket
    /// (MakeMetric in pkg/reconciler/autoscaling/kpa/resources/metric.go).
    /// </summary>
    public TimeSpan PanicWindow
    {
        get
        {
            double seconds = Math.Round(StableWindow.TotalSeconds * PanicWindowPercentage / 100.0, MidpointRounding.AwayFromZero);
            return TimeSpan.FromSeconds(Math.Max(1, seconds));
        }
    }

    /// <summary>PanicThresholdPercentage as a factor (the DeciderSpec's PanicThreshold).</summary>
    public double PanicThreshold => PanicThresholdPercentage / 100.0;

    /// <summary>Knative's per-pod target for a pod that can serve <paramref name="containerConcurrency"/> requests at once: max(TargetMin, cc × utilization).</summary>
    public static double ParityTarget(double containerConcurrency, double targetUtilization = 0.7) =>
        Math.Max(TargetMin, containerConcurrency * targetUtilization);

    /// <summary>Returns the name of the first invalid field, or null.</summary>
    /// <remarks>Ranges follow validate() in pkg/autoscaler/config/config.go and the annotation validation in pkg/apis/autoscaling.</remarks>
    public string? Validate()
    {
        if (StableWindow < TimeSpan.FromSeconds(6) || StableWindow > TimeSpan.FromHours(1) || !IsWholeSeconds(StableWindow))
        {
            return nameof(StableWindow);
        }

        if (!double.IsFinite(PanicWindowPercentage) || PanicWindowPercentage < 1 || PanicWindowPercentage > 100)
        {
            return nameof(PanicWindowPercentage);
        }

        if (!double.IsFinite(PanicThresholdPercentage) || PanicThresholdPercentage < 110 || PanicThresholdPercentage > 1000)
        {
            return nameof(PanicThresholdPercentage);
        }

        if (!double.IsFinite(TargetPerPod) || TargetPerPod < TargetMin)
        {
            return nameof(TargetPerPod);
        }

        if (!double.IsFinite(MaxScaleUpRate) || MaxScaleUpRate <= 1.0)
        {
            return nameof(MaxScaleUpRate);
        }

        if (!double.IsFinite(MaxScaleDownRate) || MaxScaleDownRate <= 1.0)
        {
            return nameof(MaxScaleDownRate);
        }

        if (ScaleDownDelay < TimeSpan.Zero || ScaleDownDelay > TimeSpan.FromHours(1) || !IsWholeSeconds(ScaleDownDelay))
        {
            return nameof(ScaleDownDelay);
        }

        // The delay window indexes ticks by whole seconds (TimeWindow.Record: now.Unix() / granularity.Seconds()).
        if (TickInterval < TimeSpan.FromSeconds(1) || !IsWholeSeconds(TickInterval))
        {
            return nameof(TickInterval);
        }

        if (ActivationScale < 1)
        {
            return nameof(ActivationScale);
        }

        if (MinScale < 1)
        {
            return nameof(MinScale);
        }

        return MaxScale < 0 || (MaxScale != 0 && MaxScale < MinScale) ? nameof(MaxScale) : null;
    }

    private static bool IsWholeSeconds(TimeSpan t) => t.Ticks % TimeSpan.TicksPerSecond == 0;
}
