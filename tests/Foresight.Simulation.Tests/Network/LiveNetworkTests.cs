using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Network;

/// <summary>The simulator's links: scheduled degradations change the RTT requests pay, capped links queue and drop.</summary>
public sealed class LiveNetworkTests
{
    private static EdgeSimulator Run(EngineSetup setup, int steps, params string[] instanceSites)
    {
        var sim = new EdgeSimulator(setup);
        foreach (string site in instanceSites)
        {
            sim.CreateReadyInstance(setup.Apps[0].Name, site);
        }

        for (int i = 0; i < steps; i++)
        {
            sim.Step();
        }

        return sim;
    }

    private static EngineSetup OneSite(double rate, params NetworkEvent[] events) =>
        TestClusters.Setup(TestClusters.Line(2), TestClusters.App(concurrency: 4, serviceTimeMs: 10), (_, s) => s == 0 ? rate : 0)
            with { NetworkEvents = events };

    [Fact]
    public void A_degraded_site_link_adds_its_latency_to_every_request_the_site_serves()
    {
        EdgeSimulator healthy = Run(OneSite(150), 300, "site-0", "site-0");
        EdgeSimulator degraded = Run(OneSite(150, new NetworkEvent(LinkKind.Site, -1, 0, 0, 1e9, 40, null)), 300, "site-0", "site-0");

        Assert.Equal(healthy.Metrics.TotalRequests, degraded.Metrics.TotalRequests);
        Assert.Equal(healthy.Metrics.Latency[0].MeanMs + 40, degraded.Metrics.Latency[0].MeanMs, 6);
        Assert.Equal(0, degraded.Metrics.TotalDropped);
    }

    [Fact]
    public void An_event_acts_only_inside_its_window_and_the_view_shows_it_only_then()
    {
        var sim = new EdgeSimulator(OneSite(150, new NetworkEvent(LinkKind.Path, 0, 1, 10, 20, 25, null)));
        sim.CreateReadyInstance("api", "site-0");
        var seen = new List<double?>();
        for (int i = 0; i < 30; i++)
        {
            sim.Step();
            seen.Add(sim.Network?.RttMs(0, 1));
        }

        double baseRtt = sim.Topology.SiteRttMs(0, 1);
        Assert.All(seen.Take(10), v => Assert.Null(v));
        Assert.All(seen.Skip(10).Take(10), v => Assert.Equal(baseRtt + 25, v!.Value, 9));
        Assert.All(seen.Skip(20), v => Assert.Null(v));
        Assert.Null(sim.Snapshot().Network);
    }

    [Fact]
    public void A_link_loaded_past_its_bandwidth_drops_the_excess_and_reports_saturation()
    {
        // 200 req/s of 0.08 Mbit is 16 Mbit/s offered to an 8 Mbit/s link: rho = 2, so half is dropped.
        EdgeSimulator sim = Run(OneSite(200, new NetworkEvent(LinkKind.Site, -1, 0, 0, 1e9, 0, 8)), 400, "site-0", "site-0", "site-0");

        double share = sim.Metrics.LinkDropped[0] / sim.Metrics.TotalRequests;
        Assert.InRange(share, 0.48, 0.5);
        Assert.Equal(sim.Metrics.LinkDropped[0], sim.Metrics.TotalDropped, 6);
        NetworkView view = sim.Network!;
        Assert.True(view.IsSaturated(0, 0));
        Assert.InRange(view.Utilization(0, 0), 1.8, 2.2);
        Assert.Equal(8, view.CapacityMbps(0, 0));
        Assert.False(view.IsSaturated(0, 1));
    }

