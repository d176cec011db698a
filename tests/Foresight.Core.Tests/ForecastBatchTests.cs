using FsCheck;
using FsCheck.Xunit;
using Foresight.Core.Forecasts;

namespace Foresight.Core.Tests;

/// <summary>Forecasts built over a shared <see cref="ForecastBatch"/> array are the same values the constructor builds.</summary>
public sealed class ForecastBatchTests
{
    private static readonly DateTimeOffset T0 = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Property(MaxTest = 300)]
    public bool Batched_forecasts_equal_constructed_ones_and_stay_consistent(NormalFloat[] raw, byte horizon, byte count, bool withMean)
    {
        IReadOnlyList<double> levels = Forecast.DefaultLevels;
        int k = 1 + (horizon % 8), n = 1 + (count % 5), width = levels.Count * k;
        double[] values = Enumerable.Range(0, n * width).Select(i => raw.Length == 0 ? 0 : raw[i % raw.Length].Get % 1e6).ToArray();
        var batch = new ForecastBatch(levels, k, n, withMean);
        for (int f = 0; f < n; f++)
        {
            values.AsSpan(f * width, width).CopyTo(batch.Next); // unsorted values: crossing gets repaired
            double[]? mean = withMean ? values.AsSpan(f * width, k).ToArray() : null;
            if (mean is not null)
            {
                mean.CopyTo(batch.NextMean);
            }

            Forecast built = batch.Add($"s{f}", T0, TimeSpan.FromMinutes(1));
            var rows = Enumerable.Range(0, levels.Count).Select(l => (IReadOnlyList<double>)values.AsSpan((f * width) + (l * k), k).ToArray()).ToArray();
            var expected = new Forecast($"s{f}", T0, TimeSpan.FromMinutes(1), levels, rows, mean);
            Assert.Equal(expected, built);
            Assert.Equal(expected.Mean, built.Mean);
            Assert.Equal(withMean, built.HasExplicitMean);
            Assert.Equal(expected.GetHashCode(), built.GetHashCode());
            Assert.True(Consistent(built), string.Join(" ", built.Values.SelectMany(r => r)));
        }

        return batch.Count == n;
    }

    [Fact]
    public void A_built_forecast_keeps_its_values_while_the_batch_fills()
    {
        var batch = new ForecastBatch([0.9, 0.5, 0.1, 0.05, 0.95], 2, 2);
        Assert.Equal([0.05, 0.1, 0.5, 0.9, 0.95], batch.Levels);
        double[] first = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
        first.CopyTo(batch.Next);
        Forecast a = batch.Add("a", T0, TimeSpan.FromSeconds(5));
        batch.Next.Fill(-1);
        batch.Next[2] = double.NaN;
        Assert.Throws<ArgumentException>(() => batch.Add("b", T0, TimeSpan.FromSeconds(5)));
        batch.Next.Fill(7);
        Forecast b = batch.Add("b", T0, TimeSpan.FromSeconds(5));
        Assert.Equal([5.0, 6], a.Mean);
        Assert.Equal([9.0, 10], a.Values[4]);
        Assert.Equal(6.0, a.Quantile(0.5, 1));
        Assert.Equal(0.5, a.Cdf(1, 6), 12);
        Assert.Equal([7.0, 7], b.Median);
        Assert.Equal(2, batch.Count);
        Assert.Throws<InvalidOperationException>(() => batch.Next.Length);
        Assert.Throws<InvalidOperationException>(() => new ForecastBatch(Forecast.DefaultLevels, 1, 1).NextMean.Length);
        Assert.Throws<ArgumentException>(() => new ForecastBatch([0.1, 0.5, 0.9], 2, 1)); // 0.05 and 0.95 are required
    }

    /// <summary>
    /// Stored quantiles non-decreasing; interpolated ones too, up to the rounding of the interpolation (a few ulps);
    /// Cdf inverting Quantile between stored levels that differ.
    /// </summary>
    private static bool Consistent(Forecast f)
    {
        for (int s = 0; s < f.Horizon; s++)
        {
            for (int l = 1; l < f.Levels.Count; l++)
            {
                if (f.Values[l][s] < f.Values[l - 1][s])
                {
                    return false;
                }
            }

            double previous = double.NegativeInfinity;
            for (int p = 1; p < 100; p++)
            {
                double v = f.Quantile(p / 100.0, s);
                if (v < previous - (1e-12 * Math.Max(1, Math.Abs(previous))))
                {
                    return false;
                }

                previous = v;
            }

            for (int l = 0; l + 1 < f.Levels.Count; l++)
            {
                double q = (f.Levels[l] + f.Levels[l + 1]) / 2;
                double lo = f.Values[l][s], hi = f.Values[l + 1][s];
                if (hi > lo + (1e-6 * Math.Max(1, Math.Abs(lo))) && Math.Abs(f.Cdf(s, f.Quantile(q, s)) - q) > 1e-6)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
