using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Tests.Reconcile;

/// <summary>Where an HPA owns a site's count, the reconciler states "at least N here" and never fights it.</summary>
public sealed class AutoscaledSiteTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppProfile s_app = new() { Name = "api", DrainSeconds = 5, ColdStartSeconds = 10, WarmupSeconds = 20 };

    private static EdgeTopology Topology()
    {
        var sites = new List<Site> { new("a", 0, 0), new("b", 10, 0) };
        return new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 64)).ToList(),
            sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(),
            [0, 1],
            new RttModel());
    }

    private static InstanceInfo Pod(string id, string site, InstanceState state, double stateAgeSeconds = 60) =>
        new(new InstanceId(id), "api", site, $"{site}/0", state, state == InstanceState.Ready ? 1 : 0,
            s_now.AddMinutes(-10), s_now.AddSeconds(-stateAgeSeconds), state == InstanceState.Ready ? s_now.AddMinutes(-5) : null, 0);

    private static ReconcilePlan Plan(int atA, int atB, AutoscaledSite[] autoscaled, params InstanceInfo[] pods) =>
        Plan(atA, atB, anticipatedAtB: atB, autoscaled, pods);

    private static ReconcilePlan Plan(int atA, int atB, int anticipatedAtB, AutoscaledSite[] autoscaled, params InstanceInfo[] pods)
    {
        var desired = new DesiredPlacement(1, 2);
        desired[0, 0] = atA;
        desired[0, 1] = atB;
        desired.SetAnticipated(0, 1, anticipatedAtB);
        var reconciler = new PlacementReconciler(Topology(), [s_app], new ReconcilerOptions { StartupTimeoutFactor = 1 });
        var snapshot = new ClusterSnapshot(s_now, pods, [], []) { Autoscaled = autoscaled };
        return reconciler.Plan(desired, snapshot, [new double[] { 10, 50 }]);
    }

    [Theory]
    [InlineData(3, 1, 3)]   // raise: the HPA adds the pods
    [InlineData(25, 1, 10)] // never above the HPA's maximum
    [InlineData(0, 4, 2)]   // restore: never below the user's own minimum
    public void What_the_forecast_anticipates_at_an_autoscaled_site_becomes_its_floor(int desiredAtB, int floorNow, int written)
    {
        AutoscaledSite b = new("api", "b", UserMinReplicas: 2, Floor: floorNow, MaxReplicas: 10);

        ReconcilePlan plan = Plan(1, desiredAtB, [b], Pod("a1", "a", InstanceState.Ready));

        var floor = Assert.Single(plan.Commands.OfType<ReconcileCommand.SetFloor>());
        Assert.Equal(("api", "b", written, floorNow), (floor.App, floor.SiteId, floor.MinReplicas, floor.Was));
        Assert.DoesNotContain(plan.Commands.OfType<ReconcileCommand.SpinUp>(), c => c.Request.SiteId == "b");
        Assert.True(plan.Commands.ToList().IndexOf(floor) < plan.Commands.ToList().FindIndex(c => c is ReconcileCommand.SetRoute or ReconcileCommand.Drain) || !plan.Commands.Any(c => c is ReconcileCommand.SetRoute or ReconcileCommand.Drain));
    }

    [Fact]
    public void Reactive_capacity_at_an_autoscaled_site_is_left_to_the_autoscaler()
    {
        // The policy wants 4 at b from observed load alone: that is the HPA's job, so no floor is raised, and a floor
        // raised earlier comes back down to the user's minimum.
        AutoscaledSite raised = new("api", "b", UserMinReplicas: 1, Floor: 3, MaxReplicas: 10);

        ReconcilePlan plan = Plan(1, 4, anticipatedAtB: 0, [raised], Pod("a1", "a", InstanceState.Ready), Pod("b1", "b", InstanceState.Ready));

        Assert.Equal(1, Assert.Single(plan.Commands.OfType<ReconcileCommand.SetFloor>()).MinReplicas);
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Fact]
    public void A_floor_already_in_force_is_not_written_again()
    {
        AutoscaledSite b = new("api", "b", UserMinReplicas: 1, Floor: 3, MaxReplicas: 10);

        ReconcilePlan plan = Plan(1, 3, [b], Pod("a1", "a", InstanceState.Ready), Pod("b1", "b", InstanceState.Starting, 1));

        Assert.Empty(plan.Commands.OfType<ReconcileCommand.SetFloor>());
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Fact]
    public void Pods_the_autoscaler_added_are_never_drained_or_stopped_by_the_controller()
    {
        AutoscaledSite b = new("api", "b", UserMinReplicas: 1, Floor: 1, MaxReplicas: 10);
        InstanceInfo[] pods =
        [
            Pod("a1", "a", InstanceState.Ready),
            Pod("b1", "b", InstanceState.Ready), Pod("b2", "b", InstanceState.Ready), Pod("b3", "b", InstanceState.Ready),
            Pod("b4", "b", InstanceState.Starting, stateAgeSeconds: 600), // stuck, but the ReplicaSet's to replace
            Pod("b5", "b", InstanceState.Draining, stateAgeSeconds: 600),
        ];

        ReconcilePlan plan = Plan(1, 1, [b], pods);

        Assert.DoesNotContain(plan.Commands, c => c is ReconcileCommand.Drain or ReconcileCommand.Stop);
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.SetFloor>());
    }

    [Fact]
    public void Sites_without_an_autoscaler_are_still_scaled_instance_by_instance()
    {
        AutoscaledSite b = new("api", "b", UserMinReplicas: 1, Floor: 1, MaxReplicas: 10);

        ReconcilePlan plan = Plan(3, 2, [b], Pod("a1", "a", InstanceState.Ready), Pod("b1", "b", InstanceState.Ready));

        Assert.Equal(2, plan.Commands.OfType<ReconcileCommand.SpinUp>().Count(c => c.Request.SiteId == "a"));
        Assert.Equal(2, Assert.Single(plan.Commands.OfType<ReconcileCommand.SetFloor>()).MinReplicas);
    }
}
