using Foresight.Control.Policies.Baselines;
using Foresight.Orchestration;

namespace Foresight.Control.Policies.Reactive;

/// <summary>The Kubernetes HPA (<see cref="HpaAlgorithm"/>) for one app, on the CPU utilization of its pods.</summary>
public sealed class HpaScaler : IReactiveScaler
{
    private readonly HpaAlgorithm _hpa;

    public HpaScaler(HpaOptions options)
    {
        _hpa = new HpaAlgorithm(options);
    }

    public HpaAlgorithm Algorithm => _hpa;

    public double PeriodSeconds => _hpa.Options.SyncPeriod.TotalSeconds;

    public int? Unstabilized => _hpa.LastRecommendation;

    public void Observe(PolicyContext context, int app)
    {
    }

    public int Scale(PolicyContext context, ClusterView view, int app, int desired)
    {
        var pods = new List<PodMetric>();
        string name = context.Apps[app].Name;
        foreach (InstanceInfo inst in view.Snapshot.Instances)
        {
            if (inst.App == name)
            {
                pods.Add(HpaPolicy.ToPodMetric(context, inst));
            }
        }

        return _hpa.Reconcile(context.NowSpan, desired, pods);
    }
}
