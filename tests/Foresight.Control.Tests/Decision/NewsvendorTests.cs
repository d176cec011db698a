using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Control.Decision;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;

namespace Foresight.Control.Tests.Decision;

public sealed class NewsvendorTests
{
    [Fact]
    public void The_quantile_is_the_critical_fractile_of_a_miss_against_an_instance_second()
    {
        // 100 req/s per instance at 70%: one missing instance-second leaves 70 requests; at 0.01 each that is 0.7
        // against 1 for an idle instance-second, so q = 0.7 / 1.7.
        Assert.Equal(0.7 / 1.7, PlanningQuantiles.Newsvendor(0.01, 100, 0.7), 12);
        Assert.Equal(PlanningQuantiles.Min, PlanningQuantiles.Newsvendor(0, 100, 0.7));
        Assert.Equal(PlanningQuantiles.Max, PlanningQuantiles.Newsvendor(1e9, 100, 0.7));
    }

    [Property]
    public Property Dearer_misses_and_bigger_instances_never_plan_for_a_lower_quantile() =>
        Prop.ForAll(
            Gen.Choose(0, 100_000).Select(v => v / 1e6).ToArbitrary(),
            Gen.Choose(1, 5000).ToArbitrary(),
            Gen.Choose(1, 1000).Select(v => v / 1000.0).ToArbitrary(),
            (cost, capacity, extra) =>
            {
                double q = PlanningQuantiles.Newsvendor(cost, capacity, 0.7);
                return q >= PlanningQuantiles.Min && q <= PlanningQuantiles.Max
                    && PlanningQuantiles.Newsvendor(cost + extra, capacity, 0.7) >= q
                    && PlanningQuantiles.Newsvendor(cost, capacity * 2, 0.7) >= q;
            });

    [Fact]
    public void Without_a_price_the_fixed_quantile_holds_and_the_apps_price_wins_over_the_policys()
    {
        AppProfile app = new() { Name = "a", Concurrency = 1, ServiceTimeMs = 10 }; // 100 req/s per instance
        var options = new PredictiveOptions { PlanningQuantile = 0.6 };

        Assert.Equal(0.6, PlanningQuantiles.For(app, options, 0.7));
        Assert.Equal(PlanningQuantiles.Newsvendor(0.001, 100, 0.7), PlanningQuantiles.For(app, options with { MissCost = 0.001 }, 0.7));
        Assert.Equal(PlanningQuantiles.Newsvendor(0.05, 100, 0.7), PlanningQuantiles.For(app with { MissCost = 0.05 }, options with { MissCost = 0.001 }, 0.7));
        Assert.Equal(nameof(PredictiveOptions.MissCost), new PredictiveOptions { MissCost = -1 }.Validate());
    }

    [Fact]
    public void A_dear_miss_raises_the_floor_where_a_cheap_one_plans_below_the_median()
    {
        AppProfile app = new() { Name = "a", Concurrency = 1, ServiceTimeMs = 100, MaxInstances = 50 }; // 10 req/s per instance
        // Predicted demand spreads from 20 req/s (5%) to 60 req/s (95%), median 40.
        Forecast?[] forecasts = [Spread(20, 40, 60)];
        int[] current = [1];

        int Needed(double missCost)
        {
            var options = new PredictiveOptions { MissCost = missCost };
            options = options with { PlanningQuantile = PlanningQuantiles.For(app, options, 0.7) };
            return PredictiveFloor.Compute(app, forecasts, current, 0.7, options)[0].Needed;
        }

        Assert.True(Needed(10) > Needed(0.1), $"{Needed(10)} vs {Needed(0.1)}");
        Assert.True(Needed(0.1) > Needed(0.001), $"{Needed(0.1)} vs {Needed(0.001)}");
        Assert.Equal(9, Needed(10)); // q = 0.95: 60 req/s at 7 req/s per instance
        Assert.Equal(3, Needed(0.001)); // q = 0.05: 20 req/s
    }

    private static Forecast Spread(double low, double median, double high)
    {
        double[] quantiles = [0.05, 0.1, 0.5, 0.9, 0.95];
        double[] at = [low, low + ((median - low) * 0.2), median, high - ((high - median) * 0.2), high];
        double[][] values = at.Select(v => Enumerable.Repeat(v, 40).ToArray()).ToArray();
        return new Forecast("a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), quantiles, values);
    }
}
