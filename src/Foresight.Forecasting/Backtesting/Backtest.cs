using System.Diagnostics;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Metrics;

namespace Foresight.Forecasting.Backtesting;

/// <summary>Options of <see cref="Backtest.CrossValidate"/> (Nixtla's <c>cross_validation(n_windows, step_size, refit)</c>).</summary>
public sealed record BacktestOptions
{
    public required int Horizon { get; init; }

    /// <summary>Forecast origins per series; the last window ends at the series' end.</summary>
    public int Windows { get; init; } = 1;

    /// <summary>Steps between origins; null gives the horizon.</summary>
    public int? StepSize { get; init; }

    /// <summary>Refit at every origin (true) or fit once at the first and stream <see cref="IForecaster.Update"/> after.</summary>
    public bool Refit { get; init; }

    /// <summary>m for MASE, MSIS and Naive2; null takes the data's season length.</summary>
    public int? SeasonLength { get; init; }

    /// <summary>The interval scored by MSIS and coverage (M4: 95%).</summary>
    public double IntervalLevel { get; init; } = 0.95;
}

/// <summary>Scores of one series at one origin.</summary>
public sealed record SeriesScore(string Series, int Window, int Origin, double SMape, double Mase, double Msis, double Coverage, double Pinball,
    double SMapeNaive2, double MaseNaive2);

/// <summary>A backtest's per-series scores and their means (M4 convention: mean over series and windows).</summary>
public sealed record BacktestResult(string Model, int Horizon, int SeasonLength, IReadOnlyList<SeriesScore> Scores, double TrainSeconds, double PredictSeconds)
{
    public double SMape => Scores.Average(s => s.SMape);

    public double Mase => Scores.Average(s => s.Mase);

    public double Msis => Scores.Average(s => s.Msis);

    public double Coverage => Scores.Average(s => s.Coverage);

    public double Pinball => Scores.Average(s => s.Pinball);

    /// <summary>OWA against Naive2 on the same series and windows; null without seasonality (m = 1).</summary>
    public double? Owa => SeasonLength > 1 ? M4Metrics.Owa(SMape, Mase, Scores.Average(s => s.SMapeNaive2), Scores.Average(s => s.MaseNaive2)) : null;
}

/// <summary>Rolling-origin evaluation as a library function.</summary>
public static class Backtest
{
    /// <summary>
    /// For each window w (origins <c>n - H - (W-1-w)·step</c>, per series, aligned at the series' ends), fits (or
    /// updates) a model on the data before the origin, predicts H steps and scores them against the actuals: sMAPE,
    /// MASE and MSIS (scaled by the in-sample seasonal naive error up to the origin), coverage of the interval, mean
    /// pinball loss over the forecast's levels, and Naive2's sMAPE and MASE for OWA.
    /// </summary>
    public static BacktestResult CrossValidate(Func<IForecaster> factory, SeriesSet data, BacktestOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Horizon, 1);
        int h = options.Horizon, step = options.StepSize ?? h, windows = options.Windows;
        int m = options.SeasonLength ?? data.SeasonLength;
        var scores = new List<SeriesScore>();
        double train = 0, predict = 0;
        IForecaster? model = null;
        string name = "?";
        int[] lastOrigin = new int[data.Count];
        for (int w = 0; w < windows; w++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int back = h + ((windows - 1 - w) * step);
            int[] origin = data.Series.Select(s => s.Length - back).ToArray();
            if (origin.Any(o => o < 2))
            {
                throw new Core.InvalidInputException(data.Source, $"a series is too short for {windows} windows of {h} steps every {step}.");
            }

            var clock = Stopwatch.StartNew(); // timing report only
            if (model is null || options.Refit)
            {
                model = factory();
                name = model.Name;
                model.Fit(data.With(data.Series.Select((s, i) => data.Slice(s, 0, origin[i])).ToArray()), cancellationToken);
            }
            else
            {
                model.Update(data.With(data.Series.Select((s, i) => data.Slice(s, lastOrigin[i], origin[i] - lastOrigin[i])).ToArray(), allowEmpty: true));
            }

            train += clock.Elapsed.TotalSeconds;
            clock.Restart();
            IReadOnlyList<Forecast> forecasts = model.Predict(h);
            predict += clock.Elapsed.TotalSeconds;
            for (int i = 0; i < data.Count; i++)
            {
                ReadOnlySpan<double> insample = data[i].Values.AsSpan(0, origin[i]);
                ReadOnlySpan<double> actual = data[i].Values.AsSpan(origin[i], h);
                scores.Add(Score(data[i].Name, w, origin[i], insample, actual, forecasts[i], m, options.IntervalLevel));
            }

            Array.Copy(origin, lastOrigin, origin.Length);
            progress?.Report(w + 1);
        }

        return new BacktestResult(name, h, m, scores, train, predict);
    }

    /// <summary>Scores one forecast against actuals (used by the M4 holdout evaluation as well).</summary>
    public static SeriesScore Score(string series, int window, int origin, ReadOnlySpan<double> insample, ReadOnlySpan<double> actual, Forecast forecast, int m, double intervalLevel)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        int h = actual.Length;
        double[] point = forecast.Mean.Take(h).ToArray();
        (double[] lo, double[] hi) = forecast.Interval(intervalLevel);
        lo = lo[..h];
        hi = hi[..h];
        double pinball = 0;
        foreach (double level in forecast.Levels)
        {
            pinball += M4Metrics.Pinball(actual, forecast.Quantile(level)[..h], level) / forecast.Levels.Count;
        }

        double[] naive2 = M4Metrics.Naive2(insample, h, m);
        return new SeriesScore(
            series, window, origin,
            M4Metrics.SMape(actual, point),
            M4Metrics.Mase(insample, actual, point, m),
            M4Metrics.Msis(insample, actual, lo, hi, m, 1 - intervalLevel),
            M4Metrics.Coverage(actual, lo, hi),
            pinball,
            M4Metrics.SMape(actual, naive2),
            M4Metrics.Mase(insample, actual, naive2, m));
    }

    /// <summary>The M4 protocol: fit on the training series, predict the horizon, score on the test values.</summary>
    public static BacktestResult Holdout(IForecaster model, SeriesSet train, double[][] test, int m, double intervalLevel = 0.95, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(test);
        int h = test[0].Length;
        var clock = Stopwatch.StartNew(); // timing report only
        model.Fit(train, cancellationToken);
        double trainSeconds = clock.Elapsed.TotalSeconds;
        clock.Restart();
        IReadOnlyList<Forecast> forecasts = model.Predict(h);
        double predictSeconds = clock.Elapsed.TotalSeconds;
        var scores = new SeriesScore[train.Count];
        for (int i = 0; i < scores.Length; i++)
        {
            scores[i] = Score(train[i].Name, 0, train[i].Length, train[i].Values, test[i], forecasts[i], m, intervalLevel);
        }

        return new BacktestResult(model.Name, h, m, scores, trainSeconds, predictSeconds);
    }
}
