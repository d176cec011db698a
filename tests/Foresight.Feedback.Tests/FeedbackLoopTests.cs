using Foresight.Control.Decision;
using Foresight.Feedback.Decisions;
using Foresight.Feedback.Retraining;
using Foresight.Feedback.Thresholds;
using Foresight.Forecasting.Baselines;
using Xunit.Abstractions;

namespace Foresight.Feedback.Tests;

public sealed class FeedbackLoopTests
{
    private const double ChangeAt = 3000;
    private readonly ITestOutputHelper _output;

    public FeedbackLoopTests(ITestOutputHelper output) => _output = output;

    /// <summary>A 60 s cycle (12 buckets of 5 s) with noise; from <paramref name="changeAt"/> on, three times the level and a shifted shape.</summary>
    private static double Rate(double t, Random noise, double changeAt) =>
        t < changeAt
            ? ((t % 60) < 30 ? 100 : 20) + (noise.NextDouble() * 5)
            : ((t % 60) < 15 || (t % 60) >= 45 ? 300 : 60) + (noise.NextDouble() * 15);

    private static OnlineDemandForecaster Run(bool feedback, double changeAt, int seed, RetrainMode mode = RetrainMode.Deterministic, double seconds = 5000)
    {
        var f = new OnlineDemandForecaster(1, 1, () => new SeasonalNaiveForecaster(), new OnlineForecasterOptions
        {
            HorizonSteps = 6,
            WarmupSeconds = 300,
            RefitEverySeconds = 1000,
            SeasonLength = 12,
            Feedback = feedback,
            RetrainMode = mode,
            RetrainDelaySeconds = 20,
        });
        var noise = new Random(seed);
        for (int t = 1; t <= seconds; t++)
        {
            f.Observe(0, t, [Rate(t - 0.5, noise, changeAt)]);
            if (t % 5 == 0)
            {
                f.Predict(0, 0, t);
            }
        }

        return f;
    }

    [Fact]
    public void A_step_change_in_demand_is_detected_as_drift_and_a_retrained_model_is_swapped_in_after_the_delay()
    {
        var delays = new List<double>();
        int falseAlarms = 0;
        for (int seed = 0; seed < 10; seed++)
        {
            OnlineDemandForecaster f = Run(feedback: true, ChangeAt, seed);
            IReadOnlyList<RetrainRecord> drift = f.RetrainHistory.Where(r => r.Trigger == RetrainTrigger.Drift).ToList();
            falseAlarms += drift.Count(r => r.Time < ChangeAt);
            RetrainRecord first = Assert.Single(drift, r => r.Time >= ChangeAt && r.Time < ChangeAt + 120);
            delays.Add(first.Time - ChangeAt);

            // Deterministic mode: the new model is published at the first bucket at least the delay after the trigger.
            Assert.NotNull(first.SwappedAt);
            Assert.InRange(first.SwappedAt!.Value - first.Time, 20, 25);
            Assert.Null(first.Error);
            Assert.Contains(f.RetrainHistory, r => r.Trigger == RetrainTrigger.Schedule);
            Assert.Equal(f.RetrainHistory.Count(r => r.SwappedAt is not null), f.ModelOf(0)!.Version);
        }

        delays.Sort();
        _output.WriteLine($"drift detection delay after a 3x level step, 10 seeds: median {delays[5]} s, max {delays[^1]} s (5 s buckets); {falseAlarms} drift alarms before the change");
        Assert.Equal(0, falseAlarms);
        Assert.True(delays[5] <= 60, $"median delay {delays[5]} s");
    }

    [Fact]
    public void Isolated_bursts_are_not_drift_but_a_sustained_change_still_is()
    {
        // One 5 s bucket at twenty times the level every 200 s: bursty traffic whose character does not change.
        var noise = new Random(4);
        var f = new OnlineDemandForecaster(1, 1, () => new SeasonalNaiveForecaster(), new OnlineForecasterOptions
        {
            HorizonSteps = 6,
            WarmupSeconds = 300,
            RefitEverySeconds = 100_000,
            SeasonLength = 12,
            RetrainDelaySeconds = 20,
        });
        for (int t = 1; t <= 6000; t++)
        {
            double rate = Rate(t - 0.5, noise, changeAt: 4000) * ((t % 200) is >= 100 and < 105 ? 20 : 1);
            f.Observe(0, t, [rate]);
            if (t % 5 == 0)
            {
                f.Predict(0, 0, t);
            }
        }

        var drift = f.RetrainHistory.Where(r => r.Trigger == RetrainTrigger.Drift).ToList();
        Assert.DoesNotContain(drift, r => r.Time < 4000);
        Assert.Contains(drift, r => r.Time >= 4000 && r.Time < 4000 + 120);
    }

