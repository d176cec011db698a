using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Policies;

/// <summary>Per-app, per-site counts read from one cluster snapshot, shared by the policies.</summary>
public sealed class ClusterView
{
    private readonly int[][] _active;
    private readonly int[][] _hostable;

    public ClusterView(PolicyContext context, ClusterSnapshot snapshot)
    {
        int apps = context.Apps.Count;
        int sites = context.Topology.SiteCount;
        Snapshot = snapshot;
        Network = context.ObserveNetwork ? Snapshot.Network : null;
        _active = new int[apps][];
        _hostable = new int[apps][];
        var freeCpu = new double[sites];
        var knownCpu = new bool[sites];
        foreach (ServerInfo server in Snapshot.Servers)
        {
            if (context.Topology.TryGetSiteIndex(server.SiteId, out int site))
            {
                freeCpu[site] += server.Up ? server.CpuCores - server.CpuAllocated : 0;
                knownCpu[site] |= server.CpuCores > 0;
            }
        }

        for (int a = 0; a < apps; a++)
        {
            _active[a] = new int[sites];
            _hostable[a] = new int[sites];
        }

        foreach (InstanceInfo inst in Snapshot.Instances)
        {
            // Instances of apps or sites this controller does not manage are not its to count.
            int a = context.AppIndex(inst.App);
            if (a >= 0 && context.Topology.TryGetSiteIndex(inst.SiteId, out int s) && inst.State.IsLive() && inst.State != InstanceState.Draining)
            {
                _active[a][s]++;
            }
        }

        for (int a = 0; a < apps; a++)
        {
            double cpu = context.Apps[a].Concurrency;
            for (int s = 0; s < sites; s++)
            {
                // Pending instances hold no CPU yet, so they are not added back on top of the free CPU.
                _hostable[a][s] = context.AppRunsAt?.Invoke(a, s) == false ? _active[a][s]
                    : knownCpu[s]
                    ? (int)Math.Floor((freeCpu[s] + 1e-9) / cpu) + _active[a][s] - PendingAt(a, s, context)
                    : UnknownCapacity;
            }
        }
    }

    /// <summary>
    /// What a site can hold when the cluster does not report its CPU (a Kubernetes node's capacity is the scheduler's
    /// business): the app's own maximum bounds it instead.
    /// </summary>
    public const int UnknownCapacity = int.MaxValue / 4;

    public ClusterSnapshot Snapshot { get; }

    /// <summary>
    /// The network as measured now (live RTT per path, link bandwidth and utilisation), or null when it is at its
    /// static base: what target choice reads instead of static distance.
    /// </summary>
    public NetworkView? Network { get; }

    /// <summary>Live, non-draining instances of the app per site.</summary>
    public ReadOnlySpan<int> Active(int app) => _active[app];

    /// <summary>How many instances of the app each site could hold (free CPU plus what it already holds).</summary>
    public ReadOnlySpan<int> Hostable(int app) => _hostable[app];

    public int ActiveTotal(int app)
    {
        int sum = 0;
        foreach (int n in _active[app])
        {
            sum += n;
        }

        return sum;
    }

    private int PendingAt(int app, int site, PolicyContext context)
    {
        int n = 0;
        string appName = context.Apps[app].Name;
        string siteId = context.Topology.Sites[site].Id;
        foreach (InstanceInfo inst in Snapshot.Instances)
        {
            if (inst.State == InstanceState.Pending && inst.App == appName && inst.SiteId == siteId)
            {
                n++;
            }
        }

        return n;
    }
}
