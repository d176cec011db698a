using FsCheck;
using FsCheck.Xunit;
using Foresight.Control.Decision;
using Foresight.Feedback.Thresholds;

namespace Foresight.Feedback.Tests;

public sealed class AdaptiveThresholdsTests
{
    private static readonly AdaptiveThresholdOptions Options = new() { CooldownSeconds = 0 };

    [Fact]
    public void Low_precision_raises_the_confidence_threshold_and_logs_why()
    {
        var t = new AdaptiveThresholds(Options);

        IReadOnlyList<ThresholdChange> changes = t.Update(120, new DecisionCounts(TruePositives: 10, FalsePositives: 30, FalseNegatives: 1), mase: 0.9);

        ThresholdChange c = Assert.Single(changes);
        Assert.Equal(ThresholdKind.Confidence, c.Threshold);
        Assert.Equal(120, c.Time);
        Assert.Equal(0.6, c.OldValue, 12);
        Assert.Equal(0.62, c.NewValue, 12);
        Assert.Contains("precision 0.25", c.Reason);
        Assert.Equal(0.62, t.Confidence, 12);
        Assert.Equal(c, Assert.Single(t.History));
    }

    [Fact]
    public void Low_recall_lowers_the_confidence_threshold()
    {
        var t = new AdaptiveThresholds(Options);

        ThresholdChange c = Assert.Single(t.Update(0, new DecisionCounts(10, 1, 20), mase: 0.9));

        Assert.Equal(0.58, c.NewValue, 12);
        Assert.Contains("recall", c.Reason);
    }

    [Fact]
    public void Forecasts_no_better_than_naive_make_both_thresholds_more_conservative()
    {
        var t = new AdaptiveThresholds(Options);

        // Recall is low too, but a forecast worse than naive wins: never act more readily on it.
        IReadOnlyList<ThresholdChange> changes = t.Update(0, new DecisionCounts(10, 1, 20), mase: 1.2);

        Assert.Equal(2, changes.Count);
        Assert.Equal(0.62, t.Confidence, 12);
        Assert.Equal(0.12, t.Shift, 12);
        Assert.All(changes, c => Assert.Contains("MASE 1.2", c.Reason));
    }

    [Fact]
    public void Good_forecasts_relax_the_shift_threshold()
    {
        var t = new AdaptiveThresholds(Options);

        ThresholdChange c = Assert.Single(t.Update(0, default, mase: 0.5));

        Assert.Equal(ThresholdKind.Shift, c.Threshold);
        Assert.Equal(0.08, t.Shift, 12);
    }

    [Fact]
    public void Too_few_decisions_or_targets_met_change_nothing()
    {
        var t = new AdaptiveThresholds(Options);

        Assert.Empty(t.Update(0, new DecisionCounts(1, 25, 25), mase: 0.9)); // below MinDecisions (30)
        Assert.Empty(t.Update(1, new DecisionCounts(90, 10, 10), mase: 0.9)); // both at 0.9 ≥ 0.7
        Assert.Empty(t.Update(1, new DecisionCounts(65, 35, 0), mase: 0.9)); // precision 0.65: inside the band below 0.7
        Assert.Empty(t.Update(1, new DecisionCounts(10, 30, 60), mase: 0.9)); // both short: a move would trade one for the other
        Assert.Empty(t.Update(2, new DecisionCounts(90, 10, 10), mase: null));
        Assert.Empty(t.History);
    }

    [Fact]
    public void The_cooldown_spaces_changes_out()
    {
        var t = new AdaptiveThresholds(new AdaptiveThresholdOptions { CooldownSeconds = 60 });
        var bad = new DecisionCounts(0, 40, 0);

        Assert.Single(t.Update(0, bad, null));
        Assert.Equal(0, t.LastChange);
        Assert.Empty(t.Update(59, bad, null));
        Assert.Single(t.Update(60, bad, null));
        Assert.Equal(0.64, t.Confidence, 12);
    }

    [Fact]
    public void At_a_bound_the_threshold_stops_and_nothing_more_is_logged()
    {
        var t = new AdaptiveThresholds(Options with { MaxConfidence = 0.65 });
        for (int i = 0; i < 10; i++)
        {
            t.Update(i, new DecisionCounts(0, 40, 0), null);
        }

        Assert.Equal(0.65, t.Confidence, 12);
        Assert.Equal(3, t.History.Count); // 0.6 → 0.62 → 0.64 → 0.65
        Assert.Equal(0.65, t.History.Last().NewValue, 12);
    }

