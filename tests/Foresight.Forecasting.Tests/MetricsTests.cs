using Foresight.Forecasting.Metrics;

namespace Foresight.Forecasting.Tests;

public sealed class MetricsTests
{
    [Fact]
    public void SMape_matches_hand_computation()
    {
        // 200·10/210 = 9.523809…, 200·20/380 = 10.526315…
        double expected = ((2000.0 / 210) + (4000.0 / 380)) / 2;
        Assert.Equal(expected, M4Metrics.SMape([100, 200], [110, 180]), 12);
    }

    [Fact]
    public void Mase_uses_the_in_sample_seasonal_naive_scale()
    {
        // m = 2: |3-1|, |4-2|, |5-3|, |6-4| = 2 each -> scale 2; errors 1 and 2 -> 1.5 / 2.
        Assert.Equal(2, M4Metrics.SeasonalNaiveScale([1, 2, 3, 4, 5, 6], 2), 12);
        Assert.Equal(0.75, M4Metrics.Mase([1, 2, 3, 4, 5, 6], [7, 8], [6, 10], 2), 12);
    }

    [Fact]
    public void Msis_penalises_misses_by_two_over_alpha()
    {
        // widths 2 + 1 + 6 = 9; 8 < 9 costs 40·1; 12 > 11 costs 40·1; (9 + 80) / 3 / scale 2.
        double msis = M4Metrics.Msis([1, 2, 3, 4, 5, 6], [7, 8, 12], [6, 9, 5], [8, 10, 11], 2, 0.05);
        Assert.Equal(89.0 / 3 / 2, msis, 12);
        Assert.Equal(1.0 / 3, M4Metrics.Coverage([7, 8, 12], [6, 9, 5], [8, 10, 11]), 12);
    }

    [Fact]
    public void Pinball_and_owa_match_hand_computation()
    {
        // q = 0.9: under-forecast by 2 costs 1.8, over-forecast by 2 costs 0.2.
        Assert.Equal(1.0, M4Metrics.Pinball([10, 10], [8, 12], 0.9), 12);
        Assert.Equal(0.5, M4Metrics.Owa(10, 1, 20, 2), 12);
        Assert.Equal(0.75, M4Metrics.Owa(10, 2, 20, 2), 12);
    }

    [Fact]
    public void Autocorrelations_match_r_acf()
    {
        // x - mean = ±1 alternating: c0 = 6, r1 = -5/6, r2 = 4/6 (R: acf(c(2,4,2,4,2,4))).
        double[] r = M4Metrics.Autocorrelations([2, 4, 2, 4, 2, 4], 2);
        Assert.Equal(1, r[0], 12);
        Assert.Equal(-5.0 / 6, r[1], 12);
        Assert.Equal(4.0 / 6, r[2], 12);
    }

    [Fact]
    public void Seasonality_test_follows_the_m4_rule()
    {
        // n = 6, m = 2: limit = 1.645/√6 · √(1 + 2·(5/6)²) = 1.038 > |r2| = 0.667 -> not seasonal.
        Assert.False(M4Metrics.SeasonalityTest([2, 4, 2, 4, 2, 4], 2));
        // Shorter than 3m -> not seasonal.
        Assert.False(M4Metrics.SeasonalityTest([2, 4, 2, 4, 2], 2));
        // A clean daily cycle over 14 days -> seasonal at 24 (lag.max = ⌊10·log10 336⌋ = 25 ≥ 24).
        double[] daily = Enumerable.Range(0, 336).Select(t => 10 + (5 * Math.Sin(2 * Math.PI * t / 24))).ToArray();
        Assert.True(M4Metrics.SeasonalityTest(daily, 24));
        // m beyond R's default lag.max -> not seasonal: 10 days give lag.max = ⌊10·log10 240⌋ = 23 < 24.
        Assert.False(M4Metrics.SeasonalityTest(daily[..240], 24));
    }

    [Fact]
    public void Classical_multiplicative_decomposition_matches_r_decompose()
    {
        // Trend (weights ¼, ½, ¼) is 3 wherever defined; ratios 4/3 at odd and 2/3 at even positions.
        double[] s = M4Metrics.MultiplicativeSeasonalIndices([2, 4, 2, 4, 2, 4], 2);
        Assert.Equal(2.0 / 3, s[0], 12);
        Assert.Equal(4.0 / 3, s[1], 12);
        Assert.Equal(2.0 / 3, s[4], 12);
    }

    [Fact]
    public void Naive2_reseasonalises_the_last_adjusted_value()
    {
        // Not seasonal by the test -> plain naive.
        Assert.Equal([4.0, 4, 4], M4Metrics.Naive2([2, 4, 2, 4, 2, 4], 3, 2));

        // Seasonal: for a pure multiplicative cycle, Naive2 repeats the last season scaled to the last level.
        double[] pattern = [0.5, 1, 1.5, 1];
        double[] x = Enumerable.Range(0, 40).Select(t => 100 * pattern[t % 4]).ToArray();
        x[^1] = 110; // last adjusted value = 110 / 1 = 110
        double[] f = M4Metrics.Naive2(x, 4, 4);
        double[] s = M4Metrics.MultiplicativeSeasonalIndices(x, 4);
        double last = 110 / s[39];
        Assert.Equal(last * s[36], f[0], 9);
        Assert.Equal(last * s[37], f[1], 9);
        Assert.Equal(last * s[39], f[3], 9);
        Assert.Equal([50.0, 100, 150, 100], M4Metrics.SeasonalNaive(Enumerable.Range(0, 8).Select(t => 100 * pattern[t % 4]).ToArray(), 4, 4));
    }
}
