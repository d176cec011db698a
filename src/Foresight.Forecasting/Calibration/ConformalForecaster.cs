using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Calibration;

/// <summary>Options of <see cref="ConformalForecaster"/>.</summary>
public sealed record ConformalOptions
{
    /// <summary>Horizon steps calibrated separately (later steps reuse the last step's scores).</summary>
    public int Horizon { get; init; } = 48;

    /// <summary>Forecast origins in the calibration tail at fit time.</summary>
    public int CalibrationOrigins { get; init; } = 4;

    /// <summary>Steps between calibration forecasts (at fit and while streaming).</summary>
    public int Stride { get; init; } = 12;

    /// <summary>Scores kept per (horizon step, interval), pooled over series; older ones roll out.</summary>
    public int Window { get; init; } = 2000;

    /// <summary>Fewer scores than this leave an interval unadjusted.</summary>
    public int MinScores { get; init; } = 30;
}

/// <summary>
/// Split conformal calibration of another forecaster's intervals on a rolling window: normalised conformalised
/// quantile regression (Romano, Patterson and Candès 2019). For each central interval [q_τ, q_{1-τ}] the model gives,
/// the score of an outcome y is <c>s = max(q_τ - y, y - q_{1-τ}) / (q_{1-τ} - q_τ)</c>, kept per horizon step and pooled
/// over series. A new interval becomes <c>[q_τ - ŝ·w, q_{1-τ} + ŝ·w]</c> with w its width and ŝ the
/// ⌈(n+1)(1-2τ)⌉-th smallest of the n recent scores, which gives ≥ 1-2τ coverage under exchangeability.
/// </summary>
/// <remarks>
/// Fit holds out a tail of <c>Horizon + (CalibrationOrigins - 1)·Stride</c> steps, fits the inner model before it
/// and streams the tail through <see cref="Update"/>, forecasting every <see cref="ConformalOptions.Stride"/> steps;
/// the scores of those forecasts seed the window. While streaming it keeps doing so, so calibration follows drift.
/// The median is never changed.
/// </remarks>
public sealed class ConformalForecaster : IForecaster
{
    public const string ModelName = "conformal";

    private readonly ConformalOptions _options;
    private readonly Dictionary<string, Tracker> _trackers = new(StringComparer.Ordinal);
    private ScoreRing[][] _scores = Array.Empty<ScoreRing[]>(); // [step][pair]
    private double[] _pairLevels = Array.Empty<double>(); // τ < 0.5 per pair

