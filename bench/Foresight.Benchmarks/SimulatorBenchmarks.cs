using BenchmarkDotNet.Attributes;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;

namespace Foresight.Benchmarks;

/// <summary>
/// Simulator throughput on a Milan-sized cluster (8 edge sites, 211 sources, 3 apps, 6 instances per app and site).
/// The baseline is the per-request discrete-event mode serving the same simulated minute, so the ratio shows what the
/// fluid model buys.
/// </summary>
[MemoryDiagnoser]
public class SimulatorBenchmarks
{
    private const int Sites = 8;
    private const int SourcesPerSite = 26;
    private const double StepsPerRun = 60;
    private EngineSetup _setup = null!;
    private List<DiscreteEventSimulator.FlowSpec> _flows = null!;
    private List<DiscreteEventSimulator.InstanceSpec> _instances = null!;

    [Params(1, 3)]
    public int LatencySamples { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var sites = Enumerable.Range(0, Sites).Select(i => new Site($"site-{i}", (i % 4) * 6, (i / 4) * 6)).ToList();
        var servers = sites.Select(s => new Server($"{s.Id}/0", s.Id, 128)).ToList();
        var sources = new List<Source>();
        var ingress = new List<int>();
        for (int i = 0; i < Sites * SourcesPerSite; i++)
        {
            Site home = sites[i % Sites];
            sources.Add(new Source($"cell_{i}", home.XKm + ((i % 5) * 0.3), home.YKm + ((i % 7) * 0.2)));
            ingress.Add(i % Sites);
        }

        var topology = new EdgeTopology(sites, servers, sources, ingress, new RttModel());
        AppProfile[] apps =
        [
            new() { Name = "ar", ServiceTimeMs = 8, Concurrency = 4, LatencySloMs = 50 },
            new() { Name = "api", ServiceTimeMs = 15, Concurrency = 2, LatencySloMs = 100 },
            new() { Name = "batch", ServiceTimeMs = 150, Concurrency = 8, LatencySloMs = 1500 },
        ];

        // Each site's 6 instances run at ~60% utilization.
        double[] perSourceRate = apps.Select(a => 0.6 * 6 * a.InstanceCapacityRps / SourcesPerSite).ToArray();
        var demand = new ConstantDemand(apps.Length, sources.Count, (a, _, _) => perSourceRate[a]);
        _setup = new EngineSetup(topology, apps, demand, 1, 1, DateTimeOffset.UnixEpoch) { LatencySamplesPerGroup = LatencySamples };

        // The same load for one app and one site, request by request.
        AppProfile api = apps[1];
        _flows = [new DiscreteEventSimulator.FlowSpec(perSourceRate[1] * SourcesPerSite, [(0, 1.0, 2.0)])];
        _instances = Enumerable.Range(0, 6).Select(_ => new DiscreteEventSimulator.InstanceSpec(0, api.Concurrency, 1000 / api.ServiceTimeMs)).ToList();
    }

    /// <summary>One simulated minute of one app at one site, request by request.</summary>
    [Benchmark(Baseline = true)]
    public double DiscreteEventOneAppOneSiteMinute() =>
        DiscreteEventSimulator.Run(_flows, _instances, StepsPerRun, 0, 100, 1).MeanMs;

    /// <summary>One simulated minute of the whole cluster (all apps, all sites) in the fluid model.</summary>
    [Benchmark]
    public double FluidWholeClusterMinute()
    {
        var sim = new EdgeSimulator(_setup);
        foreach (AppProfile app in _setup.Apps)
        {
            foreach (Site site in _setup.Topology.Sites)
            {
                for (int k = 0; k < 6; k++)
                {
                    sim.CreateReadyInstance(app.Name, site.Id);
                }
            }
        }

        for (int i = 0; i < StepsPerRun; i++)
        {
            sim.Step();
        }

        return sim.Metrics.TotalRequests;
    }
}
