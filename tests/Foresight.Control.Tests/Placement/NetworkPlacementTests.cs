using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Tests.Placement;

/// <summary>Target choice under live network conditions: placement and routing read live RTT and link load, not distance.</summary>
public sealed class NetworkPlacementTests
{
    // Sites on a line 10 km apart: base RTT between neighbours 1.2 ms, two apart 1.4 ms.
    private static EdgeTopology Line(int n)
    {
        var sites = Enumerable.Range(0, n).Select(i => new Site($"s{i}", i * 10, 0)).ToList();
        return new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 64)).ToList(),
            sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(),
            Enumerable.Range(0, n).ToArray(),
            new RttModel());
    }

    /// <summary>The topology's view with extra RTT on every path into the given sites, and optional caps and load.</summary>
    private static NetworkView Degraded(
        EdgeTopology topology,
        IReadOnlyDictionary<int, double> extraMsBySite,
        IReadOnlyDictionary<int, double>? siteCapMbps = null,
        IReadOnlyDictionary<int, double>? utilizationBySite = null)
    {
        int n = topology.SiteCount;
        var rtt = new double[n * n];
        var pathCap = Enumerable.Repeat(double.PositiveInfinity, n * n).ToArray();
        var siteCap = Enumerable.Range(0, n).Select(s => siteCapMbps?.GetValueOrDefault(s, double.PositiveInfinity) ?? double.PositiveInfinity).ToArray();
        var utilization = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < n; d++)
            {
                rtt[(i * n) + d] = topology.SiteRttMs(i, d) + extraMsBySite.GetValueOrDefault(d);
                utilization[(i * n) + d] = utilizationBySite?.GetValueOrDefault(d) ?? 0;
            }
        }

        return new NetworkView(n, rtt, pathCap, siteCap, utilization);
    }

    [Fact]
    public void A_degraded_site_loses_its_replicas_to_the_next_best_site()
    {
        EdgeTopology topology = Line(3);
        var demand = new double[] { 300, 100, 50 };
        var hostable = new[] { 20, 20, 20 };
        var healthy = new int[3];
        var degraded = new int[3];

        ReplicaPlacer.Place(topology, 9, demand, hostable, new int[3], healthy);
        ReplicaPlacer.Place(topology, 9, demand, hostable, new int[3], degraded, Degraded(topology, new Dictionary<int, double> { [0] = 40 }), 0.08);

        Assert.Equal([6, 2, 1], healthy);
        // Site 0's demand is now best served from site 1 (1.2 ms away) rather than over its own +40 ms link.
        Assert.Equal([0, 8, 1], degraded);
    }

    [Fact]
    public void A_bandwidth_cap_keeps_only_what_the_link_carries_at_a_site()
    {
        EdgeTopology topology = Line(3);
        var demand = new double[] { 400, 0, 0 };
        var result = new int[3];
        // 0.08 Mbit per request: a 16 Mbit/s site link carries 16 * 0.85 / 0.08 = 170 req/s of the 400.
        NetworkView network = Degraded(topology, new Dictionary<int, double>(), new Dictionary<int, double> { [0] = 16 });

        ReplicaPlacer.Place(topology, 8, demand, new[] { 20, 20, 20 }, new int[3], result, network, 0.08);

        Assert.Equal([3, 5, 0], result);
    }

    [Property(MaxTest = 200)]
    public bool The_static_view_places_exactly_as_static_distance(PositiveInt total, NonNegativeInt d0, NonNegativeInt d1, NonNegativeInt d2, NonNegativeInt h)
    {
        EdgeTopology topology = Line(3);
        int n = total.Get % 40;
        var demand = new double[] { d0.Get % 500, d1.Get % 500, d2.Get % 500 };
        var hostable = new[] { h.Get % 15, 20, h.Get % 7 };
        var fallback = new[] { 1, 0, 2 };
        var a = new int[3];
        var b = new int[3];

        ReplicaPlacer.Place(topology, n, demand, hostable, fallback, a);
        ReplicaPlacer.Place(topology, n, demand, hostable, fallback, b, NetworkView.Static(topology), 0.08);

        return a.SequenceEqual(b);
    }

    [Fact]
    public void Routing_avoids_a_saturated_link()
    {
        EdgeTopology topology = Line(3);
        var weights = new[] { new double[3], new double[3], new double[3] };
        // All demand enters at site 0, which has no instance; sites 1 and 2 both have room. By distance site 1 wins,
        // but its link is measured at 97% utilisation, so the traffic goes to site 2.
        NetworkView network = Degraded(topology, new Dictionary<int, double>(), utilizationBySite: new Dictionary<int, double> { [1] = 0.97 });

        RoutePlanner.Plan(topology, new double[] { 120, 0, 0 }, new double[] { 0, 1000, 1000 }, 0.85, weights, network, 0.08);

        Assert.Equal(0, weights[0][1]);
        Assert.Equal(120, weights[0][2], 6);
    }

    [Fact]
    public void Routing_sends_no_more_over_a_capped_link_than_it_carries()
    {
        EdgeTopology topology = Line(3);
        var weights = new[] { new double[3], new double[3], new double[3] };
        // Site 0's own link: 8 Mbit/s at 0.85 carries 85 req/s of 0.08 Mbit; the rest spills to the next-nearest site.
        NetworkView network = Degraded(topology, new Dictionary<int, double>(), new Dictionary<int, double> { [0] = 8 });

        RoutePlanner.Plan(topology, new double[] { 120, 0, 0 }, new double[] { 1000, 1000, 0 }, 0.85, weights, network, 0.08);

        Assert.Equal(85, weights[0][0], 6);
        Assert.Equal(35, weights[0][1], 6);
    }

    [Fact]
    public void The_reconciler_routes_by_the_network_in_the_snapshot()
    {
        EdgeTopology topology = Line(3);
        var app = new AppProfile { Name = "api", Concurrency = 2, ServiceTimeMs = 20 };
        var reconciler = new PlacementReconciler(topology, [app]);
        var desired = new DesiredPlacement(1, 3);
        desired[0, 1] = 1;
        desired[0, 2] = 1;
        DateTimeOffset now = DateTimeOffset.UnixEpoch;
        InstanceInfo Ready(string id, string site) => new(new InstanceId(id), "api", site, $"{site}/0", InstanceState.Ready, 1, now, now, now, 0, null);
        var snapshot = new ClusterSnapshot(now, [Ready("a", "s1"), Ready("b", "s2")], [], [])
        {
            Network = Degraded(topology, new Dictionary<int, double> { [1] = 40 }),
        };

        ReconcilePlan plan = reconciler.Plan(desired, snapshot, [new double[] { 50, 0, 0 }]);

        Route route = plan.Commands.OfType<ReconcileCommand.SetRoute>().Select(c => c.Route).Single(r => r.IngressSiteId == "s0");
        Assert.Equal(["s2"], route.Weights.Where(w => w.Weight > 0).Select(w => w.SiteId));
    }

    [Fact]
    public void Apps_planned_in_one_pass_share_a_capped_link()
    {
        EdgeTopology topology = Line(3);
        // Site 0's link: 16 Mbit/s at 0.85 holds 170 req/s of 0.08 Mbit, for both apps together.
        NetworkView network = Degraded(topology, new Dictionary<int, double>(), new Dictionary<int, double> { [0] = 16 });
        var budget = new LinkBudget(network, 0.85);
        var first = new[] { new double[3], new double[3], new double[3] };
        var second = new[] { new double[3], new double[3], new double[3] };

        RoutePlanner.Plan(topology, new double[] { 100, 0, 0 }, new double[] { 1000, 1000, 0 }, 0.85, first, network, 0.08, budget);
        RoutePlanner.Plan(topology, new double[] { 100, 0, 0 }, new double[] { 1000, 1000, 0 }, 0.85, second, network, 0.08, budget);

        Assert.Equal(100, first[0][0], 6);
        Assert.Equal(70, second[0][0], 6);
        Assert.Equal(30, second[0][1], 6);
        Assert.Equal(0, budget.RoomRps(0, 0, 0.08), 6);
    }
}
