using Foresight.Core.Topology;
using Foresight.Simulation.Scenarios;
using Foresight.Simulation.Topology;

namespace Foresight.Simulation.Tests.Topology;

public sealed class TopologyBuilderTests
{
    private static ScenarioSpec Spec(SitesSpec sites, bool cloud = true) => new()
    {
        Name = "t",
        Trace = "t.csv",
        Apps = [new AppSpec { Profile = new Core.Apps.AppProfile { Name = "a" } }],
        Sites = sites,
        Cloud = new CloudSpec { Enabled = cloud, Servers = 3, CpuPerServer = 96 },
    };

    /// <summary>A 4 × 4 lattice of sources 1 km apart, ids s-x-y.</summary>
    private static Source[] Lattice()
    {
        var sources = new List<Source>();
        for (int x = 0; x < 4; x++)
        {
            for (int y = 0; y < 4; y++)
            {
                sources.Add(new Source($"s-{x}-{y}", x, y));
            }
        }

        return sources.ToArray();
    }

    /// <summary>Three tight groups of sources (west, east, north) plus, last, a far source without traffic.</summary>
    private static (Source[] Sources, double[] Weights) Groups()
    {
        Source[] sources =
        [
            new("w1", 0, 0), new("w2", 0.5, 0), new("w3", 0, 0.5),
            new("e1", 20, 0), new("e2", 20.5, 0),
            new("n1", 10, 15), new("n2", 10, 15.5),
            new("idle", 100, 100),
        ];
        return (sources, [5, 5, 5, 2, 2, 1, 1, 0]);
    }

