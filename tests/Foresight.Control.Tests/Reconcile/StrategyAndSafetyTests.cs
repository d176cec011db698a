using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Tests.Reconcile;

public sealed class StrategyAndSafetyTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppProfile s_app = new() { Name = "api", DrainSeconds = 5, ColdStartSeconds = 10, WarmupSeconds = 20 };

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

    private static InstanceInfo Instance(string id, string site, InstanceState state, double stateAgeSeconds = 60) =>
        new(new InstanceId(id), "api", site, $"{site}/0", state, state == InstanceState.Ready ? 1 : state == InstanceState.Warming ? 0.5 : 0,
            s_now.AddMinutes(-10), s_now.AddSeconds(-stateAgeSeconds), state == InstanceState.Ready ? s_now.AddMinutes(-5) : null, 0);

    private static Route RouteFrom(string ingress, params (string Site, double Weight)[] weights) =>
        new("api", ingress, weights.Select(w => new SiteWeight(w.Site, w.Weight)).ToList());

    private static DesiredPlacement Desired(int a, int b, int c)
    {
        var d = new DesiredPlacement(1, 3);
        d[0, 0] = a;
        d[0, 1] = b;
        d[0, 2] = c;
        return d;
    }

    private static ReconcilePlan Plan(
        DesiredPlacement desired,
        ReconcilerOptions options,
        IReadOnlyList<Route>? routes = null,
        Func<string, DateTimeOffset?>? lastChange = null,
        params InstanceInfo[] instances) =>
        new PlacementReconciler(Topology(), [s_app], options, lastChange: lastChange)
            .Plan(desired, new ClusterSnapshot(s_now, instances, routes ?? [], []), [new double[] { 30, 0, 0 }]);

    private static InstanceInfo[] ThreeAtA() =>
        [Instance("a1", "a", InstanceState.Ready), Instance("a2", "a", InstanceState.Ready), Instance("a3", "a", InstanceState.Ready)];

    [Theory]
    [InlineData(null, 3)]
    [InlineData(2, 2)]
    [InlineData(1, 1)]
    public void Max_surge_bounds_the_instances_above_the_desired_total(int? surge, int spinUps)
    {
        ReconcilePlan plan = Plan(Desired(0, 0, 3), new ReconcilerOptions { MaxSurge = surge }, instances: ThreeAtA());

        Assert.Equal(spinUps, plan.Commands.OfType<ReconcileCommand.SpinUp>().Count());
    }

    [Fact]
    public void Max_concurrent_migrations_counts_replacements_already_on_their_way()
    {
        var options = new ReconcilerOptions { MaxConcurrentMigrations = 2 };

        Assert.Equal(2, Plan(Desired(0, 0, 3), options, instances: ThreeAtA()).Commands.OfType<ReconcileCommand.SpinUp>().Count());
        Assert.Single(Plan(Desired(0, 0, 3), options, instances: [.. ThreeAtA(), Instance("c1", "c", InstanceState.Starting, 1)])
            .Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Fact]
    public void A_limited_migration_still_converges_one_step_at_a_time()
    {
        var options = new ReconcilerOptions { MaxSurge = 1, MaxConcurrentMigrations = 1 };
        InstanceInfo[] state = ThreeAtA();
        int spun = 0;
        for (int round = 0; round < 10 && state.Count(i => i.SiteId == "c") < 3; round++)
        {
            ReconcilePlan plan = Plan(Desired(0, 0, 3), options, instances: state);
            Assert.True(plan.Commands.OfType<ReconcileCommand.SpinUp>().Count() <= 1);
            var drained = plan.Commands.OfType<ReconcileCommand.Drain>().Select(d => d.Instance.Value).ToHashSet();

            // Apply: drained instances leave, new ones come up Ready by the next round.
            state = [.. state.Where(i => !drained.Contains(i.Id.Value)),
                .. plan.Commands.OfType<ReconcileCommand.SpinUp>().Select(_ => Instance($"c{++spun}", "c", InstanceState.Ready))];
            Assert.True(state.Count(i => i.State == InstanceState.Ready) >= 3, "never below the desired ready count");
            Assert.True(state.Length <= 4, "never more than one above the desired total");
        }

        Assert.Equal(3, state.Count(i => i.SiteId == "c"));
    }

    [Fact]
    public void Cooldown_holds_back_drains_but_never_scale_up()
    {
        var options = new ReconcilerOptions { CooldownSeconds = 60 };
        InstanceInfo[] both = [Instance("a1", "a", InstanceState.Ready), Instance("b1", "b", InstanceState.Ready)];

        Assert.Empty(Plan(Desired(0, 1, 0), options, lastChange: _ => s_now.AddSeconds(-10), instances: both).Commands.OfType<ReconcileCommand.Drain>());
        Assert.Single(Plan(Desired(0, 1, 0), options, lastChange: _ => s_now.AddSeconds(-61), instances: both).Commands.OfType<ReconcileCommand.Drain>());
        Assert.Single(Plan(Desired(1, 1, 1), options, lastChange: _ => s_now.AddSeconds(-10), instances: both).Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Theory]
    [InlineData(InstanceState.Starting, 39, false)]
    [InlineData(InstanceState.Starting, 41, true)]
    [InlineData(InstanceState.Warming, 69, false)]
    [InlineData(InstanceState.Warming, 71, true)]
    [InlineData(InstanceState.Pending, 1000, false)]
    public void An_instance_stuck_starting_past_its_timeout_is_stopped_and_replaced(InstanceState state, double age, bool replaced)
    {
        // Factor 3: cold start 10 s -> 30 s + 10 s margin; warm-up 20 s -> 60 s + 10 s margin.
        var options = new ReconcilerOptions { StartupTimeoutFactor = 3 };

        ReconcilePlan plan = Plan(Desired(1, 1, 0), options, instances: [Instance("a1", "a", InstanceState.Ready), Instance("b1", "b", state, age)]);

        Assert.Equal(replaced, plan.Commands.OfType<ReconcileCommand.Stop>().Any(s => s.Reason == StopReason.StartupTimeout && s.Instance.Value == "b1"));
        Assert.Equal(replaced ? 1 : 0, plan.Commands.OfType<ReconcileCommand.SpinUp>().Count(s => s.Request.SiteId == "b"));
        Assert.DoesNotContain(plan.Commands.OfType<ReconcileCommand.SetRoute>(), r => replaced && r.Route.Weights.Any(w => w.SiteId == "b"));
    }

    [Fact]
    public void Without_a_startup_timeout_a_stuck_instance_is_left_alone()
    {
        ReconcilePlan plan = Plan(Desired(1, 1, 0), new ReconcilerOptions(), instances: [Instance("a1", "a", InstanceState.Ready), Instance("b1", "b", InstanceState.Starting, 1e6)]);

        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Stop>());
    }

    [Theory]
    [InlineData(1000, 0, 750, 250)]
    [InlineData(750, 250, 500, 500)]
    [InlineData(250, 750, 0, 1000)]
    public void Hot_swap_moves_a_quarter_of_the_traffic_per_pass_and_keeps_the_old_instance(double fromA, double fromB, double toA, double toB)
    {
        var options = new ReconcilerOptions { Strategy = MigrationStrategy.HotSwap };
        (string, double)[] current = new[] { ("a", fromA), ("b", fromB) }.Where(w => w.Item2 > 0).ToArray();

        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            options,
            [RouteFrom("a", current)],
            instances: [Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)]);

        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Drain>());
        Route route = Assert.Single(plan.Commands.OfType<ReconcileCommand.SetRoute>(), r => r.Route.IngressSiteId == "a").Route;
        Assert.Equal(toA, route.Weights.Where(w => w.SiteId == "a").Sum(w => w.Weight));
        Assert.Equal(toB, route.Weights.Where(w => w.SiteId == "b").Sum(w => w.Weight));
    }

    [Fact]
    public void Hot_swap_drains_the_old_instance_once_it_carries_no_traffic()
    {
        var options = new ReconcilerOptions { Strategy = MigrationStrategy.HotSwap };

        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            options,
            [RouteFrom("a", ("b", 1000))],
            instances: [Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)]);

        Assert.Equal("old", Assert.Single(plan.Commands.OfType<ReconcileCommand.Drain>()).Instance.Value);
    }

    [Fact]
    public void Hot_swap_does_not_move_traffic_to_an_instance_that_is_still_warming()
    {
        var options = new ReconcilerOptions { Strategy = MigrationStrategy.HotSwap };

        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            options,
            [RouteFrom("a", ("a", 1000))],
            instances: [Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Warming)]);

        Assert.DoesNotContain(plan.Commands, c => c is ReconcileCommand.Drain or ReconcileCommand.SetRoute { Route.IngressSiteId: "a" });
    }

    [Fact]
    public void Pre_emptive_moves_all_traffic_at_once_and_drains_immediately()
    {
        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            new ReconcilerOptions(),
            [RouteFrom("a", ("a", 1000))],
            instances: [Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)]);

        Assert.Single(plan.Commands.OfType<ReconcileCommand.Drain>());
        Route route = Assert.Single(plan.Commands.OfType<ReconcileCommand.SetRoute>(), r => r.Route.IngressSiteId == "a").Route;
        Assert.Equal([new SiteWeight("b", 1000)], route.Weights);
    }

    [Fact]
    public void The_strategy_is_chosen_per_app()
    {
        var options = new ReconcilerOptions { StrategyByApp = new Dictionary<string, MigrationStrategy> { ["api"] = MigrationStrategy.HotSwap } };

        Assert.Equal(MigrationStrategy.HotSwap, options.StrategyFor("api"));
        Assert.Equal(MigrationStrategy.PreEmptive, options.StrategyFor("other"));
        ReconcilePlan plan = Plan(
            Desired(0, 1, 0),
            options,
            [RouteFrom("a", ("a", 1000))],
            instances: [Instance("old", "a", InstanceState.Ready), Instance("new", "b", InstanceState.Ready)]);
        Assert.Empty(plan.Commands.OfType<ReconcileCommand.Drain>());
    }

    [Theory]
    [InlineData("MaxSurge")]
    [InlineData("MaxConcurrentMigrations")]
    [InlineData("HotSwapStep")]
    [InlineData("CooldownSeconds")]
    [InlineData("StartupTimeoutFactor")]
    public void Invalid_options_are_rejected_by_name(string field)
    {
        ReconcilerOptions options = field switch
        {
            "MaxSurge" => new() { MaxSurge = 0 },
            "MaxConcurrentMigrations" => new() { MaxConcurrentMigrations = 0 },
            "HotSwapStep" => new() { HotSwapStep = 0 },
            "CooldownSeconds" => new() { CooldownSeconds = double.NaN },
            _ => new() { StartupTimeoutFactor = 0.5 },
        };

        Assert.Equal(field, options.Validate());
        var e = Assert.Throws<ArgumentException>(() => new PlacementReconciler(Topology(), [s_app], options));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }
}
