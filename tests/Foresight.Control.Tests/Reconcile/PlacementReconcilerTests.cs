using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Tests.Reconcile;

public sealed class PlacementReconcilerTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppProfile s_app = new() { Name = "api", DrainSeconds = 5 };

    private static EdgeTopology Topology()
    {
        var sites = new List<Site> { new("a", 0, 0), new("b", 10, 0), new("c", 20, 0) };
        return new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 64)).ToList(),
            sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(),
            [0, 1, 2],
            new RttModel());
    }

    private static InstanceInfo Instance(string id, string site, InstanceState state, double inFlight = 0, double stateAgeSeconds = 60) =>
        new(new InstanceId(id), "api", site, $"{site}/0", state, state.IsRoutable() ? 1 : 0,
            s_now.AddMinutes(-10), s_now.AddSeconds(-stateAgeSeconds), state == InstanceState.Ready ? s_now.AddMinutes(-5) : null, inFlight);

    private static ClusterSnapshot Snapshot(params InstanceInfo[] instances) => new(s_now, instances, [], []);

    private static DesiredPlacement Desired(int a, int b, int c)
    {
        var d = new DesiredPlacement(1, 3);
        d[0, 0] = a;
        d[0, 1] = b;
        d[0, 2] = c;
        return d;
    }

    private static ReconcilePlan Plan(DesiredPlacement desired, ClusterSnapshot snapshot) =>
        new PlacementReconciler(Topology(), [s_app]).Plan(desired, snapshot, [new double[] { 10, 10, 10 }]);

    [Fact]
    public void Relocation_creates_the_new_instance_first_and_keeps_the_old_one_serving()
    {
        ReconcilePlan plan = Plan(Desired(0, 1, 0), Snapshot(Instance("old", "a", InstanceState.Ready)));

        ReconcileCommand.SpinUp spin = Assert.Single(plan.Commands.OfType<ReconcileCommand.SpinUp>());
        Assert.Equal("b", spin.Request.SiteId);
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Drain>());
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Stop>());
    }

    [Theory]
    [InlineData(InstanceState.Pending)]
    [InlineData(InstanceState.Starting)]
    [InlineData(InstanceState.Warming)]
    public void The_old_instance_is_not_drained_until_its_replacement_is_fully_warm(InstanceState replacement)
    {
        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            Snapshot(Instance("old", "a", InstanceState.Ready), Instance("new", "b", replacement)));

        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Drain>());
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Fact]
    public void Once_the_replacement_is_ready_the_old_instance_drains()
    {
        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            Snapshot(Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)));

        ReconcileCommand.Drain drain = Assert.Single(plan.Commands.OfType<ReconcileCommand.Drain>());
        Assert.Equal("old", drain.Instance.Value);
    }

    [Fact]
    public void Scale_down_never_drops_below_the_desired_count_of_ready_instances()
    {
        ReconcilePlan plan = Plan(
            Desired(1, 0, 0),
            Snapshot(Instance("a1", "a", InstanceState.Ready), Instance("a2", "a", InstanceState.Ready), Instance("a3", "a", InstanceState.Ready)));

        Assert.Equal(2, plan.Commands.OfType<ReconcileCommand.Drain>().Count());
    }

    [Fact]
    public void Surplus_instances_that_serve_nothing_yet_are_stopped_directly()
    {
        ReconcilePlan plan = Plan(
            Desired(1, 0, 0),
            Snapshot(Instance("a1", "a", InstanceState.Ready), Instance("a2", "a", InstanceState.Starting)));

        ReconcileCommand.Stop stop = Assert.Single(plan.Commands.OfType<ReconcileCommand.Stop>());
        Assert.Equal("a2", stop.Instance.Value);
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Drain>());
    }

    [Theory]
    [InlineData(3, 0, false)] // drain period not over
    [InlineData(10, 4, false)] // still has requests in flight
    [InlineData(10, 0, true)] // drained
    [InlineData(31, 4, true)] // grace period (6 drain periods) over
    public void A_draining_instance_is_stopped_only_once_drained(double drainingForSeconds, double inFlight, bool stopped)
    {
        ReconcilePlan plan = Plan(
            Desired(1, 0, 0),
            Snapshot(Instance("keep", "a", InstanceState.Ready), Instance("old", "b", InstanceState.Draining, inFlight, drainingForSeconds)));

        Assert.Equal(stopped, plan.Commands.OfType<ReconcileCommand.Stop>().Any(s => s.Instance.Value == "old"));
    }

    [Fact]
    public void Failed_instances_are_cleaned_up_and_replaced()
    {
        ReconcilePlan plan = Plan(Desired(1, 0, 0), Snapshot(Instance("dead", "a", InstanceState.Failed)));

        Assert.Single(plan.Commands.OfType<ReconcileCommand.Stop>(), s => s.Instance.Value == "dead");
        Assert.Single(plan.Commands.OfType<ReconcileCommand.SpinUp>(), s => s.Request.SiteId == "a");
    }

    [Fact]
    public void Routes_only_name_sites_with_serving_instances()
    {
        ReconcilePlan plan = Plan(
            Desired(1, 1, 0),
            Snapshot(Instance("a1", "a", InstanceState.Ready), Instance("b1", "b", InstanceState.Starting)));

        var routes = plan.Commands.OfType<ReconcileCommand.SetRoute>().Select(r => r.Route).ToList();
        Assert.Equal(3, routes.Count); // one per ingress site with demand
        Assert.All(routes, r => Assert.All(r.Weights, w => Assert.Equal("a", w.SiteId)));
    }

    [Fact]
    public void A_converged_cluster_gets_an_empty_plan_on_the_second_pass()
    {
        var reconciler = new PlacementReconciler(Topology(), [s_app]);
        ClusterSnapshot snapshot = Snapshot(Instance("a1", "a", InstanceState.Ready), Instance("b1", "b", InstanceState.Ready));
        ReconcilePlan first = reconciler.Plan(Desired(1, 1, 0), snapshot, [new double[] { 10, 10, 0 }]);
        var routes = first.Commands.OfType<ReconcileCommand.SetRoute>().Select(r => r.Route).ToList();
        Assert.Equal(first.Commands.Count, routes.Count);

        ReconcilePlan second = reconciler.Plan(Desired(1, 1, 0), snapshot with { Routes = routes }, [new double[] { 10, 10, 0 }]);

        Assert.Empty(second.Commands);
    }

    [Fact]
    public void Traffic_is_shifted_off_an_instance_before_it_drains()
    {
        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            Snapshot(Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)));

        int drainAt = plan.Commands.ToList().FindIndex(c => c is ReconcileCommand.Drain);
        var routesBefore = plan.Commands.Take(drainAt).OfType<ReconcileCommand.SetRoute>().Select(r => r.Route).ToList();
        Assert.NotEmpty(routesBefore);
        Assert.All(routesBefore, r => Assert.DoesNotContain(r.Weights, w => w.SiteId == "a"));
    }
}
