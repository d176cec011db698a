using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>
/// The observation port for a real cluster: each refresh reads every app's request rate per site once (from
/// Prometheus, through <see cref="ITrafficObserver"/>) and keeps the readings of the last
/// <see cref="HistorySeconds"/>, so a policy can ask for any window up to that. A pipeline without per-pod CPU still
/// gives the HPA algorithm a utilization: the site's rate shared evenly over the app's serving pods there.
/// </summary>
public sealed class TrafficObservations : IMetricsObserver
{
    /// <summary>Readings kept: the longest window a policy asks for (placement's 60 s) with room to spare.</summary>
    public const double HistorySeconds = 600;

    private readonly IReadOnlyList<KubernetesApp> _apps;
    private readonly IReadOnlyList<AppProfile> _profiles;
    private readonly EdgeTopology _topology;
    private readonly ITrafficObserver _traffic;
    private readonly TimeProvider _time;
    private readonly Func<ClusterSnapshot?> _cluster;
    private readonly Queue<(DateTimeOffset Time, double[][] Rates)> _readings = new();
    private readonly Dictionary<string, int> _appIndex = new(StringComparer.Ordinal);

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
        if (_cluster() is not { } cluster || cluster.Instances.FirstOrDefault(i => i.Id == id) is not { } inst
            || !inst.State.IsRoutable() || !_appIndex.TryGetValue(inst.App, out int a)
            || !_topology.TryGetSiteIndex(inst.SiteId, out int site))
        {
            return null;
        }

        int serving = cluster.Instances.Count(i => i.App == inst.App && i.SiteId == inst.SiteId && i.State.IsRoutable());
        Span<double> rates = stackalloc double[_topology.SiteCount];
        IngressRates(a, SampleSeconds, rates);
        return rates[site] / serving / _profiles[a].InstanceCapacityRps;
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
