using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

public sealed class RegimeChangeTests
{
    // Hourly volumes: a = 1, 2, 0 and b = 0, 1, 1 requests per trace second (rows at 0, 1 and 2 trace hours).
    private static TraceTable HourlyWide() => new(
        "hourly.csv",
        [0, 3600, 7200],
        new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero),
        [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "a"), new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "b")],
        [[3600, 7200, 0], [0, 3600, 3600]],
        FillReport.None);

    private static ScenarioSpec Spec(string regime) => ScenarioLoader.Load(
        $"name: tiny\ntrace: hourly.csv\ntimeScale: 60\nsites: {{ method: single }}\n{regime}apps:\n  - {{ name: x }}\n",
        "tiny.yaml",
        "");

    [Fact]
    public void Rotation_moves_each_sources_traffic_to_another_from_the_change_on()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec("regimeChangeAt: 3600\nregimeChangeRemap: rotate\n"), HourlyWide(), null);
        var rates = new double[2];

        scenario.Demand.FillRates(0, 0, rates);
        Assert.Equal([1.0, 0.0], rates); // before: as recorded
        scenario.Demand.FillRates(0, 60, rates);
        Assert.Equal([1.0, 2.0], rates); // trace hour 1: a replays b's column and b replays a's
        scenario.Demand.FillRates(0, 120, rates);
        Assert.Equal([1.0, 0.0], rates);
        Assert.Equal(60, scenario.RegimeChangeSeconds);
    }

    [Fact]
    public void Without_a_remap_the_trace_is_untouched_and_only_the_change_time_is_kept()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec("regimeChangeAt: 3600\n"), HourlyWide(), null);
        var rates = new double[2];
        scenario.Demand.FillRates(0, 60, rates);
        Assert.Equal([2.0, 1.0], rates);
        Assert.Equal(60, scenario.RegimeChangeSeconds);
    }

    [Theory]
    [InlineData("regimeChangeRemap: rotate\n", "regimeChangeRemap")]
    [InlineData("regimeChangeAt: 3600\nregimeChangeRemap: shuffle\n", "regimeChangeRemap")]
    [InlineData("regimeChangeAt: -1\n", "regimeChangeAt")]
    public void Invalid_regime_settings_name_the_field(string regime, string field)
    {
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => Spec(regime));
        Assert.Contains(field, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_change_before_the_replayed_window_is_an_error_naming_the_field()
    {
        InvalidInputException e = Assert.Throws<InvalidInputException>(
            () => ScenarioBuilder.Build(Spec("traceStart: 3600\nregimeChangeAt: 0\n"), HourlyWide(), null));
        Assert.Contains("regimeChangeAt", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SLO_violations_are_split_around_the_change_counting_dropped_requests()
    {
        SimulationScenario scenario = ScenarioBuilder.Build(Spec("regimeChangeAt: 3600\n"), HourlyWide(), null);

        // One trace day is 1440 simulated seconds here; the scenario lasts 180 s (three hourly rows), so warm-up ends at 36 s.
        var timeline = new List<TimelineSample>
        {
            new(0, 100, 50, 1, [1]), // warm-up: left out of "before"
            new(40, 100, 5, 1, [1]) { Dropped = 5 },
            new(60, 100, 20, 1, [1]),
            new(90, 100, 40, 1, [1]),
        };
        var result = new PolicyResult { Name = "p", Apps = [], Timeline = timeline, LatencyCdf = [] };

        RegimeSplit split = ScenarioRunner.Split(scenario, result, scenario.RegimeChangeSeconds!.Value);

        Assert.Equal(36, split.FromSeconds);
        Assert.Equal(0.10, split.SloViolationRateBefore, 9);
        Assert.Equal(0.30, split.SloViolationRateAfter, 9);
        Assert.Equal(0, split.SloViolationRateAfterSettled); // nothing a day after the change
        double[] day = Assert.Single(split.DailySloViolationRates);
        Assert.Equal(120.0 / 400, day[1], 9);
    }
}
