using Foresight.Core.Apps;

namespace Foresight.Control.Policies.Reactive;

/// <summary>
/// One app's reactive autoscaler: how many replicas the app needs from what was measured, on the algorithm's own
/// period. The hpa and kpa baselines run one per app; so does the predictive policy's always-on safety net.
/// </summary>
public interface IReactiveScaler
{
    /// <summary>Seconds between decisions (HPA's sync period, KPA's tick).</summary>
    double PeriodSeconds { get; }

    /// <summary>
    /// The last recommendation before any scale-down stabilization held capacity back; null when the algorithm holds
    /// none (KPA) or has not decided yet.
    /// </summary>
    int? Unstabilized { get; }

    /// <summary>Called on every metrics sample (a metric window that must see each one, e.g. KPA's concurrency).</summary>
    void Observe(PolicyContext context, int app);

    /// <summary>The app's replica count from the cluster as observed now, given the count currently desired.</summary>
    int Scale(PolicyContext context, ClusterView view, int app, int desired);
}

/// <summary>Builds the scaler of an algorithm for an app, with the baselines' documented defaults.</summary>
public static class ReactiveScalers
{
    public static IReactiveScaler Create(ReactiveAlgorithm algorithm, PolicyContext context, int app) => algorithm switch
    {
        ReactiveAlgorithm.Kpa => new KpaScaler(KpaPolicy.OptionsFor(context, app)),
        _ => new HpaScaler(HpaPolicy.OptionsFor(context, app)),
    };
}
