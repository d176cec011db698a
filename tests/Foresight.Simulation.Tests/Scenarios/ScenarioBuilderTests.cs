using Foresight.Core;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

public sealed class ScenarioBuilderTests
{
    private static readonly DateTimeOffset _start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Hourly volumes: source a = 3600, 7200, 0 and b = 0, 3600, 3600, so rates per trace second are a = 1, 2, 0 and b = 0, 1, 1
    // and the busiest row (row 1) totals 3 requests/s.
    private static TraceTable HourlyWide() => new(
        "hourly.csv",
        [0, 3600, 7200],
        _start,
        [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "a"), new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "b")],
        [[3600, 7200, 0], [0, 3600, 3600]],
        FillReport.None);

    private static ScenarioSpec Spec(string extra = "", string sites = "{ method: single }") =>
        ScenarioLoader.Load(
            $"name: tiny\ntrace: hourly.csv\ntimeScale: 60\nsites: {sites}\n{extra}apps:\n  - {{ name: x, share: 0.25 }}\n  - {{ name: y, share: 0.75, peakRps: 300 }}\n",
            "tiny.yaml",
            "");

    private static double[] Rates(DemandModel demand, int app, double t)
    {
        var rates = new double[demand.SourceCount];
        demand.FillRates(app, t, rates);
        return rates;
    }

    public static TheoryData<double, double, double> PeakScaledRates => new()
    {
        // sim seconds, rate of a, rate of b (app y: 100 requests/s per trace request/s, so its busiest row totals 300)
        { 0, 100, 0 },
        { 15, 125, 25 },
        { 30, 150, 50 },
        { 60, 200, 100 },
        { 90, 100, 100 },
        { 120, 0, 100 },
        { 500, 0, 100 },
        { -5, 100, 0 },
    };

    [Theory]
    [MemberData(nameof(PeakScaledRates))]
    public void Rates_interpolate_between_rows_and_scale_to_peak_rps(double simTime, double a, double b)
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), HourlyWide(), null);

        double[] rates = Rates(scenario.Demand, 1, simTime);

        Assert.Equal(a, rates[0], 9);
        Assert.Equal(b, rates[1], 9);
        Assert.Equal(a + b, scenario.Demand.TotalRps(1, simTime), 9);
    }

    [Fact]
    public void Without_peak_rps_an_app_keeps_its_share_of_the_trace_rate()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), HourlyWide(), null);

        Assert.Equal([0.25, 0.0], Rates(scenario.Demand, 0, 0));
        Assert.Equal([0.375, 0.125], Rates(scenario.Demand, 0, 30));
        Assert.Equal(0.75, scenario.Demand.PeakTotalRps(0), 12);
        Assert.Equal(300, scenario.Demand.PeakTotalRps(1), 9);
    }

    [Fact]
    public void One_trace_hour_is_sixty_simulated_seconds_at_time_scale_60()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), HourlyWide(), null);

        Assert.Equal(60, scenario.TimeScale);
        Assert.Equal(3 * 60, scenario.DurationSeconds);
        Assert.Equal(3600, scenario.Demand.TraceSecondsAt(60));
        Assert.Equal(60, scenario.Demand.SimTimeAt(3600));
        Assert.Equal(_start.AddHours(1), scenario.Demand.WallClockAt(60));
        Assert.Equal(_start.AddMinutes(90), scenario.Demand.WallClockAt(90));
    }

    [Fact]
    public void A_trace_window_starts_and_ends_where_asked()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec("traceStart: 3600\ntraceDuration: 3600\n"), HourlyWide(), null);

        Assert.Equal(60, scenario.DurationSeconds);
        Assert.Equal([200.0, 100.0], Rates(scenario.Demand, 1, 0));
        Assert.Equal(_start.AddHours(1), scenario.Demand.WallClockAt(0));
    }

    [Fact]
    public void A_window_longer_than_the_trace_replays_to_its_end_with_a_warning()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec("traceStart: 7200\ntraceDuration: 99999\n"), HourlyWide(), null);

        Assert.Equal(60, scenario.DurationSeconds);
        Assert.Contains(scenario.Warnings, w => w.Contains("traceDuration", StringComparison.Ordinal));
    }

    [Fact]
    public void A_window_past_the_end_names_trace_start()
    {
        var e = Assert.Throws<InvalidInputException>(() => ScenarioBuilder.Build(Spec("traceStart: 10800\n"), HourlyWide(), null));

        Assert.Equal(("tiny.yaml", "traceStart", 5L), (e.File, e.Field, e.Line!.Value));
    }

    [Fact]
    public void The_scenario_carries_the_spec_values_every_policy_shares()
    {
        ScenarioSpec spec = Spec("seed: 9\nstepSeconds: 0.5\ntargetUtilization: 0.65\n");

        SimulationScenario scenario = ScenarioBuilder.Build(spec, HourlyWide(), null);

        Assert.Equal(("tiny", 9, 0.5, 0.65), (scenario.Name, scenario.Seed, scenario.StepSeconds, scenario.TargetUtilization));
        Assert.Equal(["x", "y"], scenario.Apps.Select(a => a.Name));
        Assert.Same(spec, scenario.Spec);
        Assert.Equal("hourly.csv", scenario.TraceName);
        Assert.Equal((2, 2), (scenario.Demand.AppCount, scenario.Demand.SourceCount));
    }

    [Fact]
    public void Fill_rates_does_not_allocate()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), HourlyWide(), null);
        Span<double> rates = stackalloc double[2];
        scenario.Demand.FillRates(1, 1, rates);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int t = 0; t < 10_000; t++)
        {
            scenario.Demand.FillRates(1, t * 0.01, rates);
            scenario.Demand.FillRates(0, t * 0.01, rates);
        }

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void Irregular_rows_interpolate_by_time()
    {
        var trace = new TraceTable(
            "irregular.csv",
            [0, 10, 40],
            null,
            [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "only")],
            [[10, 20, 50]],
            FillReport.None);
        ScenarioSpec spec = ScenarioLoader.Load("name: i\ntrace: t\napps: [ { name: a } ]\n", "i.yaml", "");

        SimulationScenario scenario = ScenarioBuilder.Build(spec, trace, null);

        // The median gap (30 s: gaps are 10 and 30, and the upper median is taken) turns volumes into rates.
        double step = trace.StepSeconds;
        Assert.Equal(20 / step, Rates(scenario.Demand, 0, 10)[0], 12);
        Assert.Equal((20 + ((50 - 20) * (15.0 / 30))) / step, Rates(scenario.Demand, 0, 25)[0], 12);
        Assert.Null(scenario.Demand.WallClockAt(0));
    }

    [Fact]
    public void Long_traces_sum_types_per_app_and_source_and_ignore_share()
    {
        var trace = new TraceTable(
            "long.csv",
            [0, 60],
            null,
            [new TrafficKey("web", "GET", "s1"), new TrafficKey("web", "POST", "s1"), new TrafficKey("db", "query", "s2"), new TrafficKey("web", "GET", "s2")],
            [[60, 120], [60, 0], [600, 600], [0, 60]],
            FillReport.None);
        ScenarioSpec spec = ScenarioLoader.Load(
            "name: l\ntrace: t\napps:\n  - { name: db, peakRps: 50 }\n  - { name: web, share: 0.5 }\n", "l.yaml", "");

        SimulationScenario scenario = ScenarioBuilder.Build(spec, trace, null);

        Assert.Equal([0.0, 50.0], Rates(scenario.Demand, 0, 0));
        Assert.Equal([2.0, 0.0], Rates(scenario.Demand, 1, 0));
        Assert.Equal([2.0, 1.0], Rates(scenario.Demand, 1, 60));
        Assert.Contains(scenario.Warnings, w => w.Contains("share is ignored", StringComparison.Ordinal));
    }

    public static TheoryData<string, string, string> LongTraceMismatches => new()
    {
        { "apps: [ { name: web } ]\n", "apps", "app 'db' is in the trace" },
        { "apps: [ { name: web }, { name: db }, { name: cache } ]\n", "apps[2].name", "app 'cache' has no traffic" },
    };

    [Theory]
    [MemberData(nameof(LongTraceMismatches))]
    public void Long_trace_apps_must_match_the_scenario(string apps, string field, string words)
    {
        var trace = new TraceTable(
            "long.csv",
            [0],
            null,
            [new TrafficKey("web", "GET", "s1"), new TrafficKey("db", "query", "s1")],
            [[1], [1]],
            FillReport.None);
        ScenarioSpec spec = ScenarioLoader.Load($"name: l\ntrace: t\n{apps}", "l.yaml", "");

        var e = Assert.Throws<InvalidInputException>(() => ScenarioBuilder.Build(spec, trace, null));

        Assert.Equal(("l.yaml", field), (e.File, e.Field));
        Assert.Contains(words, e.Problem, StringComparison.Ordinal);
        Assert.NotNull(e.Line);
    }

    [Fact]
    public void Sources_are_matched_by_id_with_or_without_the_column_prefix()
    {
        Source[] sources = [new("b", 10, 0), new("extra", 50, 50), new("a", 0, 0)];

        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), HourlyWide(), sources);

        Assert.Equal([new Source("a", 0, 0), new Source("b", 10, 0)], scenario.Topology.Sources);
        Assert.Contains(scenario.Warnings, w => w.Contains("1 sources in", StringComparison.Ordinal));

        var prefixed = new TraceTable(
            "p.csv",
            [0],
            null,
            [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "cell_7"), new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "area_8")],
            [[1], [1]],
            FillReport.None);
        SimulationScenario matched = ScenarioBuilder.Build(Spec(), prefixed, [new Source("7", 1, 2), new Source("area_8", 3, 4)]);
        Assert.Equal([new Source("cell_7", 1, 2), new Source("area_8", 3, 4)], matched.Topology.Sources);
    }

    [Fact]
    public void A_trace_source_without_coordinates_is_an_error_when_others_have_them()
    {
        ScenarioSpec spec = Spec() with { Sources = "cells.csv" };

        var e = Assert.Throws<InvalidInputException>(() => ScenarioBuilder.Build(spec, HourlyWide(), [new Source("a", 0, 0)]));

        Assert.Equal(("cells.csv", "sources"), (e.File, e.Field));
        Assert.Contains("'b'", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_coordinates_sources_go_on_a_ring_with_a_warning()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec(sites: "{ method: kmeans, k: 2, ringRadiusKm: 3 }"), HourlyWide(), null);

        Assert.Equal([new Source("a", 3, 0), new Source("b", -3, 0)], scenario.Topology.Sources);
        Assert.Contains(scenario.Warnings, w => w.Contains("ring", StringComparison.Ordinal));
    }

    [Fact]
    public void Negative_volumes_are_rejected_naming_the_trace_and_series()
    {
        var trace = new TraceTable(
            "neg.csv",
            [0, 1],
            null,
            [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "a")],
            [[1, -2]],
            FillReport.None);

        var e = Assert.Throws<InvalidInputException>(() => ScenarioBuilder.Build(Spec(), trace, null));

        Assert.Equal(("neg.csv", "*/default/a"), (e.File, e.Field));
        Assert.Contains("row 1", e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Filled_readings_are_reported()
    {
        TraceTable source = HourlyWide();
        var trace = new TraceTable(
            source.Name,
            source.TimeSeconds,
            source.StartTime,
            source.Keys,
            source.Values,
            new FillReport("linear-interpolation", 3, new Dictionary<string, long> { ["b"] = 2, ["a"] = 1 }));

        SimulationScenario scenario = ScenarioBuilder.Build(Spec(), trace, null);

        Assert.Contains("trace: 3 missing readings filled by linear-interpolation (most in b 2, a 1)", scenario.Warnings);
    }

    [Fact]
    public void Constant_demand_is_the_same_at_every_time()
    {
        DemandModel demand = DemandModel.Constant([[1, 2], [3, 4]]);

        Assert.Equal([3.0, 4.0], Rates(demand, 1, 12345));
        Assert.Equal(3, demand.PeakTotalRps(0));
    }
}
