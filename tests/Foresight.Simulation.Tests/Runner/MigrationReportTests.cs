using Foresight.Simulation.Oracle;
using Foresight.Control.Decision;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Runner;

public sealed class MigrationReportTests
{
    /// <summary>Two sites; the demand at site 1 steps from 5 to 200 req/s at t = 600 s, site 0 stays at 60.</summary>
    private static EngineSetup KnownShift() =>
        TestClusters.Setup(
            TestClusters.Line(2),
            TestClusters.App(concurrency: 2, serviceTimeMs: 20) with { MaxInstances = 30 },
            (t, s) => s == 0 ? 60 : t < 600 ? 5 : 200,
            seed: 5);

    private static PredictivePolicy Oracle(EngineSetup setup, bool record = true)
    {
        var options = new PredictiveOptions();
        double lead = PredictiveFloor.LeadTimeSeconds(setup.Apps[0], options);
        int horizon = (int)Math.Ceiling((lead + options.HoldSeconds) / 5) + 1;
        return new PredictivePolicy("oracle", new OracleForecaster(setup.Demand, setup.Topology, setup.Epoch, 5, horizon), options) { RecordMigrations = record };
    }

    [Fact]
    public void A_known_shift_gives_one_early_spin_up_at_the_site_it_moves_to()
    {
        EngineSetup setup = KnownShift();

        PolicyResult result = SimulationRunner.Run(setup, new RunSettings { DurationSeconds = 900 }, Oracle(setup));

        MigrationReport report = result.PredictiveMigrations!;
        MigrationRecord record = Assert.Single(report.Events);
        Assert.Equal(1, report.Count);
        Assert.Equal("site-1", record.To);
        Assert.True(record.Real);
        Assert.Equal(1, report.Real);
        Assert.Equal(0, report.FalseAlarms);

        // Decided about one lead time (10 s cold start + 20 s warm-up + 5 s margin) plus the hold window before the rise,
        // ready before the rise, and the rise seen once the 15 s observation window holds the new demand.
        Assert.InRange(record.DecidedAt, 600 - 35 - 30 - 5, 600 - 35);
        Assert.InRange(record.RiseAt!.Value, 600, 620);
        Assert.True(record.LeadTimeSeconds > 0, $"lead {record.LeadTimeSeconds}");
        Assert.Equal(record.RiseAt - record.ReadyAt, record.LeadTimeSeconds);
        Assert.Equal(0, report.CatchUps);
        Assert.Equal(record.LeadTimeSeconds!.Value, report.AnticipatedLeadTimeSeconds[1]);
        Assert.Equal([record.LeadTimeSeconds!.Value, record.LeadTimeSeconds.Value, record.LeadTimeSeconds.Value], report.LeadTimeSeconds);
        Assert.Equal(1, report.Early);
        Assert.Equal("api", Assert.Single(report.ByApp).App);
    }

    [Fact]
    public void Reactive_policies_and_runs_without_recording_have_no_migration_report()
    {
        EngineSetup setup = KnownShift();
        var settings = new RunSettings { DurationSeconds = 60 };

        Assert.Null(SimulationRunner.Run(setup, settings, new Foresight.Control.Policies.HpaPolicy()).PredictiveMigrations);
        var quiet = new PredictivePolicy("p", new OracleForecaster(setup.Demand, setup.Topology, setup.Epoch, 5, 20));
        Assert.Null(SimulationRunner.Run(setup, settings, quiet).PredictiveMigrations);
    }

    [Fact]
    public void The_recorder_never_changes_a_decision()
    {
        EngineSetup setup = KnownShift();
        var settings = new RunSettings { DurationSeconds = 900 };
        PolicyResult recorded = SimulationRunner.Run(setup, settings, Oracle(setup));
        PolicyResult unrecorded = SimulationRunner.Run(setup, settings, Oracle(setup, record: false));

        Assert.Equal(unrecorded.InstanceSeconds, recorded.InstanceSeconds);
        Assert.Equal(unrecorded.LatencyP99Ms, recorded.LatencyP99Ms);
        Assert.Equal(unrecorded.ScaleEvents, recorded.ScaleEvents);
        Assert.Null(unrecorded.PredictiveMigrations);
    }

    [Fact]
    public void A_predicted_rise_that_never_comes_is_a_false_alarm_with_no_lead_time()
    {
        var recorder = new MigrationRecorder();
        string[] sites = ["a", "b"];
        int[] before = [1, 1];
        int[] after = [1, 3];
        recorder.Observe(0, "api", sites, 100, [false, true], before, after, [1, 1], [1, 1], [50, 50], 70, 95, 70);
        recorder.Observe(0, "api", sites, 150, [false, false], after, after, [1, 3], [1, 3], [50, 50], 70, 95, 70);
        recorder.Observe(0, "api", sites, 200, [false, false], after, after, [1, 3], [1, 3], [50, 60], 70, 95, 70);

        MigrationReport report = recorder.Build();
        MigrationRecord record = Assert.Single(report.Events);
        Assert.False(record.Real);
        Assert.Null(record.LeadTimeSeconds);
        Assert.Equal(150, record.ReadyAt);
        Assert.Equal((1, 0, 0, 1), (report.SpinUps, report.Moves, report.Real, report.FalseAlarms));
        Assert.Empty(report.LeadTimeSeconds);
    }