    [Fact]
    public void Kmeans_sites_are_named_in_position_order_with_their_servers_and_the_cloud()
    {
        (Source[] sources, double[] weights) = Groups();
        ScenarioSpec spec = Spec(new SitesSpec { Method = SiteMethod.KMeans, K = 3, ServersPerSite = 2, CpuPerServer = 16 });

        EdgeTopology topology = TopologyBuilder.Build(spec, sources, weights, out IReadOnlyList<string> warnings);

        Assert.Empty(warnings);
        Assert.Equal(["site-0", "site-1", "site-2", "cloud"], topology.Sites.Select(s => s.Id));
        (double X, double Y)[] expected = [(1.0 / 6, 1.0 / 6), (10, 15.25), (20.25, 0)];
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].X, topology.Sites[i].XKm, 12);
            Assert.Equal(expected[i].Y, topology.Sites[i].YKm, 12);
        }

        Assert.Equal(SiteKind.Cloud, topology.Sites[3].Kind);
        Assert.Equal(
            ["site-0/server-0", "site-0/server-1", "site-1/server-0", "site-1/server-1", "site-2/server-0", "site-2/server-1", "cloud/server-0", "cloud/server-1", "cloud/server-2"],
            topology.Servers.Select(s => s.Id));
        Assert.Equal(32, topology.SiteCpuCapacity(0));
        Assert.Equal(3 * 96, topology.SiteCpuCapacity(3));

        // The idle source pulled no site towards it; it enters at the nearest one.
        Assert.Equal([0, 0, 0, 2, 2, 1, 1, 1], topology.IngressSite);
    }

    [Fact]
    public void Same_seed_gives_the_same_topology()
    {
        Source[] sources = Lattice();
        ScenarioSpec spec = Spec(new SitesSpec { K = 5 });

        EdgeTopology first = TopologyBuilder.Build(spec, sources);
        EdgeTopology second = TopologyBuilder.Build(spec, sources);

        Assert.Equal(first.Sites, second.Sites);
        Assert.Equal(first.IngressSite, second.IngressSite);
    }

    [Fact]
    public void K_larger_than_the_distinct_positions_is_clamped_with_a_warning()
    {
        Source[] sources = [new("a", 0, 0), new("b", 0, 0), new("c", 3, 4)];

        EdgeTopology topology = TopologyBuilder.Build(Spec(new SitesSpec { K = 8 }, cloud: false), sources, null, out IReadOnlyList<string> warnings);

        Assert.Equal(2, topology.SiteCount);
        Assert.Contains("only 2 distinct positions", Assert.Single(warnings), StringComparison.Ordinal);
        Assert.DoesNotContain(topology.Sites, s => s.Kind == SiteKind.Cloud);
    }

    public static TheoryData<int, (double X, double Y)[]> Grids => new()
    {
        { 1, [(1.5, 1.5)] },
        { 4, [(0.75, 0.75), (0.75, 2.25), (2.25, 0.75), (2.25, 2.25)] },
        { 16, Enumerable.Range(0, 4).SelectMany(x => Enumerable.Range(0, 4).Select(y => (0.375 + (0.75 * x), 0.375 + (0.75 * y)))).ToArray() },
    };

    [Theory]
    [MemberData(nameof(Grids))]
    public void Grid_sites_sit_at_the_centres_of_cells_holding_traffic(int k, (double X, double Y)[] expected)
    {
        EdgeTopology topology = TopologyBuilder.Build(Spec(new SitesSpec { Method = SiteMethod.Grid, K = k }, cloud: false), Lattice(), null, out IReadOnlyList<string> warnings);

        Assert.Empty(warnings);
        Assert.Equal(expected.Length, topology.SiteCount);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].X, topology.Sites[i].XKm, 9);
            Assert.Equal(expected[i].Y, topology.Sites[i].YKm, 9);
        }

        // On a grid every source enters at the site of its own cell, its nearest.
        AssertIngressIsNearest(topology);
    }

    [Fact]
    public void A_grid_that_cannot_match_k_says_what_it_used()
    {
        EdgeTopology topology = TopologyBuilder.Build(Spec(new SitesSpec { Method = SiteMethod.Grid, K = 3 }), Lattice(), null, out IReadOnlyList<string> warnings);

        Assert.Equal(4 + 1, topology.SiteCount);
        Assert.Contains("using 4 sites", Assert.Single(warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void Single_site_sits_at_the_traffic_weighted_centroid()
    {
        Source[] sources = [new("a", 0, 0), new("b", 4, 0), new("c", 50, 50)];

        EdgeTopology topology = TopologyBuilder.Build(Spec(new SitesSpec { Method = SiteMethod.Single }, cloud: false), sources, [3, 1, 0]);

        Site site = Assert.Single(topology.Sites);
        Assert.Equal(new Site("site-0", 1, 0), site);
        Assert.Equal([0, 0, 0], topology.IngressSite);
    }

    public static TheoryData<double, double, string> Nearest => new()
    {
        // source position, the explicit site it must enter at
        { 0, 0, "depot" },
        { 4.9, 0, "depot" },
        { 5.1, 0, "east" },
        { 30, -3, "east" },
        { 1, 6, "north" },
        { -100, 9, "north" },
        { 5, 0, "depot" },
    };

    [Theory]
    [MemberData(nameof(Nearest))]
    public void Explicit_sites_keep_their_ids_and_each_source_enters_at_the_nearest(double x, double y, string expected)
    {
        var sites = new SitesSpec
        {
            Method = SiteMethod.Explicit,
            Explicit = [new ExplicitSiteSpec("depot", 0, 0, 1, 8), new ExplicitSiteSpec("east", 10, 0, 2, 16), new ExplicitSiteSpec("north", 0, 10, 3, 4)],
        };

        EdgeTopology topology = TopologyBuilder.Build(Spec(sites), [new Source("s", x, y)]);

        Assert.Equal(["depot", "east", "north", "cloud"], topology.Sites.Select(s => s.Id));
        Assert.Equal([8.0, 32, 12, 288], Enumerable.Range(0, 4).Select(topology.SiteCpuCapacity));
        Assert.Equal(expected, topology.Sites[topology.IngressSite[0]].Id);
    }

    [Fact]
    public void Kmeans_ingress_is_the_nearest_site()
    {
        (Source[] sources, double[] weights) = Groups();

        EdgeTopology topology = TopologyBuilder.Build(Spec(new SitesSpec { K = 2 }), sources, weights);

        AssertIngressIsNearest(topology);
    }

    public static TheoryData<int, double, (double X, double Y)[]> Rings => new()
    {
        { 1, 5, [(0, 0)] },
        { 2, 5, [(5, 0), (-5, 0)] },
        { 4, 2, [(2, 0), (0, 2), (-2, 0), (0, -2)] },
    };

    [Theory]
    [MemberData(nameof(Rings))]
    public void Sources_without_coordinates_go_on_a_ring_in_order(int count, double radius, (double X, double Y)[] expected)
    {
        string[] ids = Enumerable.Range(0, count).Select(i => $"col{i}").ToArray();

        IReadOnlyList<Source> ring = TopologyBuilder.RingLayout(ids, radius);

        Assert.Equal(ids, ring.Select(s => s.Id));
        Assert.Equal(expected, ring.Select(s => (s.XKm, s.YKm)));
    }

    private static void AssertIngressIsNearest(EdgeTopology topology)
    {
        for (int s = 0; s < topology.Sources.Count; s++)
        {
            Source source = topology.Sources[s];
            Site home = topology.Sites[topology.IngressSite[s]];
            Assert.Equal(SiteKind.Edge, home.Kind);
            double own = RttModel.Distance(source.XKm, source.YKm, home.XKm, home.YKm);
            foreach (Site other in topology.Sites.Where(x => x.Kind == SiteKind.Edge))
            {
                Assert.True(own <= RttModel.Distance(source.XKm, source.YKm, other.XKm, other.YKm) + 1e-12, $"{source.Id} enters at {home.Id}, but {other.Id} is nearer");
            }
        }
    }
}
