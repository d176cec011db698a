using System.Globalization;
using Foresight.Control.Decision;

namespace Foresight.Feedback.Thresholds;

/// <summary>
/// Moves the controller's confidence and shift thresholds from measured decision quality and forecast accuracy, one
/// step at a time and never outside the configured bounds. Rules, in priority order:
/// <list type="number">
/// <item>MASE ≥ <c>ConservativeMase</c>: the forecasts are no better than naive, so raise both thresholds.</item>
/// <item>Precision short of its target (below it by more than <c>Band</c>) while recall is not: too many false
/// moves, so raise the confidence threshold.</item>
/// <item>Recall short while precision is not: shifts are missed, so lower the confidence threshold. When both are
/// short, moving the threshold trades one for the other and the forecasts are the problem: nothing moves.</item>
/// <item>MASE &lt; <c>RelaxMase</c>: the forecasts are good, so lower the shift threshold.</item>
/// </list>
/// Damping: the caller passes only decisions made since <see cref="LastChange"/> (made under the current
/// thresholds), each rate needs <c>MinDecisions</c> of them, and changes are at least <c>CooldownSeconds</c> apart.
/// Every change is returned and kept in <see cref="History"/> with its old and new values, time and reason.
/// </summary>
public sealed class AdaptiveThresholds
{
    private readonly AdaptiveThresholdOptions _options;
    private readonly Queue<ThresholdChange> _history = new();
    private double _lastChange = double.NegativeInfinity;

    public AdaptiveThresholds(AdaptiveThresholdOptions? options = null)
    {
        _options = options ?? new AdaptiveThresholdOptions();
        string? invalid = _options.Validate();
        if (invalid is not null)
        {
            throw new ArgumentException($"Invalid adaptive threshold option: {invalid}.", nameof(options));
        }

        Confidence = _options.InitialConfidence;
        Shift = _options.InitialShift;
    }

    public double Confidence { get; private set; }

    public double Shift { get; private set; }

    /// <summary>Time of the latest change (negative infinity before any): decisions before it were made under other thresholds.</summary>
    public double LastChange => _lastChange;

    /// <summary>Changes made since creation (<see cref="History"/> keeps only the latest).</summary>
    public int TotalChanges { get; private set; }

    /// <summary>The most recent changes, oldest first.</summary>
    public IReadOnlyCollection<ThresholdChange> History => _history;

    /// <summary>The controller's options with the current thresholds.</summary>
    public PredictiveOptions Apply(PredictiveOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options with { ConfidenceThreshold = Confidence, TrafficShiftThreshold = Shift };
    }

    /// <summary>Adjusts the thresholds from the latest measurements; returns the changes made (often none).</summary>
    /// <param name="time">Seconds on the caller's clock.</param>
    /// <param name="decisions">Scored decisions made since <see cref="LastChange"/>.</param>
    /// <param name="mase">Rolling MASE of the forecasts against seasonal naive, or null while undefined.</param>
    public IReadOnlyList<ThresholdChange> Update(double time, DecisionCounts decisions, double? mase)
    {
        if (!double.IsFinite(time))
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "Time must be finite.");
        }

        if (time - _lastChange < _options.CooldownSeconds)
        {
            return [];
        }

        var changes = new List<ThresholdChange>(2);
        double? precision = decisions.TruePositives + decisions.FalsePositives >= _options.MinDecisions ? decisions.Precision : null;
        double? recall = decisions.TruePositives + decisions.FalseNegatives >= _options.MinDecisions ? decisions.Recall : null;
        bool precisionShort = precision is double p && p < _options.TargetPrecision - _options.Band;
        bool recallShort = recall is double r && r < _options.TargetRecall - _options.Band;

        if (mase is double m && double.IsFinite(m) && m >= _options.ConservativeMase)
        {
            string why = Format($"MASE {m:0.###} ≥ {_options.ConservativeMase:0.###}: forecasts no better than seasonal naive, be more conservative");
            Move(changes, time, ThresholdKind.Confidence, +_options.ConfidenceStep, why);
            Move(changes, time, ThresholdKind.Shift, +_options.ShiftStep, why);
        }
        else
        {
            if (precisionShort && !recallShort)
            {
                Move(changes, time, ThresholdKind.Confidence, +_options.ConfidenceStep,
                    Format($"precision {precision:0.###} < target {_options.TargetPrecision:0.###} over {decisions.TruePositives + decisions.FalsePositives} moves: act less eagerly"));
            }
            else if (recallShort && !precisionShort)
            {
                Move(changes, time, ThresholdKind.Confidence, -_options.ConfidenceStep,
                    Format($"recall {recall:0.###} < target {_options.TargetRecall:0.###} over {decisions.TruePositives + decisions.FalseNegatives} real shifts: act more readily"));
            }

            if (mase is double good && good < _options.RelaxMase)
            {
                Move(changes, time, ThresholdKind.Shift, -_options.ShiftStep,
                    Format($"MASE {good:0.###} < {_options.RelaxMase:0.###}: forecasts clearly beat seasonal naive, smaller shifts are worth acting on"));
            }
        }

        if (changes.Count > 0)
        {
            _lastChange = time;
        }

        return changes;
    }

    private void Move(List<ThresholdChange> changes, double time, ThresholdKind kind, double delta, string reason)
    {
        double old = kind == ThresholdKind.Confidence ? Confidence : Shift;
        double next = kind == ThresholdKind.Confidence
            ? Math.Clamp(old + delta, _options.MinConfidence, _options.MaxConfidence)
            : Math.Clamp(old + delta, _options.MinShift, _options.MaxShift);
        if (next == old)
        {
            return; // already at the bound: nothing changes, so nothing to log
        }

        if (kind == ThresholdKind.Confidence)
        {
            Confidence = next;
        }
        else
        {
            Shift = next;
        }

        var change = new ThresholdChange(time, kind, old, next, reason);
        changes.Add(change);
        TotalChanges++;
        if (_history.Count == _options.HistoryCapacity)
        {
            _history.Dequeue();
        }

        _history.Enqueue(change);
    }

    private static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
