using Foresight.Control.Decision;
using Foresight.Feedback.Thresholds;

namespace Foresight.Feedback.Decisions;

/// <summary>Totals of one app's scored decisions, for status.</summary>
/// <param name="TruePositives">Confident rises whose demand was real: within the decision's window the observed demand exceeded the active capacity by more than the shift threshold.</param>
/// <param name="FalsePositives">Confident rises that were not needed.</param>
/// <param name="FalseNegatives">Real needs the decision did not predict (no confident rise at that site).</param>
/// <param name="MeanLeadSeconds">Over true positives: seconds from the decision until the need actually arrived.</param>
/// <param name="LeadShortfalls">True positives whose need arrived before an instance started then could have been warm.</param>
public sealed record DecisionTotals(long TruePositives, long FalsePositives, long FalseNegatives, double? MeanLeadSeconds, long LeadShortfalls);

/// <summary>
/// Scores one app's floor decisions once their window has passed. A decision at time t for a site, with n replicas
/// active, looks at the demand up to t + lead + hold (the window its floor covers). The need is real when the observed
/// demand in that window exceeded what n replicas serve at the planning utilization by more than the decision's shift
/// threshold: the same test the decision made on the forecast, so a blip within the shift tolerance that the reactive
/// path absorbs is not counted as a missed shift. A confident rise is then a true
/// positive (else a false positive); no rise where the need was real is a false negative. Decisions where neither
/// happened are true negatives and are not counted. Each tick's decision is scored on its own, so a sustained rise
/// counts once per tick: precision and recall are per decision tick, not per episode.
/// </summary>
public sealed class DecisionScorer
{
    private readonly List<Pending> _pending = [];
    private readonly Queue<(Outcome Outcome, double DecidedAt)> _window = new();
    private readonly int _windowSize;
    private int _tp;
    private int _fp;
    private int _fn;
    private long _totalTp;
    private long _totalFp;
    private long _totalFn;
    private double _leadSum;
    private long _shortfalls;

    /// <param name="windowSize">Scored positives and misses kept for <see cref="Recent"/>.</param>
    public DecisionScorer(int windowSize = 500)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(windowSize, 1);
        _windowSize = windowSize;
    }

    private enum Outcome
    {
        TruePositive,
        FalsePositive,
        FalseNegative,
    }

    /// <summary>Counts over the most recent scored decisions.</summary>
    public DecisionCounts Recent => new(_tp, _fp, _fn);

    /// <summary>
    /// Counts over the recent scored decisions made at or after <paramref name="decidedAt"/> (what the thresholds adapt
    /// to: only decisions taken under the current thresholds say anything about them).
    /// </summary>
    public DecisionCounts RecentSince(double decidedAt)
    {
        int tp = 0, fp = 0, fn = 0;
        foreach ((Outcome o, double at) in _window)
        {
            if (at < decidedAt)
            {
                continue;
            }

            switch (o)
            {
                case Outcome.TruePositive: tp++; break;
                case Outcome.FalsePositive: fp++; break;
                default: fn++; break;
            }
        }

        return new DecisionCounts(tp, fp, fn);
    }

    public DecisionTotals Totals => new(_totalTp, _totalFp, _totalFn, _totalTp > 0 ? _leadSum / _totalTp : null, _shortfalls);

    /// <summary>Decisions waiting for their window to pass.</summary>
    public int PendingCount => _pending.Count;

    /// <param name="shiftThreshold">The decision's traffic-shift threshold (a fraction of the capacity).</param>
    public void Record(double now, IReadOnlyList<FloorDecision> decisions, ReadOnlySpan<int> activeReplicas, double replicaRps, double leadSeconds, double holdSeconds, double shiftThreshold = 0)
    {
        if (!(replicaRps > 0) || !double.IsFinite(now))
        {
            return; // nothing can be needed of a replica that serves nothing
        }

        foreach (FloorDecision d in decisions)
        {
            int active = activeReplicas[d.Site];
            _pending.Add(new Pending(d.Site, now, now + leadSeconds + holdSeconds, leadSeconds, d.ConfidentRise, active * replicaRps * (1 + shiftThreshold)));
        }
    }

    /// <summary>Feeds the demand observed in the bucket that ended at <paramref name="time"/>; scores decisions whose window has passed.</summary>
    public void Observe(double time, ReadOnlySpan<double> demandBySite)
    {
        for (int i = 0; i < _pending.Count; i++)
        {
            Pending p = _pending[i];
            if (time <= p.DecidedAt || p.Site >= demandBySite.Length)
            {
                continue;
            }

            if (p.NeedAt is null && demandBySite[p.Site] > p.Capacity)
            {
                p.NeedAt = time;
            }
        }

        // Score and drop the decisions whose window has passed (kept in decision order, so they are at the front).
        int done = 0;
        while (done < _pending.Count && _pending[done].End <= time)
        {
            Score(_pending[done]);
            done++;
        }

        _pending.RemoveRange(0, done);
    }

    private void Score(Pending p)
    {
        bool real = p.NeedAt is not null;
        if (p.Rise && real)
        {
            double lead = p.NeedAt!.Value - p.DecidedAt;
            _leadSum += lead;
            _shortfalls += lead < p.LeadSeconds ? 1 : 0;
            _totalTp++;
            Push(Outcome.TruePositive, p.DecidedAt);
        }
        else if (p.Rise)
        {
            _totalFp++;
            Push(Outcome.FalsePositive, p.DecidedAt);
        }
        else if (real)
        {
            _totalFn++;
            Push(Outcome.FalseNegative, p.DecidedAt);
        }
    }

    private void Push(Outcome o, double decidedAt)
    {
        if (_window.Count == _windowSize)
        {
            Count(_window.Dequeue().Outcome, -1);
        }

        _window.Enqueue((o, decidedAt));
        Count(o, +1);
    }

    private void Count(Outcome o, int sign)
    {
        switch (o)
        {
            case Outcome.TruePositive: _tp += sign; break;
            case Outcome.FalsePositive: _fp += sign; break;
            default: _fn += sign; break;
        }
    }

    private sealed class Pending(int site, double decidedAt, double end, double leadSeconds, bool rise, double capacity)
    {
        public int Site { get; } = site;

        public double DecidedAt { get; } = decidedAt;

        public double End { get; } = end;

        public double LeadSeconds { get; } = leadSeconds;

        public bool Rise { get; } = rise;

        /// <summary>Demand beyond which the need is real: the active replicas' capacity plus the shift threshold.</summary>
        public double Capacity { get; } = capacity;

        public double? NeedAt { get; set; }
    }
}
