using Foresight.Core.Forecasts;
using Foresight.Forecasting.Backtesting;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Calibration;
using Foresight.Forecasting.Metrics;

namespace Foresight.Forecasting.Tests;

public sealed class CalibrationAndBacktestTests
{
    /// <summary>A deliberately overconfident model: seasonal naive with intervals a tenth of their honest width.</summary>
    private sealed class Overconfident : IForecaster
    {
        private readonly SeasonalNaiveForecaster _inner = new();

        public string Name => "overconfident";

        public bool IsFitted => _inner.IsFitted;

        public void Fit(SeriesSet history, CancellationToken cancellationToken = default) => _inner.Fit(history, cancellationToken);

        public void Update(SeriesSet newObservations) => _inner.Update(newObservations);

        public IReadOnlyList<Forecast> Predict(int horizon) => _inner.Predict(horizon)
            .Select(f => new Forecast(f.SeriesName, f.Start, f.Step, f.Levels,
                f.Levels.Select((_, l) => f.Values[l].Select((v, j) => f.Mean[j] + ((v - f.Mean[j]) * 0.1)).ToArray()).ToArray(), f.Mean))
            .ToArray();

        public void Save(Stream stream) => throw new NotSupportedException();
    }

    [Fact]
    public void Conformal_calibration_restores_nominal_coverage_on_held_out_data()
    {
        SeriesSet all = BaselineTests.Hourly(Enumerable.Range(0, 20).Select(i => BaselineTests.Seasonal(24 * 40, 100, 0, 20, 5, 200 + i)).ToArray());
        SeriesSet train = all.DropLast(24 * 10);
        var raw = new Overconfident();
        var calibrated = new ConformalForecaster(new Overconfident(), new ConformalOptions { Horizon = 24, CalibrationOrigins = 10, Stride = 12 });
        raw.Fit(train);
        calibrated.Fit(train);
        Assert.True(calibrated.ScoreCount(0, 0.05) >= 30);

        double rawHits = 0, calHits = 0, total = 0;
        for (int day = 0; day < 10; day++)
        {
            IReadOnlyList<Forecast> r = raw.Predict(24), c = calibrated.Predict(24);
            SeriesSet next = all.With(all.Series.Select(s => all.Slice(s, train[0].Length + (day * 24), 24)).ToArray());
            for (int i = 0; i < all.Count; i++)
            {
                (double[] rl, double[] rh) = r[i].Interval(0.9);
                (double[] cl, double[] ch) = c[i].Interval(0.9);
                rawHits += M4Metrics.Coverage(next[i].Values, rl, rh) * 24;
                calHits += M4Metrics.Coverage(next[i].Values, cl, ch) * 24;
                total += 24;
                Assert.Equal(r[i].Median, c[i].Median);
            }

            raw.Update(next);
            calibrated.Update(next);
        }

        Assert.True(rawHits / total < 0.4, $"raw coverage {rawHits / total}");
        Assert.InRange(calHits / total, 0.85, 0.96);
    }

    [Fact]
    public void Rolling_origin_backtest_scores_every_window()
    {
        SeriesSet data = BaselineTests.Hourly(BaselineTests.Seasonal(24 * 20, 100, 0, 20, 3, 1), BaselineTests.Seasonal(24 * 20, 50, 0, 10, 2, 2));
        var options = new BacktestOptions { Horizon = 24, Windows = 3, StepSize = 12 };
        BacktestResult refit = Backtest.CrossValidate(() => new SeasonalNaiveForecaster(), data, options with { Refit = true });
        BacktestResult stream = Backtest.CrossValidate(() => new SeasonalNaiveForecaster(), data, options with { Refit = false });
        Assert.Equal(6, refit.Scores.Count);
        Assert.Equal([480 - 48, 480 - 36, 480 - 24], refit.Scores.Where(s => s.Series == "s0").Select(s => s.Origin));
        // Seasonal naive has no parameters: streaming updates and refits give the same scores.
        Assert.Equal(refit.SMape, stream.SMape, 12);
        Assert.Equal(refit.Msis, stream.Msis, 12);

        // The window's sMAPE is the metric of the forecast made at that origin.
        SeriesScore first = refit.Scores[0];
        double[] y = data[0].Values;
        double[] f = M4Metrics.SeasonalNaive(y.AsSpan(0, first.Origin), 24, 24);
        Assert.Equal(M4Metrics.SMape(y.AsSpan(first.Origin, 24), f), first.SMape, 12);
        Assert.NotNull(refit.Owa);
    }
}
