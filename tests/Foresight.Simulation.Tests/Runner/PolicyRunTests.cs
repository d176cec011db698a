using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;
using Foresight.Control.Policies.Baselines;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Runner;

public sealed class PolicyRunTests
{
    /// <summary>Two sites 10 km apart; the demand moves from site 0 to site 1 at t = 600 s and grows threefold.</summary>
    private static EngineSetup ShiftingDemand(int seed = 3)
    {
        EdgeTopology topology = TestClusters.Line(2);
        AppProfile app = TestClusters.App(concurrency: 2, serviceTimeMs: 20) with { MaxInstances = 30 };
        return TestClusters.Setup(topology, app, (t, s) => t < 600 ? (s == 0 ? 60 : 5) : (s == 0 ? 10 : 200), seed);
    }

    private static readonly RunSettings s_settings = new() { DurationSeconds = 1500, TargetUtilization = 0.7 };

    [Fact]
    public void Every_policy_sees_the_identical_arrivals()
    {
        EngineSetup setup = ShiftingDemand();
        IScalingPolicy[] policies = [new StaticPolicy((_, s) => s == 0 ? 60 : 5), new HpaPolicy(), new KpaPolicy()];

        double[] requests = policies.Select(p => SimulationRunner.Run(setup, s_settings, p).Requests).ToArray();

        Assert.All(requests, r => Assert.Equal(requests[0], r));
    }

    [Fact]
    public void Baselines_keep_their_upstream_defaults_and_share_target_and_bounds()
    {
        EngineSetup setup = ShiftingDemand();
        var context = SimulatorPolicyContext.For(new EdgeSimulator(setup), 0.7);

        HpaOptions hpa = HpaPolicy.OptionsFor(context, 0);
        Assert.Equal(hpa with { TargetUtilization = 0.7, MinReplicas = 1, MaxReplicas = 30 }, hpa);
        Assert.Equal(new HpaOptions { MaxReplicas = 30 }, hpa); // everything else at the documented defaults

        KpaOptions kpa = KpaPolicy.OptionsFor(context, 0);
        Assert.Equal(new KpaOptions { TargetPerPod = 2 * 0.7, MaxScale = 30 }, kpa);
    }

    [Theory]
    [InlineData("hpa")]
    [InlineData("kpa")]
    public void Reactive_baselines_scale_up_and_relocate_to_where_the_demand_went(string name)
    {
        EngineSetup setup = ShiftingDemand();
        IScalingPolicy policy = name == "hpa" ? new HpaPolicy() : new KpaPolicy();

        PolicyResult result = SimulationRunner.Run(setup, s_settings, policy);

        TimelineSample end = result.Timeline[^1];
        // 200 req/s at site 1 needs ceil(200 / (100 * 0.7)) = 3 instances there.
        Assert.True(end.InstancesBySite[1] >= 3, $"site 1 has {end.InstancesBySite[1]} instances at the end");
        Assert.True(end.InstancesBySite[1] > end.InstancesBySite[0]);
        Assert.True(result.Migrations > 0);
        Assert.True(result.SloViolationRate < 0.2, $"SLO violations {result.SloViolationRate:P1}");
    }

    [Fact]
    public async Task The_app_never_loses_all_serving_capacity_during_relocation()
    {
        EngineSetup setup = ShiftingDemand();
        var sim = new EdgeSimulator(setup);
        sim.CreateReadyInstance("api", "site-0");
        var policy = new HpaPolicy();
        var context = SimulatorPolicyContext.For(sim, 0.7);
        var desired = new Foresight.Control.Placement.DesiredPlacement(1, 2);
        desired[0, 0] = 1;
        var reconciler = new Foresight.Control.Reconcile.PlacementReconciler(setup.Topology, setup.Apps);
        var demand = new[] { new double[2] };
        for (int step = 0; step < 1500; step++)
        {
            if (step % 15 == 0)
            {
                policy.Decide(context, sim.Snapshot(), desired);
            }

            if (step % 5 == 0)
            {
                sim.ObservedIngressRates(0, 10, demand[0]);
                await Foresight.Control.Reconcile.PlacementReconciler.ApplyAsync(
                    reconciler.Plan(desired, sim.Snapshot(), demand), sim, CancellationToken.None);
            }

            sim.Step();
            int routable = sim.Snapshot().Instances.Count(i => i.State.IsRoutable());
            Assert.True(routable >= 1, $"no serving instance at t={sim.Now}");
        }

        Assert.Equal(0, sim.Metrics.Unserved[0]);
    }

    [Fact]
    public void Static_policy_never_changes_its_placement()
    {
        EngineSetup setup = ShiftingDemand();
        PolicyResult result = SimulationRunner.Run(setup, s_settings, new StaticPolicy((_, s) => s == 0 ? 60 : 5));

        Assert.Equal(0, result.Migrations);
        Assert.All(result.Timeline.Skip(2), t => Assert.Equal(result.Timeline[2].InstancesBySite, t.InstancesBySite));
    }
}
