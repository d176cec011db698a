using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>
/// The observation port for a real cluster: each refresh reads every app's request rate per site once (from
/// Prometheus, through <see cref="ITrafficObserver"/>) and keeps the readings of the last
/// <see cref="HistorySeconds"/>, so a policy can ask for any window up to that. A pipeline without per-pod CPU still
/// gives the HPA algorithm a utilization: what the routes bring to a site, shared evenly over its serving pods.
/// </summary>
public sealed class TrafficObservations : IMetricsObserver
{
    /// <summary>Readings kept: the longest window a policy asks for (placement's 60 s) with room to spare.</summary>
    public const double HistorySeconds = 600;

    /// <summary>The window a pod's utilization is estimated over (metrics-server's 15 s).</summary>
    public const double UtilizationWindowSeconds = 15;

    private readonly IReadOnlyList<KubernetesApp> _apps;
    private readonly IReadOnlyList<AppProfile> _profiles;
    private readonly EdgeTopology _topology;
    private readonly ITrafficObserver _traffic;
    private readonly TimeProvider _time;
    private readonly Func<ClusterSnapshot?> _cluster;
    private readonly Queue<(DateTimeOffset Time, double[][] Rates)> _readings = new();
    private readonly Dictionary<string, int> _appIndex = new(StringComparer.Ordinal);
    private Dictionary<string, double> _utilization = new(StringComparer.Ordinal);
    private ClusterSnapshot? _estimatedFor;
    private long _estimatedAt = -1;
    private long _refreshes;

    /// <param name="profiles">The profiles the controller runs the apps under (a MigrationPolicy may change them).</param>
    /// <param name="cluster">The cluster as the controller last observed it (for the utilization estimate).</param>
    public TrafficObservations(
        IReadOnlyList<KubernetesApp> apps,
        IReadOnlyList<AppProfile> profiles,
        EdgeTopology topology,
        ITrafficObserver traffic,
        TimeProvider time,
        double sampleSeconds,
        Func<ClusterSnapshot?> cluster)
    {
        _apps = apps;
        _profiles = profiles;
        _topology = topology;
        _traffic = traffic;
        _time = time;
        _cluster = cluster;
        SampleSeconds = sampleSeconds;
        for (int a = 0; a < apps.Count; a++)
        {
            _appIndex[apps[a].Profile.Name] = a;
        }
    }

    public double SampleSeconds { get; }

    public IReadOnlyList<string> Warnings { get; private set; } = [];

    public async ValueTask RefreshAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        var rates = new double[_apps.Count][];
        var warnings = new List<string>();
        for (int a = 0; a < _apps.Count; a++)
        {
            KubernetesApp app = _apps[a];
            double[] bySite = await _traffic.ObserveAsync(app, cancellationToken).ConfigureAwait(false);
            rates[a] = new double[_topology.SiteCount];
            for (int i = 0; i < app.Sites.Count; i++)
            {
                // The app's sites are a subset of the topology's (the union over apps).
                rates[a][_topology.SiteIndex(app.Sites[i])] = bySite[i];
            }

            warnings.AddRange(_traffic.Warnings(app.Profile.Name).Select(w => $"app '{app.Profile.Name}': {w.Message}"));
        }

        _readings.Enqueue((now, rates));
        _refreshes++;
        while (_readings.Count > 1 && (now - _readings.Peek().Time).TotalSeconds > HistorySeconds)
        {
            _readings.Dequeue();
        }

        Warnings = warnings;
    }

    public void IngressRates(int app, double windowSeconds, Span<double> ratesBySite)
    {
        ratesBySite.Clear();
        if (_readings.Count == 0)
        {
            return;
        }

        // The readings taken within the window, and at least the latest one.
        DateTimeOffset latest = _readings.Last().Time;
        int n = 0;
        foreach ((DateTimeOffset time, double[][] rates) in _readings.Reverse())
        {
            if (n > 0 && (latest - time).TotalSeconds >= windowSeconds - 1e-9)
            {
                break;
            }

            for (int s = 0; s < ratesBySite.Length; s++)
            {
                ratesBySite[s] += rates[app][s];
            }

            n++;
        }

        for (int s = 0; s < ratesBySite.Length; s++)
        {
            ratesBySite[s] /= n;
        }
    }

    public double? InstanceUtilization(InstanceId id)
    {
        if (_cluster() is not { } cluster)
        {
            return null;
        }

        // One estimate per (snapshot, reading): the HPA algorithm asks for every pod of every app in a decision.
        if (!ReferenceEquals(cluster, _estimatedFor) || _estimatedAt != _refreshes)
        {
            _utilization = EstimateUtilization(cluster);
            _estimatedFor = cluster;
            _estimatedAt = _refreshes;
        }

        return _utilization.TryGetValue(id.Value, out double u) ? u : null;
    }

    /// <summary>
    /// Each ingress site's rate follows the cluster's routes to sites with serving pods (the whole of it stays home when
    /// no route says otherwise), and each site's share is split evenly over its serving pods, as the simulator splits it.
    /// </summary>
    private Dictionary<string, double> EstimateUtilization(ClusterSnapshot cluster)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        int sites = _topology.SiteCount;
        var ingress = new double[sites];
        var served = new double[sites];
        for (int a = 0; a < _apps.Count; a++)
        {
            string name = _profiles[a].Name;
            var serving = new List<InstanceInfo>?[sites];
            foreach (InstanceInfo inst in cluster.Instances)
            {
                if (inst.App == name && inst.State.IsRoutable() && _topology.TryGetSiteIndex(inst.SiteId, out int s))
                {
                    (serving[s] ??= []).Add(inst);
                }
            }

            IngressRates(a, UtilizationWindowSeconds, ingress);
            Array.Clear(served);
            for (int i = 0; i < sites; i++)
            {
                Route? route = cluster.Routes.FirstOrDefault(r => r.App == name && r.IngressSiteId == _topology.Sites[i].Id);
                double usable = route?.Weights.Where(w => w.Weight > 0 && _topology.TryGetSiteIndex(w.SiteId, out int d) && serving[d] is not null).Sum(w => w.Weight) ?? 0;
                if (usable > 0)
                {
                    foreach (SiteWeight w in route!.Weights)
                    {
                        if (w.Weight > 0 && _topology.TryGetSiteIndex(w.SiteId, out int d) && serving[d] is not null)
                        {
                            served[d] += ingress[i] * w.Weight / usable;
                        }
                    }
                }
                else if (serving[i] is not null)
                {
                    served[i] += ingress[i];
                }
            }

            for (int s = 0; s < sites; s++)
            {
                foreach (InstanceInfo inst in serving[s] ?? [])
                {
                    // A warming pod has less capacity for the same share, as its CPU shows; a saturated CPU reads 1.
                    double fraction = inst.CapacityFraction > 0 ? Math.Min(1, inst.CapacityFraction) : 1;
                    result[inst.Id.Value] = Math.Min(1, served[s] / serving[s]!.Count / (_profiles[a].InstanceCapacityRps * fraction));
                }
            }
        }

        return result;
    }

    public double Concurrency(int app)
    {
        // Little's law: requests in flight = arrival rate x time in service.
        Span<double> rates = stackalloc double[_topology.SiteCount];
        IngressRates(app, SampleSeconds, rates);
        double total = 0;
        foreach (double r in rates)
        {
            total += r;
        }

        return total * _profiles[app].ServiceTimeMs / 1000;
    }
}
