using Foresight.Control.Policies.Baselines;
using Foresight.Orchestration;

namespace Foresight.Control.Policies.Reactive;

/// <summary>
/// The Knative KPA (<see cref="KpaAlgorithm"/>) for one app, on concurrency, with its panic mode. The autoscaler is
/// created at the first decision, as the multiscaler creates a decider, and records concurrency from then on.
/// </summary>
public sealed class KpaScaler : IReactiveScaler
{
    private readonly KpaOptions _options;
    private KpaAlgorithm? _kpa;

    public KpaScaler(KpaOptions options)
    {
        _options = options;
    }

    /// <summary>The autoscaler; null before the first decision.</summary>
    public KpaAlgorithm? Algorithm => _kpa;

    public double PeriodSeconds => _options.TickInterval.TotalSeconds;

    public int? Unstabilized => null;

    public void Observe(PolicyContext context, int app) => _kpa?.Record(context.NowSpan, context.Metrics.Concurrency(app));

    public int Scale(PolicyContext context, ClusterView view, int app, int desired)
    {
        int ready = 0;
        string name = context.Apps[app].Name;
        foreach (InstanceInfo inst in view.Snapshot.Instances)
        {
            if (inst.App == name && inst.State.IsRoutable())
            {
                ready++;
            }
        }

        _kpa ??= new KpaAlgorithm(_options, context.NowSpan, ready);
        return _kpa.Scale(context.NowSpan, ready);
    }
}
