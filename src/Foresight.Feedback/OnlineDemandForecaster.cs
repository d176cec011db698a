using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
using Foresight.Feedback.Accuracy;
using Foresight.Feedback.Fallback;
using Foresight.Forecasting;

namespace Foresight.Feedback;

public sealed record OnlineForecasterOptions
{
    /// <summary>Observations are averaged into buckets of this many seconds; one bucket is one forecast step.</summary>
    public double BucketSeconds { get; init; } = 5;

    /// <summary>Forecast steps to predict.</summary>
    public required int HorizonSteps { get; init; }

    /// <summary>Seconds of observations needed before the first fit; until then there is no forecast (reactive only).</summary>
    public required double WarmupSeconds { get; init; }

    /// <summary>Retrain on this schedule, on the most recent history.</summary>
    public required double RefitEverySeconds { get; init; }

    /// <summary>Buckets of history kept per series for (re)training.</summary>
    public int HistoryBuckets { get; init; } = 20_000;

    /// <summary>Steps per season (for example one day of buckets).</summary>
    public required int SeasonLength { get; init; }

    public DateTimeOffset Epoch { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// The feedback loop: retrain on schedule and fall back to reactive-only while the forecasts are worse than
    /// seasonal naive. Off, the model is fitted once after the warm-up and trusted from then on.
    /// </summary>
    public bool Feedback { get; init; } = true;

    /// <summary>Scored points in the rolling accuracy window that drives the fallback.</summary>
    public int AccuracyWindow { get; init; } = 2_000;

    /// <summary>
    /// Fallback hysteresis. A model about as good as seasonal naive (MASE near 1) is still useful to the controller, so
    /// only a model clearly worse than naive (MASE at or above 1.1) is switched off, until it is back below 1.
    /// </summary>
    public FallbackOptions Fallback { get; init; } = new(EnterAtOrAbove: 1.1, ExitBelow: 1.0, MinPoints: 50);
}

/// <summary>
/// Feeds what the controller observes into a per-app forecasting model, one series per ingress site, and serves its
/// forecasts. It trains only on what it has already seen (never ahead of <c>now</c>), streams each new bucket into the
/// model, and retrains on a schedule. Before the first fit it has no forecast, so the controller stays reactive.
/// </summary>
public sealed class OnlineDemandForecaster : IDemandForecaster, IScoredForecaster
{
    /// <summary>Forecast steps ahead that are scored (the first half minute of 5 s buckets).</summary>
    private const int ScoredSteps = 6;
    private readonly Func<IForecaster> _modelFactory;
    private readonly OnlineForecasterOptions _options;
    private readonly AppState[] _apps;

    public OnlineDemandForecaster(int apps, int sites, Func<IForecaster> modelFactory, OnlineForecasterOptions options)
    {
        ArgumentNullException.ThrowIfNull(modelFactory);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.BucketSeconds > 0) || options.HorizonSteps < 1 || options.SeasonLength < 1)
        {
            throw new ArgumentException("Bucket length, horizon and season length must be positive.", nameof(options));
        }