    [Fact]
    public void The_current_thresholds_are_applied_to_the_controller_options()
    {
        var t = new AdaptiveThresholds(Options);
        t.Update(0, default, mase: 1.5);

        PredictiveOptions applied = t.Apply(new PredictiveOptions());

        Assert.Equal(t.Confidence, applied.ConfidenceThreshold);
        Assert.Equal(t.Shift, applied.TrafficShiftThreshold);
        Assert.Null(applied.Validate());
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new AdaptiveThresholds(new AdaptiveThresholdOptions { InitialConfidence = 0.95 }));
        Assert.Throws<ArgumentException>(() => new AdaptiveThresholds(new AdaptiveThresholdOptions { MinShift = 0.6 }));
    }

    [Fact]
    public void Noise_around_the_targets_does_not_move_the_thresholds()
    {
        // Every 5 s two positives and two real shifts are scored, each true with probability 0.7: exactly on target.
        // Damped, the thresholds see only the decisions made since their last change (as the loop passes them).
        IReadOnlyList<(double Time, bool Positive, bool Real)> stream = Outcomes(seed: 7, steps: 4_000);
        var damped = new AdaptiveThresholds();
        foreach (double time in stream.Select(o => o.Time).Distinct())
        {
            damped.Update(time, Count(stream.Where(o => o.Time <= time && o.Time >= damped.LastChange)), mase: 0.9);
        }

        // The earlier rule (no band, 10 decisions, 60 s apart, the last 500 outcomes) moves over and over on the same data.
        var undamped = new AdaptiveThresholds(new AdaptiveThresholdOptions { Band = 0, MinDecisions = 10, CooldownSeconds = 60 });
        var window = new Queue<(double Time, bool Positive, bool Real)>();
        foreach (IGrouping<double, (double Time, bool Positive, bool Real)> step in stream.GroupBy(o => o.Time))
        {
            foreach ((double Time, bool Positive, bool Real) o in step)
            {
                window.Enqueue(o);
                if (window.Count > 500)
                {
                    window.Dequeue();
                }
            }

            undamped.Update(step.Key, Count(window), mase: 0.9);
        }

        Assert.True(damped.TotalChanges <= 2, $"{damped.TotalChanges} damped changes");
        Assert.True(undamped.TotalChanges >= 20, $"{undamped.TotalChanges} undamped changes");
    }

    /// <summary>Per step, a confident rise (real w.p. 0.7: TP, else FP) and w.p. 0.3 a missed shift (FN): both rates at 0.7.</summary>
    private static List<(double Time, bool Positive, bool Real)> Outcomes(int seed, int steps)
    {
        var rng = new Random(seed);
        var list = new List<(double, bool, bool)>();
        for (int i = 0; i < steps; i++)
        {
            list.Add((i * 5.0, true, rng.NextDouble() < 0.7)); // a rise: real (TP) or not (FP)
            list.Add((i * 5.0, false, rng.NextDouble() < 0.3)); // a missed shift (FN) w.p. 0.3: E[TP] = 0.7, E[FN] = 0.3 per step
        }

        return list;
    }

    private static DecisionCounts Count(IEnumerable<(double Time, bool Positive, bool Real)> outcomes)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach ((_, bool positive, bool real) in outcomes)
        {
            if (positive)
            {
                (tp, fp) = real ? (tp + 1, fp) : (tp, fp + 1);
            }
            else if (real)
            {
                fn++;
            }
        }

        return new DecisionCounts(tp, fp, fn);
    }

    [Property(MaxTest = 500)]
    public bool Thresholds_stay_within_bounds_whatever_the_inputs(
        NonNegativeInt[] tp, NonNegativeInt[] fp, NonNegativeInt[] fn, NormalFloat[] mase, PositiveInt confidenceStep, PositiveInt shiftStep, bool cooldown)
    {
        var options = new AdaptiveThresholdOptions
        {
            ConfidenceStep = confidenceStep.Get / 100.0, // 0.01 and up, possibly far wider than the bounds
            ShiftStep = shiftStep.Get / 100.0,
            CooldownSeconds = cooldown ? 30 : 0,
            MinDecisions = 1,
            Band = cooldown ? 0.1 : 0,
        };
        var t = new AdaptiveThresholds(options);
        int n = Math.Max(Math.Max(tp.Length, fp.Length), Math.Max(fn.Length, mase.Length));
        double confidence = t.Confidence, shift = t.Shift;
        for (int i = 0; i < n; i++)
        {
            double? m = mase.Length == 0 || i % 7 == 6 ? null : Math.Abs(mase[i % mase.Length].Get);
            var counts = new DecisionCounts(At(tp, i), At(fp, i), At(fn, i));
            foreach (ThresholdChange c in t.Update(i * 10, counts, m))
            {
                // Each record starts from the value before it and moves within the bounds.
                double before = c.Threshold == ThresholdKind.Confidence ? confidence : shift;
                if (c.OldValue != before || c.NewValue == c.OldValue || string.IsNullOrWhiteSpace(c.Reason))
                {
                    return false;
                }

                (confidence, shift) = c.Threshold == ThresholdKind.Confidence ? (c.NewValue, shift) : (confidence, c.NewValue);
            }

            if (t.Confidence != confidence || t.Shift != shift
                || t.Confidence < options.MinConfidence || t.Confidence > options.MaxConfidence
                || t.Shift < options.MinShift || t.Shift > options.MaxShift)
            {
                return false;
            }
        }

        return true;
    }

    private static int At(NonNegativeInt[] xs, int i) => xs.Length == 0 ? 0 : xs[i % xs.Length].Get;
}