    [Fact]
    public void A_raise_paid_for_by_another_site_is_a_move_from_that_site_and_a_late_one_has_a_negative_lead()
    {
        var recorder = new MigrationRecorder();
        string[] sites = ["a", "b", "c"];

        // b goes up while a gives up two replicas; the demand at b (120) is already past its capacity (1 x 70).
        recorder.Observe(0, "api", sites, 10, [false, true, false], [3, 1, 1], [1, 3, 1], [3, 1, 1], [3, 1, 1], [10, 120, 5], 70, 100, 60);
        recorder.Observe(0, "api", sites, 40, [false, false, false], [1, 3, 1], [1, 3, 1], [1, 3, 1], [1, 3, 1], [10, 130, 5], 70, 100, 60);

        MigrationRecord record = Assert.Single(recorder.Build().Events);
        Assert.Equal(("a", "b"), (record.From, record.To));
        Assert.Equal(10, record.RiseAt);
        Assert.Equal(40, record.ReadyAt);
        Assert.Equal(-30, record.LeadTimeSeconds);
        Assert.Equal(1, recorder.Build().Moves);

        // The rise was under way at the decision: a catch-up, kept out of the anticipated lead times.
        Assert.Equal(1, recorder.Build().CatchUps);
        Assert.Empty(recorder.Build().AnticipatedLeadTimeSeconds);
    }

    [Fact]
    public void Latency_saved_is_hpa_minus_predictive_over_each_window_and_overlapping_windows_count_once()
    {
        // One app, two sites, 10 s buckets. Site 1 from 100 s: predictive serves 100 requests per bucket at 20 ms with 1
        // violation; hpa serves the same 100 at 50 ms with 10 violations.
        var mine = new SiteWindowStats(1, 2, 10);
        var hpa = new SiteWindowStats(1, 2, 10);
        for (double t = 0; t < 300; t += 10)
        {
            bool after = t >= 100;
            mine.Add(0, 1, t, new SiteWindow(100, after ? 1 : 0, 100, 100 * (after ? 20 : 10)));
            hpa.Add(0, 1, t, new SiteWindow(100, after ? 10 : 0, 100, 100 * (after ? 50 : 10)));
        }

        MigrationRecord Record(double rise) => new("api", null, "site-1", rise - 40, rise - 10, rise, 10, true, 1, 2, 70, 60);
        var report = new MigrationReport(2, 2, 0, 2, 0, 0, 2, [10, 10, 10], null, []) { AllEvents = [Record(100), Record(130)] };

        MigrationReport compared = MigrationComparison.Compare(report, _ => 0, id => id == "site-1" ? 1 : 0, mine, hpa);

        WindowComparison first = compared.Events[0].VsHpa!;
        Assert.Equal(600, first.Requests);
        Assert.Equal(30, first.LatencySavedMs, 9);
        Assert.Equal(0.10, first.HpaSloViolationRate, 9);
        Assert.Equal(0.01, first.SloViolationRate, 9);
        Assert.Equal(54, first.ViolationsAvoided, 9);

        // [100, 160) and [130, 190) overlap: the summary covers [100, 190) once, 9 buckets of 100 requests.
        WindowComparison total = compared.VsHpa!;
        Assert.Equal(900, total.Requests);
        Assert.Equal(30, total.LatencySavedMs, 9);
        Assert.Equal(81, total.ViolationsAvoided, 9);

        AppMigrations app = Assert.Single(compared.ByApp);
        Assert.Equal(("api", 2, 2, 0), (app.App, app.Count, app.Real, app.FalseAlarms));
        Assert.Equal(total, app.VsHpa);
        Assert.Equal([10.0, 10, 10], app.LeadTimeSeconds);
    }

    [Theory]
    [InlineData(new double[] { 0, 10, 5, 20, 30, 40 }, new double[] { 0, 20, 30, 40 })]
    [InlineData(new double[] { 0, 10, 10, 20 }, new double[] { 0, 20 })]
    [InlineData(new double[] { 50, 60, 0, 10 }, new double[] { 0, 10, 50, 60 })]
    public void Window_union_merges_overlapping_and_touching_intervals(double[] flat, double[] expected)
    {
        var intervals = Enumerable.Range(0, flat.Length / 2).Select(i => (flat[2 * i], flat[(2 * i) + 1]));

        var union = MigrationComparison.Union(intervals);

        Assert.Equal(expected, union.SelectMany(u => new[] { u.From, u.To }));
    }

    [Fact]
    public void Site_statistics_count_every_arrival_at_its_ingress_site()
    {
        EngineSetup setup = KnownShift();
        PolicyResult result = SimulationRunner.Run(setup, new RunSettings { DurationSeconds = 300 }, new Foresight.Control.Policies.HpaPolicy());

        SiteWindowStats stats = result.SiteStats!;
        double total = stats.Window(0, 0, 0, 400).Requests + stats.Window(0, 1, 0, 400).Requests;
        Assert.Equal(result.Requests, total, 6);
        Assert.InRange(stats.Window(0, 0, 0, 300).Requests / 300, 50, 70); // ~60 req/s at site 0
    }
}