    [Fact]
    public void Without_the_feedback_loop_there_is_no_drift_detection_and_no_retraining()
    {
        OnlineDemandForecaster f = Run(feedback: false, ChangeAt, seed: 1);
        RetrainRecord only = Assert.Single(f.RetrainHistory);
        Assert.Equal(RetrainTrigger.WarmUp, only.Trigger);
        FeedbackStatus status = f.GetStatus();
        Assert.False(status.Enabled);
        Assert.Equal(0, status.Apps[0].DriftAlarms);
    }

    [Fact]
    public void In_background_mode_predictions_keep_using_the_old_model_until_the_new_one_is_fitted_then_it_is_swapped_in()
    {
        // Every fit after the first blocks until the test opens the gate: the prediction tick must not wait for it.
        using var gate = new ManualResetEventSlim(false);
        using var fitted = new ManualResetEventSlim(false);
        int fits = 0;
        var f = new OnlineDemandForecaster(1, 1, () => new GatedModel(Interlocked.Increment(ref fits) == 1 ? null : gate, fitted), new OnlineForecasterOptions
        {
            HorizonSteps = 6,
            WarmupSeconds = 300,
            RefitEverySeconds = 600,
            SeasonLength = 12,
            RetrainMode = RetrainMode.Background,
        });
        var noise = new Random(5);
        int t = 0;
        void Advance(int seconds)
        {
            for (int end = t + seconds; t < end;)
            {
                t++;
                f.Observe(0, t, [Rate(t - 0.5, noise, double.PositiveInfinity)]);
                if (t % 5 == 0 && t > 300)
                {
                    Assert.NotNull(f.Predict(0, 0, t));
                }
            }
        }

        Advance(1000); // warm-up fit at 300 s, scheduled retrain triggered at 900 s and now blocked
        Assert.Equal(1, f.ModelOf(0)!.Version);
        Advance(2000); // 400 more buckets predicted while the retrain waits
        Assert.Equal(1, f.ModelOf(0)!.Version);
        Assert.Single(f.RetrainHistory);

        gate.Set();
        Assert.True(fitted.Wait(TimeSpan.FromSeconds(30)), "the background fit finished");

        // The model's fit has returned, but its task completes a moment later on the pool: the first bucket after that
        // publishes it (the 30 s bound only guards against a hang).
        SpinWait.SpinUntil(() => { Advance(5); return f.ModelOf(0)!.Version > 1; }, TimeSpan.FromSeconds(30));
        Assert.Equal(2, f.ModelOf(0)!.Version);
        RetrainRecord swap = f.RetrainHistory[^1];
        Assert.Equal(RetrainTrigger.Schedule, swap.Trigger);
        Assert.Equal(900, swap.Time);
        Assert.Equal(t, swap.SwappedAt);
        Assert.Equal("background", f.GetStatus().RetrainMode);
    }

    /// <summary>Seasonal naive whose fit waits for a gate (when given) and then signals.</summary>
    private sealed class GatedModel(ManualResetEventSlim? gate, ManualResetEventSlim fitted) : Foresight.Forecasting.IForecaster
    {
        private readonly SeasonalNaiveForecaster _inner = new();

        public string Name => _inner.Name;

        public bool IsFitted => _inner.IsFitted;

        public void Fit(Foresight.Forecasting.SeriesSet history, CancellationToken cancellationToken = default)
        {
            gate?.Wait(TimeSpan.FromSeconds(60), cancellationToken);
            _inner.Fit(history, cancellationToken);
            if (gate is not null)
            {
                fitted.Set();
            }
        }

        public void Update(Foresight.Forecasting.SeriesSet newObservations) => _inner.Update(newObservations);

        public IReadOnlyList<Foresight.Core.Forecasts.Forecast> Predict(int horizon) => _inner.Predict(horizon);

        public void Save(Stream stream) => _inner.Save(stream);
    }

