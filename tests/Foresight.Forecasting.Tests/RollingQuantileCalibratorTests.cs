using FsCheck;
using FsCheck.Xunit;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Calibration;

namespace Foresight.Forecasting.Tests;

/// <summary>
/// Rolling conformal calibration of a forecast stream (design note 0022): miscalibrated synthetic models are brought to
/// nominal coverage, the calibrator learns only from outcomes it is shown, and the median never moves.
/// </summary>
public sealed class RollingQuantileCalibratorTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UnixEpoch;
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A model whose intervals are <paramref name="widthFactor"/> times the honest width, on a Gaussian stream with a
    /// drifting level the model knows. Scored only after the window has filled.
    /// </summary>
    [Theory]
    [InlineData(3.0)] // over-wide: raw coverage of the 90% interval is about 1.0
    [InlineData(0.3)] // over-narrow: about 0.35
    public void Brings_a_miscalibrated_interval_to_nominal_coverage(double widthFactor)
    {
        var calibrator = new RollingQuantileCalibrator();
        var rng = new Random(7);
        (int covered, int rawCovered, int n) = (0, 0, 0);
        for (int t = 0; t < 12_000; t++)
        {
            double level = 100 + (20 * Math.Sin(t / 300.0)), sigma = 10;
            Forecast raw = Normal(level, sigma * widthFactor);
            Forecast served = calibrator.Adjust([raw])[0];
            double y = level + (sigma * Gaussian(rng));
            if (t >= 3_000)
            {
                n++;
                covered += In90(served, y) ? 1 : 0;
                rawCovered += In90(raw, y) ? 1 : 0;
            }

            calibrator.Observe(raw, 0, y);
        }

        Assert.InRange((double)rawCovered / n, widthFactor > 1 ? 0.99 : 0.0, widthFactor > 1 ? 1.0 : 0.5);
        Assert.InRange((double)covered / n, 0.88, 0.92);
    }

    /// <summary>
    /// Demand with many exact zeros (a quiet site): the model's lower bound is clamped at 0, so the lower tail ties on the
    /// atom at zero and a symmetric rescaling would stall. The lower bound stays at 0 (the true 5% quantile) and never
    /// goes below. Each level calibrated on its own, the 0.95 level is the 95% quantile and the interval covers 95%;
    /// sharing the miss budget, the lower tail's unspent 5% goes to the upper end and the interval covers 90%.
    /// </summary>
    [Theory]
    [InlineData(false, 0.95)]
    [InlineData(true, 0.90)]
    public void A_stream_with_many_zeros_is_calibrated_per_tail(bool share, double expected)
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { ShareMissBudget = share });
        var rng = new Random(11);
        int n = 0, inInterval = 0, rawIn = 0, lowerAboveZero = 0;
        for (int t = 0; t < 12_000; t++)
        {
            // 30% zeros, otherwise exponential with mean 4; the model thinks Normal(2.8, 1) clamped at zero.
            Forecast raw = Normal(2.8, 1, clampAtZero: true);
            Forecast served = calibrator.Adjust([raw])[0];
            double y = rng.NextDouble() < 0.3 ? 0 : -4 * Math.Log(1 - rng.NextDouble());
            if (t >= 3_000)
            {
                n++;
                rawIn += In90(raw, y) ? 1 : 0;
                inInterval += In90(served, y) ? 1 : 0;
                lowerAboveZero += served.Quantile(0.05, 0) > 0 ? 1 : 0;
            }

            calibrator.Observe(raw, 0, y);
        }

        Assert.InRange((double)rawIn / n, 0.0, 0.5); // far off: the raw interval misses the zeros and the tail
        Assert.Equal(0, lowerAboveZero); // pinned at the atom, never pushed negative
        Assert.InRange((double)inInterval / n, expected - 0.02, expected + 0.02);
    }

    /// <summary>
    /// Noise four times larger in one half of the season than in the other, a model with one width for both: pooled,
    /// the interval is right on average but wrong in each half; by phase, each half is calibrated.
    /// </summary>
    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public void Phases_of_the_season_are_calibrated_apart(int phases, bool eachHalfCalibrated)
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { SeasonLength = 20, Phases = phases, Window = 1000 });
        var rng = new Random(9);
        var covered = new int[2];
        var n = new int[2];
        for (long t = 0; t < 20_000; t++)
        {
            int half = t % 20 < 10 ? 0 : 1;
            Forecast raw = Normal(0, 10);
            Forecast served = calibrator.Adjust([raw], t)[0];
            double y = (half == 0 ? 4 : 16) * Gaussian(rng);
            if (t >= 5_000)
            {
                n[half]++;
                covered[half] += In90(served, y) ? 1 : 0;
            }

            calibrator.Observe(raw, 0, y, t);
        }

        double all = (double)(covered[0] + covered[1]) / (n[0] + n[1]);
        Assert.InRange(all, 0.88, 0.92);
        bool calibrated = Enumerable.Range(0, 2).All(h => (double)covered[h] / n[h] is >= 0.88 and <= 0.92);
        Assert.Equal(eachHalfCalibrated, calibrated);
    }

    /// <summary>
    /// Calm and volatile spells (noise 4 or 16, switching every 400 steps, not tied to the season) under a model with
    /// one width: with the local scale each spell is calibrated; without it only their average is.
    /// </summary>
    [Theory]
    [InlineData(null, true)]
    [InlineData(0, false)]
    public void A_local_error_scale_calibrates_calm_and_volatile_spells(int? span, bool eachSpellCalibrated)
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { VolatilitySpan = span, Window = 1000 });
        var rng = new Random(13);
        var covered = new int[2];
        var n = new int[2];
        for (long t = 0; t < 40_000; t++)
        {
            int spell = (int)(t / 400 % 2);
            Forecast raw = Normal(0, 10);
            Forecast served = calibrator.Adjust([raw], t)[0];
            double y = (spell == 0 ? 4 : 16) * Gaussian(rng);
            if (t >= 5_000 && t % 400 >= 40)
            {
                n[spell]++;
                covered[spell] += In90(served, y) ? 1 : 0;
            }

            calibrator.Observe(raw, 0, y, t);
        }

        Assert.InRange((double)(covered[0] + covered[1]) / (n[0] + n[1]), 0.87, 0.93);
        bool calibrated = Enumerable.Range(0, 2).All(h => (double)covered[h] / n[h] is >= 0.86 and <= 0.94);
        Assert.Equal(eachSpellCalibrated, calibrated);
    }

    [Fact]
    public void Never_looks_ahead_it_learns_only_from_observed_outcomes()
    {
        // Two calibrators see the same first 3000 outcomes; one is then shown wildly different ones. Until that happens,
        // forecasts adjusted by both are identical, so the adjustment of a forecast depends only on outcomes before it.
        var a = new RollingQuantileCalibrator();
        var b = new RollingQuantileCalibrator();
        var rng = new Random(3);
        for (int t = 0; t < 3_000; t++)
        {
            Forecast raw = Normal(50, 2);
            double y = 50 + (5 * Gaussian(rng));
            a.Observe(raw, 0, y);
            b.Observe(raw, 0, y);
        }

        Forecast probe = Normal(50, 2);
        Assert.Equal(a.Adjust([probe])[0], b.Adjust([probe])[0]);
        Assert.NotEqual(probe, a.Adjust([probe])[0]); // it did calibrate (5 vs 2): the equality above is not vacuous

        for (int t = 0; t < 3_000; t++)
        {
            b.Observe(Normal(50, 2), 0, 50 + (50 * Gaussian(rng)));
        }

        Assert.NotEqual(a.Adjust([probe])[0], b.Adjust([probe])[0]);
    }

    [Property(MaxTest = 100)]
    public bool The_median_is_unchanged_and_levels_stay_ordered(int seed, byte shift, byte scale)
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { Window = 200, MinScores = 20 });
        var rng = new Random(seed);
        double truth = 1 + (scale % 20);
        for (int t = 0; t < 300; t++)
        {
            calibrator.Observe(Normal(10, 1, horizon: 2), t % 2, 10 + (shift % 7) + (truth * Gaussian(rng)));
        }

        Forecast raw = Normal(10 + (seed % 5), 1 + (scale % 3), horizon: 3);
        Forecast served = calibrator.Adjust([raw])[0];
        for (int j = 0; j < raw.Horizon; j++)
        {
            if (served.Quantile(0.5, j) != raw.Quantile(0.5, j) || served.Mean[j] != raw.Mean[j])
            {
                return false;
            }

            for (int l = 1; l < served.Levels.Count; l++)
            {
                if (served.Values[l][j] < served.Values[l - 1][j])
                {
                    return false;
                }
            }
        }

        return true;
    }

    [Fact]
    public void Zero_width_forecasts_are_not_scored_and_too_few_scores_change_nothing()
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { Window = 100, MinScores = 50 });
        for (int t = 0; t < 500; t++)
        {
            calibrator.Observe(Normal(0, 0), 0, 0); // a site that never carries traffic
        }

        Assert.Equal(0, calibrator.Observed);
        for (int t = 0; t < 49; t++)
        {
            calibrator.Observe(Normal(10, 1), 0, 30);
        }

        Forecast raw = Normal(10, 1);
        Assert.Same(raw, calibrator.Adjust([raw])[0]);
        for (int t = 0; t < 10; t++)
        {
            calibrator.Observe(Normal(10, 1), 0, 30);
        }

        Assert.True(calibrator.Adjust([raw])[0].Quantile(0.95, 0) > 29); // with enough scores it widens to the outcomes seen
    }

    [Theory]
    [InlineData(0.95, 57)]
    [InlineData(0.05, 200)]
    [InlineData(0.75, 1000)]
    public void The_offset_is_the_split_conformal_rank_of_the_window(double level, int n)
    {
        var calibrator = new RollingQuantileCalibrator(new RollingCalibrationOptions { Window = 300, MinScores = 10, ShareMissBudget = false });
        var rng = new Random(n);
        Forecast raw = Normal(5, 1);
        double d = raw.Quantile(level, 0) - raw.Quantile(0.5, 0);
        var scores = new List<double>();
        for (int t = 0; t < n; t++)
        {
            double y = 5 + Math.Round(3 * Gaussian(rng), 1); // ties included
            calibrator.Observe(raw, 0, y);
            scores.Add((y - 5) / d); // the outcome's distance from the median in units of the level's (local scale 1)
        }

        double[] window = scores.TakeLast(300).Order().ToArray();
        int rank = Math.Min(window.Length, (int)Math.Ceiling((window.Length + 1) * Math.Max(level, 1 - level)));
        Assert.Equal(window[rank - 1], calibrator.Offset(level), 12);
    }

    [Fact]
    public void Rejects_bad_options()
    {
        Assert.Throws<ArgumentException>(() => new RollingQuantileCalibrator(new RollingCalibrationOptions { Window = 1 }));
        Assert.Throws<ArgumentException>(() => new RollingQuantileCalibrator(new RollingCalibrationOptions { Window = 10, MinScores = 11 }));
    }

    /// <summary>A Gaussian forecast at the default levels (optionally clamped at zero, as our models do for nonnegative data).</summary>
    internal static Forecast Normal(double mean, double sigma, bool clampAtZero = false, int horizon = 1)
    {
        IReadOnlyList<double> levels = Forecast.DefaultLevels;
        double[][] values = levels
            .Select(q => Enumerable.Range(0, horizon).Select(_ => Clamp(mean + (Stats.NormalQuantile(q) * sigma), clampAtZero)).ToArray())
            .ToArray();
        return new Forecast("s", Start, Step, levels, values, Enumerable.Repeat(Clamp(mean, clampAtZero), horizon).ToArray());
    }

    private static double Clamp(double v, bool atZero) => atZero ? Math.Max(0, v) : v;

    private static bool In90(Forecast f, double y) => y >= f.Quantile(0.05, 0) && y <= f.Quantile(0.95, 0);

    private static double Gaussian(Random rng) =>
        Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
}