    [Fact]
    public void A_degraded_access_link_weighs_by_its_sources_share_of_the_flow()
    {
        // Two sources enter at site 0 (one at 150 req/s, one at 50), only the second's access link is degraded.
        var sites = new[] { new Site("site-0", 0, 0), new Site("site-1", 10, 0) };
        var topology = new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 64)).ToList(),
            [new Source("a", 0, 0), new Source("b", 0, 0)],
            [0, 0],
            new RttModel());
        AppProfile app = TestClusters.App(concurrency: 4, serviceTimeMs: 10);
        EngineSetup healthy = TestClusters.Setup(topology, app, (_, s) => s == 0 ? 150 : 50);

        EdgeSimulator a = Run(healthy, 200, "site-0", "site-0", "site-0");
        EdgeSimulator b = Run(healthy with { NetworkEvents = [new NetworkEvent(LinkKind.Source, 1, 0, 0, 1e9, 40, null)] }, 200, "site-0", "site-0", "site-0");

        Assert.Equal(a.Metrics.Latency[0].MeanMs + 10, b.Metrics.Latency[0].MeanMs, 6); // 40 ms × 50/200
        Assert.Equal(a.Topology.SiteRttMs(0, 0) + 10, b.Network!.RttMs(0, 0), 6);
    }

    [Fact]
    public void Fluid_and_discrete_event_modes_agree_behind_a_degraded_capped_link()
    {
        // A site link with +30 ms and a 20 Mbit/s cap at 60% load: M/M/1 adds 0.08/20 s / (1 - 0.6) = 10 ms on average.
        AppProfile app = TestClusters.App(concurrency: 4, serviceTimeMs: 10);
        double rate = 150;
        EngineSetup setup = TestClusters.Setup(TestClusters.Line(1), app, (_, _) => rate) with
        {
            LatencySamplesPerGroup = 8,
            NetworkEvents = [new NetworkEvent(LinkKind.Site, -1, 0, 0, 1e9, 30, 20)],
        };
        const int duration = 3000;
        EdgeSimulator fluid = Run(setup, duration, "site-0", "site-0", "site-0");

        double rtt = setup.Topology.AccessMs[0] + 30;
        double mu = 1000 / app.ServiceTimeMs;
        DiscreteEventSimulator.Result des = DiscreteEventSimulator.Run(
            [new DiscreteEventSimulator.FlowSpec(rate, [(0, 1.0, rtt)])],
            [new(0, 4, mu), new(0, 4, mu), new(0, 4, mu)],
            duration,
            warmupSeconds: 50,
            sloMs: app.LatencySloMs,
            seed: 11,
            siteLinks: new Dictionary<int, DiscreteEventSimulator.LinkSpec> { [0] = new(20, app.MegabitsPerRequest) });

        double fluidMean = fluid.Metrics.Latency[0].MeanMs;
        Assert.True(Math.Abs(fluidMean - des.MeanMs) / des.MeanMs <= 0.05, $"mean: fluid {fluidMean:F2} ms vs discrete-event {des.MeanMs:F2} ms");
        Assert.Equal(0, fluid.Metrics.TotalDropped);
        Assert.True(des.Dropped <= des.Requests / 1000, $"the discrete-event link dropped {des.Dropped} of {des.Requests}");
    }

    public static Arbitrary<NetworkEvent[]> Events() =>
        Gen.ArrayOf(
            from kind in Gen.Elements(LinkKind.Site, LinkKind.Path, LinkKind.Source)
            from to in Gen.Choose(0, 2)
            from other in Gen.Choose(0, 2)
            from start in Gen.Choose(0, 40)
            from length in Gen.Choose(1, 40)
            from latency in Gen.Choose(0, 200)
            from capped in Gen.Elements(true, false)
            from cap in Gen.Choose(1, 50)
            select new NetworkEvent(
                kind,
                kind == LinkKind.Site ? -1 : kind == LinkKind.Path ? (to + 1 + (other % 2)) % 3 : other,
                to,
                start,
                start + length,
                latency,
                capped ? cap : null))
        .ToArbitrary();

    [Property(MaxTest = 40, Arbitrary = [typeof(LiveNetworkTests)])]
    public bool Live_rtt_is_never_below_the_base_rtt(NetworkEvent[] events)
    {
        EngineSetup setup = TestClusters.Setup(TestClusters.Line(3), TestClusters.App(concurrency: 4, serviceTimeMs: 10), (_, s) => 60 * (s + 1))
            with { NetworkEvents = events };
        var sim = new EdgeSimulator(setup);
        sim.CreateReadyInstance("api", "site-0");
        sim.CreateReadyInstance("api", "site-2");
        sim.SetRouteAsync(new Route("api", "site-1", [new SiteWeight("site-0", 1), new SiteWeight("site-2", 1)]), CancellationToken.None).AsTask().GetAwaiter().GetResult();
        for (int step = 0; step < 60; step++)
        {
            sim.Step();
            if (sim.Network is { } view)
            {
                for (int i = 0; i < 3; i++)
                {
                    for (int d = 0; d < 3; d++)
                    {
                        if (view.RttMs(i, d) < sim.Topology.SiteRttMs(i, d) || view.CostMs(i, d) < view.RttMs(i, d) || view.Utilization(i, d) < 0)
                        {
                            return false;
                        }
                    }
                }
            }
        }

        return true;
    }
}
