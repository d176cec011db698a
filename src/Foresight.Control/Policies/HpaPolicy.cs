using Foresight.Control.Placement;
using Foresight.Orchestration;
using Foresight.Control.Policies.Baselines;
using Foresight.Control.Policies.Reactive;

namespace Foresight.Control.Policies;

/// <summary>
/// The Kubernetes HPA baseline: one autoscaling/v2 HPA per app on CPU utilization (the upstream algorithm in
/// <see cref="HpaAlgorithm"/> in an <see cref="HpaScaler"/>, run every sync period), its replicas placed near the observed demand, and relocated
/// reactively once observed demand has moved for a sustained period.
/// </summary>
public sealed class HpaPolicy : IScalingPolicy
{
    private readonly ReactiveSettings _settings;
    private HpaScaler[]? _hpas;
    private SustainedPlacement? _placement;
    private double[] _demand = [];

    public HpaPolicy(ReactiveSettings? settings = null)
    {
        _settings = settings ?? new ReactiveSettings();
    }

    public string Name { get; init; } = "hpa";

    public double DecisionPeriodSeconds => 15;

    public void OnStep(PolicyContext context)
    {
    }

    public void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired)
    {
        _hpas ??= Enumerable.Range(0, context.Apps.Count).Select(a => new HpaScaler(OptionsFor(context, a))).ToArray();
        _placement ??= new SustainedPlacement(context.Topology, context.Apps.Count, _settings.RelocationSustainSeconds);
        if (_demand.Length != context.Topology.SiteCount)
        {
            _demand = new double[context.Topology.SiteCount];
        }

        var view = new ClusterView(context, cluster);
        LinkBudget? budget = view.Network is { } network ? new LinkBudget(network, NetworkHoming.DefaultMaxUtilization) : null;
        for (int a = 0; a < context.Apps.Count; a++)
        {
            int total = _hpas[a].Scale(context, view, a, desired.Total(a));
            context.Metrics.IngressRates(a, _settings.PlacementWindowSeconds, _demand);
            _placement.Update(a, total, _demand, view.Hostable(a), context.Now, desired, view.Network, context.Apps[a].MegabitsPerRequest, budget);
        }
    }

    /// <summary>Upstream defaults, with only the shared target utilization and the app's replica bounds set.</summary>
    public static HpaOptions OptionsFor(PolicyContext context, int app) => new()
    {
        TargetUtilization = context.TargetUtilization,
        MinReplicas = context.Apps[app].MinInstances,
        MaxReplicas = context.Apps[app].MaxInstances,
    };

    /// <summary>Maps an instance to what the HPA controller would see of its pod.</summary>
    internal static PodMetric ToPodMetric(PolicyContext context, InstanceInfo inst)
    {
        TimeSpan Since(DateTimeOffset t) => t - context.Epoch;
        double? cpu = context.Metrics.InstanceUtilization(inst.Id);
        double warmup = context.Apps[context.AppIndex(inst.App)].WarmupSeconds;
        return inst.State switch
        {
            InstanceState.Pending => new PodMetric(null, false, Since(inst.CreatedAt), null) { Phase = PodPhase.Pending },
            InstanceState.Starting => new PodMetric(Since(inst.StateSince), false, Since(inst.StateSince), null),
            InstanceState.Warming => new PodMetric(Since(inst.CreatedAt), true, Since(inst.StateSince), cpu),
            InstanceState.Ready => new PodMetric(
                Since(inst.CreatedAt),
                true,
                Since(inst.ReadyAt ?? inst.StateSince) - TimeSpan.FromSeconds(Math.Min(warmup, (inst.StateSince - inst.CreatedAt).TotalSeconds)),
                cpu),
            _ => new PodMetric(Since(inst.CreatedAt), false, Since(inst.StateSince), null) { Phase = PodPhase.Terminating },
        };
    }
}
