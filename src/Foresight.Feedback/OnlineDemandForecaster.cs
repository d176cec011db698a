using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
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
}

/// <summary>
/// Feeds what the controller observes into a per-app forecasting model, one series per ingress site, and serves its
/// forecasts. It trains only on what it has already seen (never ahead of <c>now</c>), streams each new bucket into the
/// model, and retrains on a schedule. Before the first fit it has no forecast, so the controller stays reactive.
/// </summary>
public sealed class OnlineDemandForecaster : IDemandForecaster
{
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
        _apps = Enumerable.Range(0, apps).Select(a => new AppState(a, sites)).ToArray();
    }

    public double StepSeconds => _options.BucketSeconds;

    public int HorizonSteps => _options.HorizonSteps;

    /// <summary>Fits done so far (first fit plus scheduled retrains), over all apps.</summary>
    public int Fits { get; private set; }

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

        state.Forecasts ??= state.Model.Predict(_options.HorizonSteps);
        return state.Forecasts[site];
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

        Array.Clear(state.BucketSum);
        state.BucketFilled = 0;
        state.Buckets++;
        state.Forecasts = null;

        bool warm = state.Buckets * _options.BucketSeconds >= _options.WarmupSeconds;
        bool due = state.Model is null || time - state.FittedAt >= _options.RefitEverySeconds;
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

    private sealed class AppState(int app, int sites)
    {
        public int App { get; } = app;

        public double LastTime { get; set; }

        public double[] BucketSum { get; } = new double[sites];

        public double BucketFilled { get; set; }

        public long Buckets { get; set; }

        public List<double>[] History { get; } = Enumerable.Range(0, sites).Select(_ => new List<double>()).ToArray();

        public IForecaster? Model { get; set; }

        public double FittedAt { get; set; }

        public IReadOnlyList<Forecast>? Forecasts { get; set; }
    }
}
