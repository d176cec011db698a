using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Policies;

/// <summary>
/// A scaling and placement policy. The controller loop calls <see cref="OnStep"/> on every metrics sample (to observe
/// metrics, as a metrics pipeline would) and <see cref="Decide"/> every <see cref="DecisionPeriodSeconds"/>. Policies
/// only state the desired placement; one shared reconciler acts on it through the orchestrator port, so every policy
/// gets the same mechanics (fairness).
/// </summary>
public interface IScalingPolicy
{
    string Name { get; }

    double DecisionPeriodSeconds { get; }

    /// <summary>Called once per fresh metrics sample (<see cref="IMetricsObserver.SampleSeconds"/>).</summary>
    void OnStep(PolicyContext context);

    /// <summary>Updates <paramref name="desired"/> in place from the cluster as observed now.</summary>
    void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired);
}

/// <summary>
/// What a policy may see: the apps and topology it manages, traffic through the observation port, and the cluster
/// through the snapshot the loop read from <see cref="IOrchestrator.ObserveAsync"/>; never the future demand.
/// </summary>
public sealed class PolicyContext
{
    private readonly Dictionary<string, int> _appIndex;
    private readonly TimeProvider _time;

    /// <param name="epoch">Time zero of the run: policies keep their timers in seconds since it.</param>
    public PolicyContext(
        EdgeTopology topology,
        IReadOnlyList<AppProfile> apps,
        IMetricsObserver metrics,
        TimeProvider time,
        DateTimeOffset epoch,
        double targetUtilization)
    {
        Topology = topology;
        Apps = apps;
        Metrics = metrics;
        _time = time;
        Epoch = epoch;
        TargetUtilization = targetUtilization;
        _appIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int a = 0; a < apps.Count; a++)
        {
            _appIndex[apps[a].Name] = a;
        }
    }

    public EdgeTopology Topology { get; }

    public IReadOnlyList<AppProfile> Apps { get; }

    /// <summary>Observed traffic: per app and ingress site, and per instance.</summary>
    public IMetricsObserver Metrics { get; }

    public DateTimeOffset Epoch { get; }

    /// <summary>The target utilization every policy shares (fairness parity).</summary>
    public double TargetUtilization { get; }

    /// <summary>Whether app a may run at site s (a Kubernetes app has Deployments at its own sites only); null: everywhere.</summary>
    public Func<int, int, bool>? AppRunsAt { get; init; }

    /// <summary>Whether the policy may read the live network; false is the network-blind ablation.</summary>
    public bool ObserveNetwork { get; init; } = true;

    /// <summary>Seconds since <see cref="Epoch"/>.</summary>
    public double Now => (_time.GetUtcNow() - Epoch).TotalSeconds;

    public TimeSpan NowSpan => _time.GetUtcNow() - Epoch;

    /// <summary>The index of an app in <see cref="Apps"/>, or -1 for an app this controller does not manage.</summary>
    public int AppIndex(string app) => _appIndex.TryGetValue(app, out int a) ? a : -1;
}