    public ConformalForecaster(IForecaster inner, ConformalOptions? options = null)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
        _options = options ?? new ConformalOptions();
    }

    public IForecaster Inner { get; }

    public string Name => Inner.Name;

    public bool IsFitted => Inner.IsFitted && _scores.Length > 0;

    /// <summary>Scores currently held for horizon step <paramref name="step"/> and the interval whose lower level is τ.</summary>
    public int ScoreCount(int step, double tau) => _scores[step][Array.FindIndex(_pairLevels, l => Math.Abs(l - tau) < 1e-9)].Count;

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        int tail = _options.Horizon + ((_options.CalibrationOrigins - 1) * _options.Stride);
        Inner.Fit(history.DropLast(tail), cancellationToken);
        _trackers.Clear();
        foreach (Series s in history.Series)
        {
            _trackers[s.Name] = new Tracker(Math.Max(0, s.Length - tail));
        }

        Forecast probe = Inner.Predict(1)[0];
        _pairLevels = probe.Levels.Where(l => l < 0.5 && probe.Levels.Any(u => Math.Abs(u - (1 - l)) < 1e-9)).ToArray();
        _scores = Enumerable.Range(0, _options.Horizon).Select(_ => _pairLevels.Select(_ => new ScoreRing(_options.Window)).ToArray()).ToArray();
        IssueDue(force: true);
        for (int from = tail; from > 0; from -= _options.Stride)
        {
            int count = Math.Min(_options.Stride, from);
            Update(history.With(history.Series.Select(s => history.Slice(s, Math.Max(0, s.Length - from), Math.Min(count, s.Length))).ToArray(), allowEmpty: true));
        }
    }

    public void Update(SeriesSet newObservations)
    {
        ArgumentNullException.ThrowIfNull(newObservations);
        foreach (Series s in newObservations.Series)
        {
            Tracker tracker = FittedSeries.Of(_trackers, s, nameof(newObservations));

            foreach (double y in s.Values)
            {
                Resolve(tracker, y);
                tracker.Observed++;
                tracker.SinceIssue++;
            }
        }

        Inner.Update(newObservations);
        IssueDue(force: false);
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        IReadOnlyList<Forecast> raw = Inner.Predict(horizon);
        return raw.Select(Adjust).ToArray();
    }

    public void Save(Stream stream) =>
        throw new NotSupportedException("Saving a conformal wrapper is not implemented yet: save the inner model and recalibrate on load.");

    /// <summary>The calibrated version of one raw forecast.</summary>
    public Forecast Adjust(Forecast raw)
    {
        ArgumentNullException.ThrowIfNull(raw);
        IReadOnlyList<double> levels = raw.Levels;
        var values = levels.Select((_, l) => raw.Values[l].ToArray()).ToArray();
        for (int p = 0; p < _pairLevels.Length; p++)
        {
            int lo = IndexOf(levels, _pairLevels[p]), hi = IndexOf(levels, 1 - _pairLevels[p]);
            if (lo < 0 || hi < 0)
            {
                continue;
            }

            for (int j = 0; j < raw.Horizon; j++)
            {
                ScoreRing ring = _scores[Math.Min(j, _scores.Length - 1)][p];
                if (ring.Count < _options.MinScores)
                {
                    continue;
                }

                double s = Math.Max(-0.5, ring.ConformalQuantile(1 - (2 * _pairLevels[p])));
                double width = values[hi][j] - values[lo][j];
                values[lo][j] -= s * width;
                values[hi][j] += s * width;
            }
        }

        return new Forecast(raw.SeriesName, raw.Start, raw.Step, levels, values, raw.HasExplicitMean ? raw.Mean : null);
    }

    private void IssueDue(bool force)
    {
        if (!force && !_trackers.Values.Any(t => t.SinceIssue >= _options.Stride))
        {
            return;
        }

        foreach (Forecast f in Inner.Predict(_options.Horizon))
        {
            Tracker t = _trackers[f.SeriesName];
            if (force || t.SinceIssue >= _options.Stride)
            {
                t.Pending.Add((t.Observed, f));
                t.SinceIssue = 0;
            }
        }
    }

    private void Resolve(Tracker tracker, double y)
    {
        for (int i = tracker.Pending.Count - 1; i >= 0; i--)
        {
            (long origin, Forecast f) = tracker.Pending[i];
            long j = tracker.Observed - origin;
            if (j >= f.Horizon || j >= _scores.Length)
            {
                tracker.Pending.RemoveAt(i);
                continue;
            }

            for (int p = 0; p < _pairLevels.Length; p++)
            {
                double lo = f.Quantile(_pairLevels[p], (int)j), hi = f.Quantile(1 - _pairLevels[p], (int)j);
                double width = Math.Max(hi - lo, 1e-9 * (Math.Abs(f.Median[(int)j]) + 1));
                _scores[j][p].Add(Math.Max(lo - y, y - hi) / width);
            }

            if (j == f.Horizon - 1)
            {
                tracker.Pending.RemoveAt(i);
            }
        }
    }

    private static int IndexOf(IReadOnlyList<double> levels, double level)
    {
        for (int i = 0; i < levels.Count; i++)
        {
            if (Math.Abs(levels[i] - level) < 1e-9)
            {
                return i;
            }
        }

        return -1;
    }

    private sealed class Tracker
    {
        public Tracker(long observed)
        {
            Observed = observed;
        }

        public long Observed { get; set; }

        public int SinceIssue { get; set; }

        public List<(long Origin, Forecast Forecast)> Pending { get; } = new();
    }

    /// <summary>The most recent scores, at most a capacity.</summary>
    private sealed class ScoreRing
    {
        private readonly double[] _values;
        private long _added;
        private double _cachedLevel = double.NaN;
        private double _cached;

        public ScoreRing(int capacity)
        {
            _values = new double[Math.Max(1, capacity)];
        }

        public int Count => (int)Math.Min(_added, _values.Length);

        public void Add(double score)
        {
            _values[(int)(_added % _values.Length)] = score;
            _added++;
            _cachedLevel = double.NaN;
        }

        /// <summary>The ⌈(n+1)·level⌉-th smallest score (the largest when that exceeds n).</summary>
        public double ConformalQuantile(double level)
        {
            if (level == _cachedLevel)
            {
                return _cached;
            }

            int n = Count;
            var sorted = _values.AsSpan(0, n).ToArray();
            Array.Sort(sorted);
            int rank = (int)Math.Ceiling((n + 1) * level);
            _cachedLevel = level;
            _cached = sorted[Math.Clamp(rank, 1, n) - 1];
            return _cached;
        }
    }
}
