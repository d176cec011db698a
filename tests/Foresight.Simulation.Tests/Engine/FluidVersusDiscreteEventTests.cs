using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Tests.Engine;

/// <summary>The fluid model must agree with per-request simulation on mean and p95 latency within 5% on small cases.</summary>
public sealed class FluidVersusDiscreteEventTests
{
    [Theory]
    [InlineData(1, 1, 0.5)]
    [InlineData(1, 1, 0.7)]
    [InlineData(2, 1, 0.7)]
    [InlineData(4, 2, 0.6)]
    [InlineData(4, 3, 0.8)]
    [InlineData(8, 2, 0.75)]
    public void One_site_agrees_on_mean_and_p95(int workers, int instances, double utilization)
    {
        EdgeTopology topology = TestClusters.Line(1);
        AppProfile app = TestClusters.App(concurrency: workers, serviceTimeMs: 20);
        double rate = utilization * instances * app.InstanceCapacityRps;
        const double duration = 4000;

        (double fluidMean, double fluidP95) = RunFluid(topology, app, instances, 0, rate, duration, route: null);
        double rtt = topology.AccessMs[0];
        DiscreteEventSimulator.Result des = DiscreteEventSimulator.Run(
            [new DiscreteEventSimulator.FlowSpec(rate, [(0, 1.0, rtt)])],
            Enumerable.Range(0, instances).Select(_ => new DiscreteEventSimulator.InstanceSpec(0, workers, 1000 / app.ServiceTimeMs)).ToList(),
            duration,
            warmupSeconds: 50,
            sloMs: app.LatencySloMs,
            seed: 3);

        AssertWithin(des.MeanMs, fluidMean, 0.05, "mean");
        AssertWithin(des.P95Ms, fluidP95, 0.05, "p95");
    }

    [Fact]
    public void Weighted_route_across_two_sites_agrees()
    {
        EdgeTopology topology = TestClusters.Line(2);
        AppProfile app = TestClusters.App(concurrency: 4, serviceTimeMs: 10);
        double rate = 0.65 * 2 * app.InstanceCapacityRps; // 2 instances at site 0, 1 at site 1, 70/30 split
        const double duration = 3000;
        var route = new Route(app.Name, "site-0", [new SiteWeight("site-0", 70), new SiteWeight("site-1", 30)]);

        (double fluidMean, double fluidP95) = RunFluid(topology, app, 2, 1, rate, duration, route);
        double local = topology.AccessMs[0];
        double remote = local + topology.SiteRttMs(0, 1);
        double mu = 1000 / app.ServiceTimeMs;
        DiscreteEventSimulator.Result des = DiscreteEventSimulator.Run(
            [new DiscreteEventSimulator.FlowSpec(rate, [(0, 0.7, local), (1, 0.3, remote)])],
            [new(0, 4, mu), new(0, 4, mu), new(1, 4, mu)],
            duration,
            warmupSeconds: 50,
            sloMs: app.LatencySloMs,
            seed: 5);

        AssertWithin(des.MeanMs, fluidMean, 0.05, "mean");
        AssertWithin(des.P95Ms, fluidP95, 0.05, "p95");
    }

    private static (double Mean, double P95) RunFluid(
        EdgeTopology topology, AppProfile app, int atSite0, int atSite1, double rate, double duration, Route? route)
    {
        EngineSetup setup = TestClusters.Setup(topology, app, (_, s) => s == 0 ? rate : 0) with { LatencySamplesPerGroup = 8 };
        var sim = new EdgeSimulator(setup);
        for (int i = 0; i < atSite0; i++)
        {
            sim.CreateReadyInstance(app.Name, "site-0");
        }

        for (int i = 0; i < atSite1; i++)
        {
            sim.CreateReadyInstance(app.Name, "site-1");
        }

        if (route is not null)
        {
            sim.SetRouteAsync(route, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        }

        for (int i = 0; i < duration; i++)
        {
            sim.Step();
        }

        LatencyHistogram h = sim.Metrics.Latency[0];
        return (h.MeanMs, h.Quantile(0.95));
    }

    private static void AssertWithin(double reference, double actual, double tolerance, string what)
    {
        double error = Math.Abs(actual - reference) / reference;
        Assert.True(error <= tolerance, $"{what}: fluid {actual:F3} ms vs discrete-event {reference:F3} ms ({error:P1} apart)");
    }
}
