using Foresight.Simulation.Oracle;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Network;

/// <summary>Policies choose targets by the live network they measure: a degraded site loses its instances to the next-best one.</summary>
public sealed class NetworkPolicyTests
{
    private const double DegradeAt = 300;

    // Three sites 10 km apart; all demand enters at site 0, whose own link gains 40 ms at t = 300 s.
    private static EngineSetup Setup()
    {
        EdgeTopology topology = TestClusters.Line(3);
        AppProfile app = TestClusters.App(concurrency: 2, serviceTimeMs: 20, sloMs: 60) with { MaxInstances = 20 };
        return TestClusters.Setup(topology, app, (_, s) => s == 0 ? 150 : 0, seed: 5)
            with { NetworkEvents = [new NetworkEvent(LinkKind.Site, -1, 0, DegradeAt, 1e9, 40, null)] };
    }

    private static IScalingPolicy Create(string name, EngineSetup setup) => name switch
    {
        "hpa" => new HpaPolicy(),
        "kpa" => new KpaPolicy(),
        _ => new PredictivePolicy("predictive", new OracleForecaster(setup.Demand, setup.Topology, setup.Epoch, 5, 24)),
    };

    [Theory]
    [InlineData("predictive")]
    [InlineData("hpa")]
    [InlineData("kpa")]
    public void A_degraded_site_loses_its_instances_to_the_next_best_site(string name)
    {
        EngineSetup setup = Setup();
        var settings = new RunSettings { DurationSeconds = 900, TargetUtilization = 0.7 };

        PolicyResult aware = SimulationRunner.Run(setup, settings, Create(name, setup));
        PolicyResult blind = SimulationRunner.Run(setup, settings with { ObserveNetwork = false }, Create(name, setup));

        TimelineSample before = aware.Timeline.Last(t => t.TimeSeconds < DegradeAt);
        TimelineSample end = aware.Timeline[^1];
        Assert.True(before.InstancesBySite[0] > 0 && before.InstancesBySite[1] == 0, $"before: {string.Join(",", before.InstancesBySite)}");
        // Site 1 is 1.2 ms from site 0's users; site 0 itself now costs 40 ms more, site 2 1.4 ms.
        Assert.Equal(0, end.InstancesBySite[0]);
        Assert.True(end.InstancesBySite[1] >= 3, $"end: {string.Join(",", end.InstancesBySite)}");
        Assert.Equal(0, end.InstancesBySite[2]);
        Assert.True(blind.Timeline[^1].InstancesBySite[0] >= 3, "without the network view the instances stay at site 0");
        Assert.True(aware.SloViolationRate < blind.SloViolationRate, $"aware {aware.SloViolationRate:P2} vs blind {blind.SloViolationRate:P2}");
    }
}