        _modelFactory = modelFactory;
        _options = options;
        _apps = Enumerable.Range(0, apps).Select(a => new AppState(a, sites, options)).ToArray();
    }

    public double StepSeconds => _options.BucketSeconds;

    public int HorizonSteps => _options.HorizonSteps;

    /// <summary>Fits done so far (first fit plus scheduled retrains), over all apps.</summary>
    public int Fits { get; private set; }

    public ForecastAccuracy Accuracy
    {
        get
        {
            double error = 0, scale = 0, covered = 0;
            long points = 0;
            foreach (AppState a in _apps)
            {
                error += a.AbsError;
                scale += a.AbsSeasonalError;
                covered += a.Covered;
                points += a.Scored;
            }

            return new ForecastAccuracy(
                points > 0 && scale > 0 ? error / scale : null,
                points > 0 ? covered / points : null,
                points);
        }
    }

    public void Observe(int app, double time, ReadOnlySpan<double> ratesBySite)
    {
        AppState state = _apps[app];
        double dt = time - state.LastTime;
        state.LastTime = time;
        if (dt <= 0)
        {
            return;
        }

        for (int s = 0; s < ratesBySite.Length; s++)
        {
            state.BucketSum[s] += ratesBySite[s] * dt;
        }

        state.BucketFilled += dt;
        if (state.BucketFilled >= _options.BucketSeconds - 1e-9)
        {
            CloseBucket(state, time);
        }
    }

    public Forecast? Predict(int app, int site, double now)
    {
        AppState state = _apps[app];
        if (state.Model is null)
        {
            return null;
        }

        if (_options.Feedback && state.Fallback.ReactiveOnly)
        {
            // Still predict (so accuracy keeps being measured and recovery is seen), but give the controller nothing.
            _ = PredictAll(state);
            return null;
        }

        return PredictAll(state)[site];
    }

    /// <summary>Why each app is or is not using its forecasts, for status.</summary>
    public IReadOnlyList<string> FallbackReasons => _apps.Select(a => a.Fallback.Reason).ToArray();

    /// <summary>Whether the app's forecasts are switched off (worse than naive) and its decisions are reactive-only.</summary>
    public bool IsReactiveOnly(int app) => _options.Feedback && _apps[app].Fallback.ReactiveOnly;

    /// <summary>Whether the app's model has been fitted (the warm-up is over).</summary>
    public bool IsFitted(int app) => _apps[app].Model is not null;

    /// <summary>Times an app switched to or from reactive-only, over all apps.</summary>
    public int FallbackTransitions { get; private set; }

    private IReadOnlyList<Forecast> PredictAll(AppState state)
    {
        if (state.Forecasts is null)
        {
            state.Forecasts = state.Model!.Predict(_options.HorizonSteps);
            state.Issued.Enqueue((state.Buckets, state.Forecasts));
            while (state.Issued.Count > ScoredSteps)
            {
                state.Issued.Dequeue();
            }
        }

        return state.Forecasts;
    }

    private void CloseBucket(AppState state, double time)
    {
        int sites = state.BucketSum.Length;
        var values = new double[sites];
        for (int s = 0; s < sites; s++)
        {
            values[s] = state.BucketSum[s] / state.BucketFilled;
            state.History[s].Add(values[s]);
            if (state.History[s].Count > _options.HistoryBuckets)
            {
                state.History[s].RemoveRange(0, state.History[s].Count - _options.HistoryBuckets);
            }
        }

        Score(state, values);
        if (_options.Feedback && state.Fallback.Update(time, state.Rolling.Snapshot().Mase) is not null)
        {
            FallbackTransitions++;
        }

        Array.Clear(state.BucketSum);
        state.BucketFilled = 0;
        state.Buckets++;
        state.Forecasts = null;

        bool warm = state.Buckets * _options.BucketSeconds >= _options.WarmupSeconds;
        bool due = state.Model is null || (_options.Feedback && time - state.FittedAt >= _options.RefitEverySeconds);
        if (warm && due)
        {
            Fit(state, time);
        }
        else if (state.Model is not null)
        {
            var update = Enumerable.Range(0, sites).Select(s => new Series(SeriesName(state.App, s), [values[s]])).ToList();
            state.Model.Update(new SeriesSet(Step, update, seasonLength: _options.SeasonLength, allowEmpty: false));
        }
    }

    /// <summary>Scores the forecasts issued before this bucket against it, up to <see cref="ScoredSteps"/> ahead.</summary>
    private void Score(AppState state, double[] actual)
    {
        int m = _options.SeasonLength;
        foreach ((long issuedAt, IReadOnlyList<Forecast> forecasts) in state.Issued)
        {
            // A forecast issued after b buckets predicts bucket b at step 0.
            int step = (int)(state.Buckets - issuedAt);
            if (step < 0 || step >= ScoredSteps)
            {
                continue;
            }

            for (int s = 0; s < actual.Length; s++)
            {
                List<double> history = state.History[s];
                if (history.Count <= m || step >= forecasts[s].Horizon)
                {
                    continue;
                }

                Forecast f = forecasts[s];
                state.Rolling.Record(actual[s], f, step, history[^(m + 1)]);
                state.AbsError += Math.Abs(actual[s] - f.Quantile(0.5, step));
                state.AbsSeasonalError += Math.Abs(actual[s] - history[^(m + 1)]);
                state.Covered += actual[s] >= f.Quantile(0.05, step) && actual[s] <= f.Quantile(0.95, step) ? 1 : 0;
                state.Scored++;
            }
        }
    }

    private void Fit(AppState state, double time)
    {
        int sites = state.BucketSum.Length;
        long first = state.Buckets - state.History[0].Count;
        DateTimeOffset start = _options.Epoch + (Step * first);
        var series = Enumerable.Range(0, sites)
            .Select(s => new Series(SeriesName(state.App, s), state.History[s].ToArray(), start))
            .ToList();
        IForecaster model = _modelFactory();
        model.Fit(new SeriesSet(Step, series, seasonLength: _options.SeasonLength, source: $"observed demand of app {state.App}"));
        state.Model = model; // swapped in whole: a prediction never sees a half-trained model
        state.FittedAt = time;
        Fits++;
    }

    private TimeSpan Step => TimeSpan.FromSeconds(_options.BucketSeconds);

    private static string SeriesName(int app, int site) => $"app{app}/site{site}";

    private sealed class AppState(int app, int sites, OnlineForecasterOptions options)
    {
        public RollingAccuracy Rolling { get; } = new(options.AccuracyWindow);

        public FallbackState Fallback { get; } = new(options.Fallback);

        public int App { get; } = app;

        public double LastTime { get; set; }

        public double[] BucketSum { get; } = new double[sites];

        public double BucketFilled { get; set; }

        public long Buckets { get; set; }

        public List<double>[] History { get; } = Enumerable.Range(0, sites).Select(_ => new List<double>()).ToArray();

        public IForecaster? Model { get; set; }

        public double FittedAt { get; set; }

        public IReadOnlyList<Forecast>? Forecasts { get; set; }

        /// <summary>Recent forecasts with the bucket count when they were issued, for scoring.</summary>
        public Queue<(long IssuedAt, IReadOnlyList<Forecast> Forecasts)> Issued { get; } = new();

        public double AbsError { get; set; }

        public double AbsSeasonalError { get; set; }

        public double Covered { get; set; }

        public long Scored { get; set; }
    }
}
