using System.Diagnostics;
using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
using Foresight.Feedback.Accuracy;
using Foresight.Feedback.Decisions;
using Foresight.Feedback.Drift;
using Foresight.Feedback.Fallback;
using Foresight.Feedback.Retraining;
using Foresight.Feedback.Thresholds;
using Foresight.Forecasting;
using Foresight.Forecasting.Calibration;

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

    /// <summary>
    /// The drift detector on each app's scaled error stream (|error| summed over sites and averaged over the scored steps
    /// ahead, divided by the in-sample seasonal naive error of the last fit, so 1 means "as bad as naive was in
    /// training"). Null: no drift detection. The default tolerates errors up to a quarter of the naive scale above
    /// their running mean and fires when the excess accumulates to 10 naive errors: about 40 buckets after the error
    /// grows by half the naive scale, sooner after a gross change.
    /// </summary>
    public Func<IDriftDetector>? DriftDetector { get; init; } = () => new PageHinkley(delta: 0.25, lambda: 10, minInstances: 30);

    /// <summary>Buckets of the most recent history a drift- or fallback-triggered retrain uses (scheduled retrains use all kept history).</summary>
    public int RecentRetrainBuckets { get; init; } = 4_000;

    /// <summary>
    /// How a retrain's result is published. <see cref="RetrainMode.Deterministic"/> (simulation): the fit runs on a
    /// background task and the new model is swapped in at the first bucket at least <see cref="RetrainDelaySeconds"/>
    /// after the trigger, waiting for the task there if needed, so results do not depend on machine speed.
    /// <see cref="RetrainMode.Background"/> (hosted controller): swapped in at the first bucket after the task finishes.
    /// Either way predictions keep using the old model until the swap.
    /// </summary>
    public RetrainMode RetrainMode { get; init; } = RetrainMode.Deterministic;

    /// <summary>Simulated seconds a retrain is assumed to take in <see cref="RetrainMode.Deterministic"/> mode.</summary>
    public double RetrainDelaySeconds { get; init; } = 30;

    /// <summary>Bounds and rates of the adaptive confidence and shift thresholds (used when <see cref="Feedback"/> is on).</summary>
    public AdaptiveThresholdOptions Thresholds { get; init; } = new();

    /// <summary>
    /// Rolling conformal calibration of each app's forecasts (on by default; null: off, forecasts served as the model
    /// gives them). It learns from the same points the accuracy is scored on, as they arrive, so it never looks ahead,
    /// and it outlives model swaps. See design note 0022.
    /// </summary>
    public RollingCalibrationOptions? Calibration { get; init; } = new();

    /// <summary>App names for status, by index; "app{i}" when absent.</summary>
    public IReadOnlyList<string>? AppNames { get; init; }

    /// <summary>Entries of each list kept in status (retrains, threshold changes, fallback transitions).</summary>
    public int StatusHistory { get; init; } = 20;
}

public enum RetrainMode
{
    Deterministic,
    Background,
}

/// <summary>
/// Feeds what the controller observes into a per-app forecasting model, one series per ingress site, and serves its
/// forecasts. It trains only on what it has already seen (never ahead of <c>now</c>) and streams each new bucket into the
/// model. Before the first fit it has no forecast, so the controller stays reactive.
/// <para>
/// With <see cref="OnlineForecasterOptions.Feedback"/> on it is also the feedback loop: it scores its forecasts
/// (MASE, coverage, pinball), watches the error stream for drift, retrains on a schedule, on drift and on falling back
/// (off the prediction path, then swaps the model atomically through a <see cref="ModelSlot"/>), falls back to
/// reactive-only while forecasts are worse than seasonal naive, scores the controller's decisions once their lead
/// time has passed and adapts the confidence and shift thresholds to them.
/// </para>
/// <para>
/// Threading: <see cref="Observe"/>, <see cref="Predict"/> and <see cref="RecordDecisions"/> are called from one
/// controller tick at a time; only the fit of a new model runs elsewhere, on its own copy of the history.
/// </para>
/// </summary>
public sealed class OnlineDemandForecaster : IDemandForecaster, IScoredForecaster, IDecisionFeedback
{
    /// <summary>Largest scaled error (in naive-error scales) one bucket feeds the drift detector.</summary>
    public const double MaxDriftError = 3;

