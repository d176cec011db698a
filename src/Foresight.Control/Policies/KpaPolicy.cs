using Foresight.Control.Placement;
using Foresight.Orchestration;
using Foresight.Control.Policies.Baselines;
using Foresight.Control.Policies.Reactive;

namespace Foresight.Control.Policies;

/// <summary>
/// The Knative KPA baseline: one revision autoscaler per app on concurrency (in-flight requests, as the queue-proxy
/// reports them), ticking every 2 s with its stable and panic windows (<see cref="KpaAlgorithm"/> in a <see cref="KpaScaler"/>). The per-pod target
/// is the pod's concurrency at the shared target utilization. Placement and relocation are the same reactive layer
/// the HPA baseline uses.
/// </summary>
public sealed class KpaPolicy : IScalingPolicy
{
    private readonly ReactiveSettings _settings;
    private KpaScaler[] _kpas = [];
    private SustainedPlacement? _placement;
    private double[] _demand = [];

    public KpaPolicy(ReactiveSettings? settings = null)
    {
        _settings = settings ?? new ReactiveSettings();
    }

    public string Name { get; init; } = "kpa";

    public double DecisionPeriodSeconds => 2;

    public void OnStep(PolicyContext context)
    {
        if (_kpas.Length == 0)
        {
            _kpas = Enumerable.Range(0, context.Apps.Count).Select(a => new KpaScaler(OptionsFor(context, a))).ToArray();
        }

        for (int a = 0; a < _kpas.Length; a++)
        {
            _kpas[a].Observe(context, a);
        }
    }

    /// <summary>Knative defaults, with only the per-pod target (its concurrency at the shared utilization) and the app's bounds set.</summary>
    public static KpaOptions OptionsFor(PolicyContext context, int app) => new()
    {
        TargetPerPod = KpaOptions.ParityTarget(context.Apps[app].Concurrency, context.TargetUtilization),
        MinScale = context.Apps[app].MinInstances,
        MaxScale = context.Apps[app].MaxInstances,
    };

    public void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired)
    {
        _placement ??= new SustainedPlacement(context.Topology, context.Apps.Count, _settings.RelocationSustainSeconds);
        if (_demand.Length != context.Topology.SiteCount)
        {
            _demand = new double[context.Topology.SiteCount];
        }

        var view = new ClusterView(context, cluster);
        LinkBudget? budget = view.Network is { } network ? new LinkBudget(network, NetworkHoming.DefaultMaxUtilization) : null;
        for (int a = 0; a < context.Apps.Count; a++)
        {
            int total = _kpas[a].Scale(context, view, a, desired.Total(a));
            context.Metrics.IngressRates(a, _settings.PlacementWindowSeconds, _demand);
            _placement.Update(a, total, _demand, view.Hostable(a), context.Now, desired, view.Network, context.Apps[a].MegabitsPerRequest, budget);
        }
    }
}
