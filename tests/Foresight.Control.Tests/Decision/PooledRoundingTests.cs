using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Control.Decision;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;

namespace Foresight.Control.Tests.Decision;

public sealed class PooledRoundingTests
{
    [Theory]
    [InlineData(new[] { 0.2, 0.2, 0.2, 0.2 }, new[] { 1, 0, 0, 0 })]
    [InlineData(new[] { 1.3, 0.6, 2.0, 0.4 }, new[] { 1, 1, 2, 1 })]
    [InlineData(new[] { 1.5, 1.5 }, new[] { 2, 1 })]
    [InlineData(new[] { 0.0, 0.0 }, new[] { 0, 0 })]
    [InlineData(new[] { 3.0 }, new[] { 3 })]
    public void The_largest_remainders_get_the_rounded_up_instances(double[] needs, int[] expected)
    {
        Assert.Equal(expected, PooledRounding.Distribute(needs));
    }

    [Property]
    public Property The_total_is_rounded_up_once_and_each_site_stays_within_floor_and_ceil() =>
        Prop.ForAll(
            Gen.ListOf(Gen.Choose(0, 5000).Select(v => v / 1000.0)).ToArbitrary(),
            list =>
            {
                double[] needs = [.. list];
                int[] counts = PooledRounding.Distribute(needs);
                bool within = needs.Select((n, i) => counts[i] >= Math.Floor(n + 1e-9) && counts[i] <= Math.Ceiling(n - 1e-9)).All(b => b);
                return within && counts.Sum() == (int)Math.Ceiling(needs.Sum() - 1e-9);
            });

    [Fact]
    public void Pooled_floors_hold_fewer_spares_than_rounding_at_every_site_and_keep_capacity_rounded_up_alone()
    {
        AppProfile app = new() { Name = "a", Concurrency = 1, ServiceTimeMs = 100, MaxInstances = 50 }; // 10 req/s per instance
        // Every site expects 3 req/s: 0.43 of an instance at the 70% planning utilization.
        Forecast?[] forecasts = Enumerable.Range(0, 8).Select(_ => (Forecast?)Flat(3)).ToArray();
        int[] current = new int[8];

        var alone = PredictiveFloor.Compute(app, forecasts, current, 0.7, new PredictiveOptions { PoolRounding = false });
        var pooled = PredictiveFloor.Compute(app, forecasts, current, 0.7, new PredictiveOptions());

        Assert.Equal(8, alone.Sum(d => d.Needed));
        Assert.Equal(4, pooled.Sum(d => d.Needed)); // ceil(8 × 3 / 7)
        Assert.All(pooled, d => Assert.Equal(1, d.NeededAlone));
    }

    private static Forecast Flat(double rate)
    {
        double[] quantiles = [0.05, 0.1, 0.5, 0.9, 0.95];
        double[][] values = quantiles.Select(_ => Enumerable.Repeat(rate, 40).ToArray()).ToArray();
        return new Forecast("a", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), quantiles, values);
    }
}