    /// <summary>Forecast steps ahead that are scored (the first half minute of 5 s buckets).</summary>
    private const int ScoredSteps = 6;

    /// <summary>Buckets after a swap over which the new model's MASE is measured for the retrain history.</summary>
    private const int AfterSwapBuckets = 60;

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

        if (options.RecentRetrainBuckets < 2 || !(options.RetrainDelaySeconds >= 0) || options.StatusHistory < 1)
        {
            throw new ArgumentException("Retrain window, retrain delay and status history must be positive.", nameof(options));
        }

        if (options.Thresholds.Validate() is string invalid)
        {
            throw new ArgumentException($"Invalid adaptive threshold option: {invalid}.", nameof(options));
        }

        if (options.Calibration?.Validate() is string badCalibration)
        {
            throw new ArgumentException($"Invalid calibration option: {badCalibration}.", nameof(options));
        }

        _modelFactory = modelFactory;
        _options = options;
        _apps = Enumerable.Range(0, apps).Select(a => new AppState(a, sites, options)).ToArray();
    }

    public double StepSeconds => _options.BucketSeconds;

    public int HorizonSteps => _options.HorizonSteps;

    /// <summary>Fits done so far (first fit plus retrains swapped in), over all apps.</summary>
    public int Fits { get; private set; }

    /// <summary>Of <see cref="Fits"/>, those that started from existing weights (<see cref="IWarmStartForecaster"/>) rather than from scratch.</summary>
    public int WarmStartFits { get; private set; }

    public ForecastAccuracy Accuracy
    {
        get
        {
            double error = 0, scale = 0, covered = 0;
            long points = 0, live = 0;
            foreach (AppState a in _apps)
            {
                error += a.AbsError;
                scale += a.AbsSeasonalError;
                covered += a.Covered;
                points += a.Scored;
                live += a.LiveScored;
            }

            return new ForecastAccuracy(
                points > 0 && scale > 0 ? error / scale : null,
                live > 0 ? covered / live : null,
                points);
        }
    }

    /// <summary>Why each app is or is not using its forecasts, for status.</summary>
    public IReadOnlyList<string> FallbackReasons => _apps.Select(a => a.Fallback.Reason).ToArray();

    /// <summary>Times an app switched to or from reactive-only, over all apps.</summary>
    public int FallbackTransitions { get; private set; }

    /// <summary>Every retrain so far (all apps, in trigger order), including the first fits.</summary>
    public IReadOnlyList<RetrainRecord> RetrainHistory => _apps.SelectMany(a => a.Retrains).OrderBy(r => r.Time).ThenBy(r => r.App).ToArray();

    /// <summary>The published model of an app, for status and tests.</summary>
    public PublishedModel? ModelOf(int app) => _apps[app].Slot.Current;

    public object Status => GetStatus();

    /// <summary>One app's accuracy, thresholds (with recent changes and why), fallback state and retrain history.</summary>
    public AppFeedbackStatus GetStatus(int app) => StatusOf(_apps[app]);

    public FeedbackStatus GetStatus() => new(
        _options.Feedback,
        _options.RetrainMode == RetrainMode.Deterministic ? "deterministic" : "background",
        _apps.Select(StatusOf).ToArray());

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
        if (state.Slot.Current is null)
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

    public PredictiveOptions OptionsFor(int app, PredictiveOptions defaults)
    {
        ArgumentNullException.ThrowIfNull(defaults);
        return _options.Feedback ? _apps[app].Thresholds.Apply(defaults) : defaults;
    }

    public void RecordDecisions(int app, double now, IReadOnlyList<FloorDecision> decisions, ReadOnlySpan<int> activeReplicas, double replicaRps, double leadSeconds, PredictiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        ArgumentNullException.ThrowIfNull(options);
        AppState state = _apps[app];
        state.Decisions.Record(now, decisions, activeReplicas, replicaRps, leadSeconds, options.HoldSeconds, options.TrafficShiftThreshold);
        state.LastOptions = options;

        // The first step the app's floors read (PredictiveFloor: the peak over [lead, lead + hold]), scored as LeadMase.
        state.LeadStep = Math.Clamp((int)Math.Floor(leadSeconds / _options.BucketSeconds), 0, _options.HorizonSteps - 1);
    }

    /// <summary>Whether the app's forecasts are switched off (worse than naive) and its decisions are reactive-only.</summary>
    public bool IsReactiveOnly(int app) => _options.Feedback && _apps[app].Fallback.ReactiveOnly;

    /// <summary>Steps the app's forecasts cover.</summary>
    public int HorizonOf(int app) => _apps[app].HorizonSteps;

    /// <summary>
    /// Shortens (or restores) one app's forecast horizon, up to <see cref="HorizonSteps"/>, which the models were built
    /// for; the next prediction uses it. Returns the horizon now in force.
    /// </summary>
    public int SetHorizon(int app, int steps)
    {
        AppState state = _apps[app];
        int horizon = Math.Clamp(steps, 1, _options.HorizonSteps);
        if (horizon != state.HorizonSteps)
        {
            state.HorizonSteps = horizon;
            state.Forecasts = null;
        }

        return horizon;
    }

    /// <summary>Whether the app's model has been fitted (the warm-up is over).</summary>
    public bool IsFitted(int app) => _apps[app].Slot.Current is not null;

    private IReadOnlyList<Forecast> PredictAll(AppState state)
    {
        if (state.Forecasts is null)
        {
            // One read of the slot: every series of this prediction comes from the same model.
            PublishedModel model = state.Slot.Current!;
            IReadOnlyList<Forecast> raw = model.Model.Predict(state.HorizonSteps);
            state.Forecasts = state.Calibrator?.Adjust(raw, state.Buckets) ?? raw;
            state.Issued.Enqueue((state.Buckets, raw, state.Forecasts));
            while (state.Issued.Count > Math.Max(ScoredSteps, state.LeadStep + 1))
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

        // Coverage counts a series from the first bucket it carries traffic: one that never has (the cloud, which no
        // source is homed to; a site whose sources are silent) is forecast as exactly 0 and would only pad it.
        for (int s = 0; s < sites; s++)
        {
            state.Live[s] |= values[s] != 0;
        }

        double error = Score(state, values);
        state.Decisions.Observe(time, values);
        double? mase = state.Rolling.Snapshot().Mase;
        bool drift = false;
        bool fellBack = false;
        if (_options.Feedback)
        {
            if (state.Fallback.Update(time, mase) is FallbackTransition transition)
            {
                FallbackTransitions++;
                fellBack = transition.ReactiveOnly;
                Bounded(state.Transitions, new FallbackTransitionStatus(transition.Time, transition.ReactiveOnly, transition.Reason));
            }

            if (state.Drift is not null && state.ErrorScale > 0 && !double.IsNaN(error))
            {
                // Bounded influence: one burst bucket moves the detector at most MaxDriftError naive scales, so only a
                // shift sustained over several buckets is drift (bursty traffic otherwise alarms on every spike).
                drift = state.Drift.Add(Math.Min(error / state.ErrorScale, MaxDriftError));
                if (drift)
                {
                    state.DriftAlarms++;
                    Bounded(state.DriftAlarmTimes, time);
                }
            }

            // The thresholds see only evidence gathered since their last change: the decisions made under them and the
            // MASE of the forecasts scored since (the rolling MASE swings with a few hundred seconds of data).
            double? maseSinceChange = state.SinceChangeNaive > 0 ? state.SinceChangeError / state.SinceChangeNaive : null;
            if (state.Thresholds.Update(time, state.Decisions.RecentSince(state.Thresholds.LastChange), maseSinceChange).Count > 0)
            {
                state.SinceChangeError = 0;
                state.SinceChangeNaive = 0;
            }
        }

        Array.Clear(state.BucketSum);
        state.BucketFilled = 0;
        state.Buckets++;
        state.Forecasts = null;
        MeasureAfterSwap(state);

        if (state.Slot.Current is not PublishedModel current)
        {
            if (state.Buckets * _options.BucketSeconds >= _options.WarmupSeconds)
            {
                // The first fit: there is no old model to keep serving, so it is done here and now.
                Publish(state, Train(state, time, RetrainTrigger.WarmUp, state.History[0].Count), time);
            }

            return;
        }

        var update = Enumerable.Range(0, sites).Select(s => new Series(SeriesName(state.App, s), [values[s]])).ToList();
        current.Model.Update(new SeriesSet(Step, update, seasonLength: _options.SeasonLength, allowEmpty: false));
        if (!_options.Feedback)
        {
            return;
        }

        if (state.Retraining is RetrainJob job)
        {
            bool ready = _options.RetrainMode == RetrainMode.Deterministic
                ? time >= job.SwapNotBefore - 1e-9
                : job.Task.IsCompleted;
            if (ready)
            {
                state.Retraining = null;
                Publish(state, job.Task.GetAwaiter().GetResult(), time); // deterministic mode may wait here for the fit
            }

            return;
        }

        string? trigger = drift ? RetrainTrigger.Drift
            : fellBack ? RetrainTrigger.Fallback
            : time - current.FittedAt >= _options.RefitEverySeconds ? RetrainTrigger.Schedule
            : null;
        if (trigger is not null)
        {
            int buckets = trigger == RetrainTrigger.Schedule ? state.History[0].Count : Math.Min(_options.RecentRetrainBuckets, state.History[0].Count);
            double? maseBefore = mase;
            TrainingData data = Snapshot(state, time, trigger, buckets, maseBefore);
            // A model that can warm-start continues from its current weights (copied here, on the tick, so the serving
            // model is never read while it is replaced).
            IForecaster? next = current.Model is IWarmStartForecaster warm ? warm.WarmStart() : null;
            state.Retraining = new RetrainJob(Task.Run(() => Fit(data, next)), time + _options.RetrainDelaySeconds);
        }
    }

    /// <summary>
    /// Scores the forecasts issued before this bucket against it, up to <see cref="ScoredSteps"/> ahead. Returns |error|
    /// summed over sites and averaged over the steps ahead that predicted this bucket (NaN if none): the drift stream.
    /// Later steps are included because a model whose level adapts quickly hides a changed shape from one-step errors.
    /// </summary>
    private double Score(AppState state, double[] actual)
    {
        int m = _options.SeasonLength;
        double errorSum = 0;
        int steps = 0;
        foreach ((long issuedAt, IReadOnlyList<Forecast> raw, IReadOnlyList<Forecast> forecasts) in state.Issued)
        {
            // A forecast issued after b buckets predicts bucket b at step 0.
            int step = (int)(state.Buckets - issuedAt);
            if (step >= 0 && step == state.LeadStep)
            {
                ScoreLead(state, forecasts, step, actual);
            }

            if (step < 0 || step >= ScoredSteps)
            {
                continue;
            }

            steps++;
            for (int s = 0; s < actual.Length; s++)
            {
                List<double> history = state.History[s];
                if (step >= forecasts[s].Horizon)
                {
                    continue;
                }

                Forecast f = forecasts[s];
                errorSum += Math.Abs(actual[s] - f.Quantile(0.5, step));

                // The calibrator learns from the model's own forecast (its offsets apply to that), now that y is known.
                state.Calibrator?.Observe(raw[s], step, actual[s], state.Buckets);

                if (history.Count <= m)
                {
                    continue;
                }

                ScoredPoint point = state.Rolling.Record(actual[s], f, step, history[^(m + 1)]);
                state.AbsError += point.AbsError;
                state.AbsSeasonalError += point.NaiveAbsError;
                state.Scored++;
                if (state.Live[s])
                {
                    state.LiveCoverage.Record(point);
                    state.Covered += point.In90 ? 1 : 0;
                    state.LiveScored++;
                }

                state.SinceChangeError += point.AbsError;
                state.SinceChangeNaive += point.NaiveAbsError;
                if (state.AfterSwap is not null)
                {
                    state.AfterSwap.Error += point.AbsError;
                    state.AfterSwap.Naive += point.NaiveAbsError;
                }
            }
        }

        return steps > 0 ? errorSum / steps : double.NaN;
    }

    /// <summary>
    /// The error at the step the floors read, against seasonal naive there: a model can win 5–30 s ahead and lose at a
    /// slow starter's 100 s lead, where the decision is made.
    /// </summary>
    private void ScoreLead(AppState state, IReadOnlyList<Forecast> forecasts, int step, double[] actual)
    {
        int m = _options.SeasonLength;
        for (int s = 0; s < actual.Length; s++)
        {
            List<double> history = state.History[s];
            if (step >= forecasts[s].Horizon || history.Count <= m)
            {
                continue;
            }

            state.LeadError += Math.Abs(actual[s] - forecasts[s].Quantile(0.5, step));
            state.LeadNaive += Math.Abs(actual[s] - history[^(m + 1)]);
        }
    }

    private static void MeasureAfterSwap(AppState state)
    {
        if (state.AfterSwap is not AfterSwap after || --after.BucketsLeft > 0)
        {
            return;
        }

        state.AfterSwap = null;
        int i = state.Retrains.FindLastIndex(r => r.SwappedAt is not null);
        if (i >= 0 && after.Naive > 0)
        {
            state.Retrains[i] = state.Retrains[i] with { MaseAfter = after.Error / after.Naive };
        }
    }

    private TrainingData Snapshot(AppState state, double time, string trigger, int buckets, double? maseBefore)
    {
        int sites = state.BucketSum.Length;
        long first = state.Buckets - buckets;
        DateTimeOffset start = _options.Epoch + (Step * first);
        var series = Enumerable.Range(0, sites)
            .Select(s => new Series(SeriesName(state.App, s), state.History[s].GetRange(state.History[s].Count - buckets, buckets).ToArray(), start))
            .ToList();
        return new TrainingData(state.App, time, trigger, state.Buckets, buckets, maseBefore,
            new SeriesSet(Step, series, seasonLength: _options.SeasonLength, source: $"observed demand of app {state.App}"));
    }

    private Trained Train(AppState state, double time, string trigger, int buckets) =>
        Fit(Snapshot(state, time, trigger, buckets, state.Rolling.Snapshot().Mase));

    /// <summary>Fits a new model on its own copy of the history; runs off the prediction path and never throws.</summary>
    /// <param name="model">The unfitted model to fit (a warm start); null takes a fresh one from the factory.</param>
    private Trained Fit(TrainingData data, IForecaster? model = null)
    {
        long started = Stopwatch.GetTimestamp(); // reported only, never used for decisions
        try
        {
            model ??= _modelFactory();
            model.Fit(data.History);
            return new Trained(data, model, Stopwatch.GetElapsedTime(started).TotalSeconds, null);
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or ArithmeticException)
        {
            return new Trained(data, null, Stopwatch.GetElapsedTime(started).TotalSeconds, e.Message);
        }
    }

    /// <summary>Re-primes the new model on the buckets seen since its data ended, then publishes it with one exchange.</summary>
    private void Publish(AppState state, Trained trained, double time)
    {
        TrainingData data = trained.Data;
        if (trained.Model is not IForecaster model)
        {
            AddRetrain(state, new RetrainRecord(state.App, data.Time, data.Trigger, null, trained.WallSeconds, data.Buckets, data.MaseBefore, null, trained.Error));
            return;
        }

        int missed = (int)(state.Buckets - data.BucketsAtTrigger);
        if (missed > 0)
        {
            var catchUp = state.History
                .Select((h, s) => new Series(SeriesName(state.App, s), h.GetRange(h.Count - missed, missed).ToArray()))
                .ToList();
            model.Update(new SeriesSet(Step, catchUp, seasonLength: _options.SeasonLength, allowEmpty: false));
        }

        int version = (state.Slot.Current?.Version ?? 0) + 1;
        state.Slot.Publish(new PublishedModel(model, version, time));
        state.ErrorScale = InSampleNaiveError(data.History);
        state.Drift?.Reset();
        state.AfterSwap = new AfterSwap { BucketsLeft = AfterSwapBuckets };
        Fits++;
        WarmStartFits += model is IWarmStartForecaster { WarmStarted: true } ? 1 : 0;
        AddRetrain(state, new RetrainRecord(state.App, data.Time, data.Trigger, time, trained.WallSeconds, data.Buckets, data.MaseBefore, null));
    }

    /// <summary>Mean over the training buckets of Σ_sites |y(t) − y(t − m)|: the scale of the drift stream (as in MASE).</summary>
    private double InSampleNaiveError(SeriesSet history)
    {
        int m = _options.SeasonLength;
        int length = history.Series[0].Values.Length;
        if (length <= m)
        {
            m = 1;
        }

        if (length <= m)
        {
            return 0;
        }

        double sum = 0;
        foreach (Series series in history.Series)
        {
            double[] y = series.Values;
            for (int t = m; t < y.Length; t++)
            {
                sum += Math.Abs(y[t] - y[t - m]);
            }
        }

        return sum / (length - m);
    }

    private AppFeedbackStatus StatusOf(AppState state)
    {
        AccuracySnapshot rolling = state.Rolling.Snapshot();
        DecisionCounts recent = state.Decisions.Recent;
        return new AppFeedbackStatus(
            _options.AppNames is { } names && state.App < names.Count ? names[state.App] : $"app{state.App}",
            rolling.Mase,
            state.LiveCoverage.Snapshot().Coverage90,
            rolling.MeanPinball,
            rolling.Points,
            _options.Feedback ? state.Thresholds.Confidence : state.LastOptions?.ConfidenceThreshold ?? new PredictiveOptions().ConfidenceThreshold,
            _options.Feedback ? state.Thresholds.Shift : state.LastOptions?.TrafficShiftThreshold ?? new PredictiveOptions().TrafficShiftThreshold,
            state.Thresholds.TotalChanges,
            state.Thresholds.History.TakeLast(_options.StatusHistory)
                .Select(c => new ThresholdChangeStatus(c.Time, c.Threshold == ThresholdKind.Confidence ? "confidence" : "shift", c.OldValue, c.NewValue, c.Reason))
                .ToArray(),
            _options.Feedback && state.Fallback.ReactiveOnly,
            _options.Feedback ? state.Fallback.Reason : "feedback off: forecasts are always used",
            state.Transitions.ToArray(),
            recent.Precision,
            recent.Recall,
            state.Decisions.Totals,
            state.DriftAlarms,
            state.DriftAlarmTimes.TakeLast(_options.StatusHistory).ToArray(),
            state.Slot.Current?.Version ?? 0,
            state.RetrainCount,
            state.Retrains.TakeLast(_options.StatusHistory).ToArray(),
            state.LastOptions?.PlanningQuantile,
            state.Scored > 0 && state.AbsSeasonalError > 0 ? state.AbsError / state.AbsSeasonalError : null,
            state.LiveScored > 0 ? state.Covered / state.LiveScored : null,
            state.Calibrator is not null,
            state.LeadStep >= 0 ? state.LeadStep : null,
            state.LeadNaive > 0 ? state.LeadError / state.LeadNaive : null);
    }

    private void AddRetrain(AppState state, RetrainRecord record)
    {
        state.RetrainCount++;
        Bounded(state.Retrains, record);
    }

    private void Bounded<T>(List<T> list, T item)
    {
        list.Add(item);

        // Keeps a few times what status shows, so the after-swap MASE of a recent retrain can still be filled in.
        if (list.Count > 4 * _options.StatusHistory)
        {
            list.RemoveAt(0);
        }
    }

    private TimeSpan Step => TimeSpan.FromSeconds(_options.BucketSeconds);

    private static string SeriesName(int app, int site) => $"app{app}/site{site}";

    private sealed record TrainingData(int App, double Time, string Trigger, long BucketsAtTrigger, int Buckets, double? MaseBefore, SeriesSet History);

    private sealed record Trained(TrainingData Data, IForecaster? Model, double WallSeconds, string? Error);

    private sealed record RetrainJob(Task<Trained> Task, double SwapNotBefore);

    private sealed class AfterSwap
    {
        public int BucketsLeft { get; set; }

        public double Error { get; set; }

        public double Naive { get; set; }
    }

    private sealed class AppState(int app, int sites, OnlineForecasterOptions options)
    {
        public RollingAccuracy Rolling { get; } = new(options.AccuracyWindow);

        public FallbackState Fallback { get; } = new(options.Fallback);

        public AdaptiveThresholds Thresholds { get; } = new(options.Thresholds);

        public DecisionScorer Decisions { get; } = new();

        public IDriftDetector? Drift { get; } = options.DriftDetector?.Invoke();

        public ModelSlot Slot { get; } = new();

        public int App { get; } = app;

        public double LastTime { get; set; }

        public double[] BucketSum { get; } = new double[sites];

        public double BucketFilled { get; set; }

        public long Buckets { get; set; }

        public List<double>[] History { get; } = Enumerable.Range(0, sites).Select(_ => new List<double>()).ToArray();

        /// <summary>Per site, whether it has carried any traffic yet (only such series count in the coverage).</summary>
        public bool[] Live { get; } = new bool[sites];

        public IReadOnlyList<Forecast>? Forecasts { get; set; }

        /// <summary>Steps this app's forecasts cover (at most the forecaster's <see cref="OnlineForecasterOptions.HorizonSteps"/>).</summary>
        public int HorizonSteps { get; set; } = options.HorizonSteps;

        /// <summary>Recent forecasts (the model's and the calibrated ones served) with the bucket count when they were issued, for scoring.</summary>
        public Queue<(long IssuedAt, IReadOnlyList<Forecast> Raw, IReadOnlyList<Forecast> Forecasts)> Issued { get; } = new();

        /// <summary>Calibrates the app's forecasts over all its sites; null when calibration is off.</summary>
        public RollingQuantileCalibrator? Calibrator { get; } = options.Calibration is { } calibration
            ? new RollingQuantileCalibrator(calibration with { SeasonLength = options.SeasonLength })
            : null;

        public RetrainJob? Retraining { get; set; }

        /// <summary>Scale of the drift stream, from the last fit's data.</summary>
        public double ErrorScale { get; set; }

        public int DriftAlarms { get; set; }

        public List<double> DriftAlarmTimes { get; } = [];

        public List<RetrainRecord> Retrains { get; } = [];

        public int RetrainCount { get; set; }

        public List<FallbackTransitionStatus> Transitions { get; } = [];

        public AfterSwap? AfterSwap { get; set; }

        /// <summary>The thresholds the controller last decided with (the fixed ones when feedback is off).</summary>
        public PredictiveOptions? LastOptions { get; set; }

        public double AbsError { get; set; }

        public double AbsSeasonalError { get; set; }

        /// <summary>The first forecast step the app's floors read (from its lead time); -1 until the first decision.</summary>
        public int LeadStep { get; set; } = -1;

        /// <summary>Absolute and seasonal-naive errors at <see cref="LeadStep"/>, since the start.</summary>
        public double LeadError { get; set; }

        public double LeadNaive { get; set; }

        /// <summary>Scored points (all series) since the start: MASE.</summary>
        public long Scored { get; set; }

        /// <summary>Points of live series (see <see cref="Live"/>) scored since the start, and those inside the 90% interval.</summary>
        public long LiveScored { get; set; }

        public double Covered { get; set; }

        /// <summary>Rolling coverage over live series only; <see cref="Rolling"/> (all series) drives the fallback and thresholds.</summary>
        public RollingAccuracy LiveCoverage { get; } = new(options.AccuracyWindow);

        /// <summary>Absolute and seasonal-naive errors of the points scored since the thresholds last changed.</summary>
        public double SinceChangeError { get; set; }

        public double SinceChangeNaive { get; set; }
    }
}