    [Fact]
    public void Decisions_are_scored_once_their_window_has_passed()
    {
        var scorer = new DecisionScorer();
        FloorDecision D(int site, bool rise) => new(site, rise ? 3 : 1, rise, 0, rise ? 0.9 : 0.1, false);

        // Sites: 0 a rise that comes true, 1 a rise that does not, 2 a need nobody predicted, 3 nothing happens.
        scorer.Record(0, [D(0, true), D(1, true), D(2, false), D(3, false)], [1, 1, 1, 1], replicaRps: 10, leadSeconds: 10, holdSeconds: 5);
        scorer.Observe(5, [5, 5, 5, 5]);
        Assert.Equal(new DecisionCounts(0, 0, 0), scorer.Recent);
        scorer.Observe(10, [25, 9, 9, 9]);
        scorer.Observe(14.9, [25, 10, 12, 10]);
        Assert.Equal(4, scorer.PendingCount);
        scorer.Observe(15, [25, 10, 10, 10]);

        Assert.Equal(0, scorer.PendingCount);
        Assert.Equal(new DecisionCounts(TruePositives: 1, FalsePositives: 1, FalseNegatives: 1), scorer.Recent);
        Assert.Equal(0.5, scorer.Recent.Precision);
        Assert.Equal(0.5, scorer.Recent.Recall);
        DecisionTotals totals = scorer.Totals;
        Assert.Equal(10, totals.MeanLeadSeconds);
        Assert.Equal(0, totals.LeadShortfalls);

        // Only decisions made at or after a time (the last threshold change) count for the thresholds.
        scorer.Record(20, [D(1, true)], [1, 1, 1, 1], replicaRps: 10, leadSeconds: 10, holdSeconds: 5);
        scorer.Observe(35, [5, 5, 5, 5]);
        Assert.Equal(new DecisionCounts(1, 2, 1), scorer.Recent);
        Assert.Equal(new DecisionCounts(0, 1, 0), scorer.RecentSince(20));
        Assert.Equal(new DecisionCounts(0, 0, 0), scorer.RecentSince(20.5));
        Assert.Equal(scorer.Recent, scorer.RecentSince(double.NegativeInfinity));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Thresholds_adapted_in_the_loop_stay_within_their_bounds_and_every_change_says_why(int seed)
    {
        var bounds = new AdaptiveThresholdOptions { CooldownSeconds = 10, MinDecisions = 5 };
        var f = new OnlineDemandForecaster(1, 2, () => new SeasonalNaiveForecaster(), new OnlineForecasterOptions
        {
            HorizonSteps = 6,
            WarmupSeconds = 1e9, // never fitted: only decision quality moves the thresholds
            RefitEverySeconds = 1e9,
            SeasonLength = 12,
            Thresholds = bounds,
        });
        var random = new Random(seed);
        var defaults = new PredictiveOptions();
        bool eager = true;
        double lowest = 1, highest = 0;
        for (int t = 1; t <= 20_000; t++)
        {
            // Phases of useless rises (precision 0) and of missed needs (recall 0) push the thresholds both ways.
            if (t % 4000 == 0)
            {
                eager = !eager;
            }

            double demand = eager ? 5 : 50 + (random.NextDouble() * 10);
            f.Observe(0, t, [demand, demand]);
            if (t % 5 == 0)
            {
                PredictiveOptions options = f.OptionsFor(0, defaults);
                Assert.InRange(options.ConfidenceThreshold, bounds.MinConfidence, bounds.MaxConfidence);
                Assert.InRange(options.TrafficShiftThreshold, bounds.MinShift, bounds.MaxShift);
                Assert.Null(options.Validate());
                lowest = Math.Min(lowest, options.ConfidenceThreshold);
                highest = Math.Max(highest, options.ConfidenceThreshold);
                bool rise = eager && random.NextDouble() < 0.8;
                f.RecordDecisions(0, t, [new FloorDecision(0, 2, rise, 0, 0.7, false), new FloorDecision(1, 2, rise, 0, 0.7, false)], [1, 1], 10, 10, options);
            }
        }

        AppFeedbackStatus status = f.GetStatus().Apps[0];
        Assert.True(status.ThresholdChanges >= 10, $"{status.ThresholdChanges} changes");
        Assert.Equal(bounds.MaxConfidence, highest, 9); // pushed to both bounds and held there
        Assert.Equal(bounds.MinConfidence, lowest, 9);
        Assert.All(status.RecentThresholdChanges, c =>
        {
            Assert.False(string.IsNullOrWhiteSpace(c.Reason));
            Assert.InRange(c.NewValue, bounds.MinConfidence, bounds.MaxConfidence);
        });
    }
}
