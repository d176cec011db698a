using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Tests.Engine;

/// <summary>Small hand-built clusters for engine tests.</summary>
internal static class TestClusters
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Sites on a line 10 km apart, each with one source at its centre and one 64-core server.</summary>
    public static EdgeTopology Line(int sites, double coresPerServer = 64)
    {
        var siteList = Enumerable.Range(0, sites).Select(i => new Site($"site-{i}", i * 10, 0)).ToList();
        var servers = siteList.Select(s => new Server($"{s.Id}/server-0", s.Id, coresPerServer)).ToList();
        var sources = siteList.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList();
        return new EdgeTopology(siteList, servers, sources, Enumerable.Range(0, sites).ToArray(), new RttModel());
    }

    public static AppProfile App(string name = "api", int concurrency = 2, double serviceTimeMs = 20, double sloMs = 100) => new()
    {
        Name = name,
        Concurrency = concurrency,
        ServiceTimeMs = serviceTimeMs,
        LatencySloMs = sloMs,
        ColdStartSeconds = 10,
        WarmupSeconds = 20,
        WarmupStartCapacity = 0.3,
        MinInstances = 1,
        MaxInstances = 20,
    };

    public static EngineSetup Setup(EdgeTopology topology, AppProfile app, Func<double, int, double> rate, int seed = 7, double step = 1) =>
        new(topology, [app], new ConstantDemand(1, topology.Sources.Count, (_, t, s) => rate(t, s)), step, seed, Epoch);
}
