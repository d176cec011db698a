using System.Text.Json;
using Foresight.Core.Forecasts;

namespace Foresight.Core.Tests;

public sealed class ForecastTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private static Forecast Make(double[]? mean = null) => new(
        "a/b/c",
        T0,
        TimeSpan.FromSeconds(5),
        [0.5, 0.05, 0.95, 0.1, 0.9],
        [[10, 20], [2, 12], [18, 28], [4, 14], [16, 26]],
        mean);

    [Fact]
    public void Levels_are_sorted_with_their_rows()
    {
        Forecast f = Make();
        Assert.Equal([0.05, 0.1, 0.5, 0.9, 0.95], f.Levels);
        Assert.Equal([2.0, 12], f.Values[0]);
        Assert.Equal([18.0, 28], f.Values[4]);
        Assert.Equal(2, f.Horizon);
        Assert.Equal(T0.AddSeconds(5), f.TimeAt(1));
    }

    [Fact]
    public void Span_reads_match_the_views_and_stored_levels_read_exactly()
    {
        Forecast f = Make([11, 21]);
        for (int l = 0; l < f.Levels.Count; l++)
        {
            Assert.Equal(f.Values[l], f.LevelValues(l).ToArray());
            Assert.Equal(f.Values[l][1], f.Quantile(f.Levels[l], 1));
        }

        Assert.Equal([11.0, 21], f.MeanValues().ToArray());
        Assert.Equal(f.Median, Make().MeanValues().ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => f.LevelValues(5).ToArray());

        // Interpolating to a stored level could round (0.1 + (0.3 - 0.1) is not always 0.3); a stored level reads as stored.
        var tricky = new Forecast("s", T0, TimeSpan.FromSeconds(5), [0.05, 0.1, 0.5, 0.9, 0.95], [[1e-17], [0.1], [0.7], [1e17], [3e17]]);
        Assert.Equal(0.7, tricky.Quantile(0.5, 0));
        Assert.Equal(1e17, tricky.Quantile(0.9, 0));
    }

    [Fact]
    public void Mean_defaults_to_the_median()
    {
        Forecast f = Make();
        Assert.False(f.HasExplicitMean);
        Assert.Equal([10.0, 20], f.Mean);
        Forecast g = Make([11, 21]);
        Assert.True(g.HasExplicitMean);
        Assert.Equal([11.0, 21], g.Mean);
    }

    [Theory]
    [InlineData(0.5, 10)]
    [InlineData(0.3, 7)] // between 0.1 (4) and 0.5 (10): 4 + 0.5 * 6
    [InlineData(0.925, 17)] // between 0.9 (16) and 0.95 (18)
    [InlineData(0.01, 2)] // clamped below
    [InlineData(0.999, 18)] // clamped above
    public void Quantile_interpolates_and_clamps(double q, double expected)
    {
        Assert.Equal(expected, Make().Quantile(q, 0), 12);
        Assert.Equal(expected + 10, Make().Quantile(q)[1], 12);
    }

    [Fact]
    public void Interval_uses_the_symmetric_quantiles_and_nixtla_names()
    {
        (double[] lo, double[] hi) = Make().Interval(0.9);
        Assert.Equal([2.0, 12], lo);
        Assert.Equal([18.0, 28], hi);
        Assert.Equal(("lo-90", "hi-90"), Forecast.IntervalNames(0.9));
        Assert.Equal(("lo-97.5", "hi-97.5"), Forecast.IntervalNames(0.975));
        IReadOnlyDictionary<string, double[]> columns = Make().ToColumns([0.8]);
        Assert.Equal(4.0, columns["lo-80"][0], 12);
        Assert.Equal(26.0, columns["hi-80"][1], 12);
        Assert.Equal([10.0, 20], columns["q0.5"]);
    }

    [Fact]
    public void Crossing_quantiles_are_sorted_per_step()
    {
        var f = new Forecast("s", T0, TimeSpan.FromHours(1), [0.05, 0.1, 0.5, 0.9, 0.95], [[5, 1], [3, 2], [4, 3], [9, 4], [8, 5]]);
        Assert.Equal([3.0, 1], f.Values[0]);
        Assert.Equal([4.0, 2], f.Values[1]);
        Assert.Equal([5.0, 3], f.Values[2]);
        Assert.Equal([8.0, 4], f.Values[3]);
        Assert.Equal([9.0, 5], f.Values[4]);
    }

    [Fact]
    public void Invalid_forecasts_are_rejected()
    {
        TimeSpan step = TimeSpan.FromSeconds(1);
        Assert.Throws<ArgumentException>(() => new Forecast("s", T0, step, [0.1, 0.5, 0.9], [[1.0], [2.0], [3.0]]));
        Assert.Throws<ArgumentException>(() => new Forecast("s", T0, step, [0.05, 0.1, 0.5, 0.9, 0.95], [[1.0], [2.0], [double.NaN], [4.0], [5.0]]));
        Assert.Throws<ArgumentException>(() => new Forecast("s", T0, step, [0.05, 0.1, 0.5, 0.9, 0.95], [[1.0], [2.0], [3.0, 4.0], [4.0], [5.0]]));
        Assert.Throws<ArgumentException>(() => new Forecast("s", T0, step, [0.05, 0.1, 0.5, 0.5, 0.9, 0.95], [[1.0], [2.0], [3.0], [3.0], [4.0], [5.0]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Forecast("s", T0, step, [0.05, 0.1, 0.5, 0.9, 1.0], [[1.0], [2.0], [3.0], [4.0], [5.0]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Forecast("s", T0, TimeSpan.Zero, [0.05, 0.1, 0.5, 0.9, 0.95], [[1.0], [2.0], [3.0], [4.0], [5.0]]));
        Assert.Throws<ArgumentOutOfRangeException>(() => Make().Quantile(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Make().Interval(1));
    }

    [Fact]
    public void Cdf_inverts_the_quantile_function()
    {
        Forecast f = Make();
        Assert.Equal(0.5, f.Cdf(0, 10), 12);
        Assert.Equal(0.3, f.Cdf(0, 7), 12);
        Assert.Equal(0.05, f.Cdf(0, -100), 12);
        Assert.Equal(0.95, f.Cdf(0, 100), 12);
    }

    [Fact]
    public void Json_round_trip_gives_an_equal_value()
    {
        Forecast f = Make([11, 21]);
        string json = JsonSerializer.Serialize(f);
        Forecast? back = JsonSerializer.Deserialize<Forecast>(json);
        Assert.NotNull(back);
        Assert.Equal(f, back);
        Assert.Equal(f.GetHashCode(), back.GetHashCode());
        Assert.NotEqual(f, Make());
    }
}
