using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Calibration;

/// <summary>Options of <see cref="RollingQuantileCalibrator"/>.</summary>
public sealed record RollingCalibrationOptions
{
    /// <summary>Scores kept per quantile level and phase (pooled over series and steps ahead); older ones roll out.</summary>
    public int Window { get; init; } = 2000;

    /// <summary>Fewer scores than this leave a level (in a phase) as the model gave it.</summary>
    public int MinScores { get; init; } = 100;

    /// <summary>Steps per season (one day of buckets); 1: no seasonal phases.</summary>
    public int SeasonLength { get; init; } = 1;

    /// <summary>
    /// Phases of the season calibrated apart (Mondrian conformal: the hour of the day by default). A model's error
    /// often follows the daily cycle while its interval does not (ETS's is constant), so one pooled window over-covers
    /// at night and under-covers by day; capped at <see cref="SeasonLength"/>.
    /// </summary>
    public int Phases { get; init; } = 24;

    /// <summary>
    /// Central intervals keep their nominal coverage when one tail cannot miss its share. Demand has an atom at zero:
    /// where a tenth of the buckets are exactly 0, the 5% quantile is 0 and the lower bound misses nothing, so
    /// [q_0.05, q_0.95] covers 95%. On, the tail that falls short (in the window, per phase) hands the shortfall to the
    /// other: the upper end becomes the (0.90 + lower misses) quantile and the 90% interval covers 90%. Off, each level
    /// is a calibrated quantile on its own. See design note 0022.
    /// </summary>
    public bool ShareMissBudget { get; init; } = true;

    /// <summary>
    /// Steps over which the recent error (|y − median| in units of the 90% width, over all series) is averaged into the
    /// local scale every interval is multiplied by; null: one phase of the season, at least 6 steps; 0: no local scale.
    /// Errors cluster (a rainy day, an event), and a calm day's interval should be narrow.
    /// </summary>
    public int? VolatilitySpan { get; init; }

    /// <summary>Null when valid, else what is wrong.</summary>
    public string? Validate() =>
        Window < 2 ? $"Window must be at least 2 (is {Window})"
        : MinScores < 1 || MinScores > Window ? $"MinScores must lie in [1, Window] (is {MinScores})"
        : SeasonLength < 1 ? $"SeasonLength must be positive (is {SeasonLength})"
        : Phases < 1 ? $"Phases must be positive (is {Phases})"
        : VolatilitySpan < 0 ? $"VolatilitySpan must not be negative (is {VolatilitySpan})"
        : null;
}

/// <summary>
/// Online conformal calibration of a stream of quantile forecasts on a rolling window. Each quantile level τ ≠ 0.5 is
/// calibrated on its own, one-sided (the asymmetric form of conformalised quantile regression, Romano, Patterson and
/// Candès 2019), as a factor on its distance from the median: with <c>d = q_τ − median</c> (negative below the
/// median) and r the local scale the forecast was served with, the score of an outcome y is
/// <c>s = (y − median) / (d·r)</c>, covered when <c>s ≤ ŝ</c>, and the served level is <c>median + ŝ·d·r</c> with ŝ the
/// ⌈(n+1)·max(τ, 1−τ)⌉-th smallest of the n recent scores. So each level is a calibrated quantile (the planner reads
/// single levels) and the central 90% interval covers about 90%; where one tail cannot miss its share, see
/// <see cref="RollingCalibrationOptions.ShareMissBudget"/>.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Per tail, not symmetric: nonnegative demand has an atom at zero (quiet hours, lower bound clamped at 0), so the
/// lower tail can be short of misses while the upper one has too many; a symmetric score ties on that atom and cannot
/// move either bound. The short tail's unspent misses go to the other (design note 0022).</item>
/// <item>Mondrian by the phase of the season (<see cref="RollingCalibrationOptions.Phases"/>): scores are kept and
/// factors applied per hour of the day of the step forecast, so a model whose error follows the daily cycle is
/// calibrated at every hour, not only on average.</item>
/// <item>Locally scaled (<see cref="RollingCalibrationOptions.VolatilitySpan"/>): r is a running mean of the recent
/// errors in units of the 90% width, so a calm day gets narrow intervals and a volatile one wide ones (locally
/// weighted conformal, Lei et al. 2018).</item>
/// <item>Forecasts whose 90% width is zero (a series that was always zero) are not scored: a rescaling cannot change
/// them, and their ties would hold every level where it is.</item>
/// <item>It learns only from <see cref="Observe"/>, which the caller feeds outcomes already seen, so it never looks
/// ahead. The median and mean are never changed, no level crosses the median, and a forecast that was nonnegative
/// stays so.</item>
/// <item>Cheap on the tick path: <see cref="Observe"/> writes ring buffers; a phase's factors are re-selected
/// (quickselect, no sort) after every <c>Window/16</c> new scores in it, and <see cref="Adjust"/> reads the model's rows
/// as spans and builds its forecasts in one <see cref="ForecastBatch"/>.</item>
/// </list>
/// </remarks>
public sealed class RollingQuantileCalibrator
{
    private readonly RollingCalibrationOptions _options;
    private readonly int _refreshEvery;
    private readonly int _phases;
    private readonly int[] _sinceRefresh;
    private double[] _levels = [];
    private int[] _pair = []; // per level, the index of 1 − τ (or −1)
    private int _median, _lower90, _upper90; // indices of 0.5, 0.05 and 0.95
    private Ring[][] _rings = []; // [phase][level]
    private double[][] _offsets = []; // [phase][level]
    private double[] _scratch = [];
    private bool[] _calibrated = []; // per phase: some level has enough scores

    // The local scale: an exponential average over steps of the mean normalised error, as of each recent step.
    private const int ScaleHistory = 64;
    private readonly double _scaleAlpha;
    private readonly double[] _scaleAt = new double[ScaleHistory];
    private long _scaleStep = -1;
    private long _firstScaleStep;
    private double _scale = double.NaN;
    private double _errorSum;
    private int _errorCount;

    public RollingQuantileCalibrator(RollingCalibrationOptions? options = null)
    {
        _options = options ?? new RollingCalibrationOptions();
        if (_options.Validate() is string invalid)
        {
            throw new ArgumentException($"Invalid calibration option: {invalid}.", nameof(options));
        }

        _refreshEvery = Math.Max(1, _options.Window / 16);
        _phases = Math.Min(_options.Phases, _options.SeasonLength);
        _sinceRefresh = new int[_phases];
        int span = _options.VolatilitySpan ?? Math.Max(6, _options.SeasonLength / _phases);
        _scaleAlpha = span == 0 ? 0 : 1.0 / span;
    }

    /// <summary>Scores recorded so far (points with a nonzero width), including those that have rolled out.</summary>
    public long Observed { get; private set; }

    /// <summary>The phase (calibration bin) of the step that falls at <paramref name="bucket"/> steps since the epoch.</summary>
    public int PhaseOf(long bucket)
    {
        long season = _options.SeasonLength;
        long inSeason = ((bucket % season) + season) % season;
        return (int)(inSeason * _phases / season);
    }

    /// <summary>
    /// Scores one outcome <paramref name="actual"/>, seen at step <paramref name="bucket"/>, against step
    /// <paramref name="step"/> of the uncalibrated forecast made for it.
    /// </summary>
    public void Observe(Forecast raw, int step, double actual, long bucket = 0)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (!double.IsFinite(actual))
        {
            return;
        }

        EnsureLevels(raw.Levels);
        double median = raw.LevelValues(_median)[step];
        double width = raw.LevelValues(_upper90)[step] - raw.LevelValues(_lower90)[step];
        if (!(width > 1e-12 * (1 + Math.Abs(median))))
        {
            return;
        }

        Advance(bucket);
        double scale = ScaleAt(bucket - step); // the scale the forecast was served with
        int phase = PhaseOf(bucket);
        Ring[] rings = _rings[phase];
        for (int l = 0; l < _levels.Length; l++)
        {
            // Covered at offset ŝ ⇔ s ≤ ŝ, with d the level's distance from the median (negative below it).
            double d = raw.LevelValues(l)[step] - median;
            if (_levels[l] != 0.5 && Math.Abs(d) > 1e-12 * width)
            {
                rings[l].Add((actual - median) / (d * scale));
            }
        }

        _errorSum += Math.Abs(actual - median) / width;
        _errorCount++;
        Observed++;
        _sinceRefresh[phase]++;
    }

    /// <summary>
    /// The conformal factor of <paramref name="level"/> in a phase: its calibrated distance from the median is the
    /// model's times this times the local scale. NaN while fewer than <see cref="RollingCalibrationOptions.MinScores"/>
    /// scores are held (the level is served as the model gave it).
    /// </summary>
    public double Offset(double level, int phase = 0)
    {
        Refresh(phase, force: true);
        int l = Array.IndexOf(_levels, level);
        return l < 0 ? double.NaN : _offsets[phase][l];
    }

    /// <summary>
    /// The calibrated forecasts (the same list while nothing is calibrated yet), whose step 0 falls at
    /// <paramref name="firstBucket"/> steps since the epoch.
    /// </summary>
    public IReadOnlyList<Forecast> Adjust(IReadOnlyList<Forecast> raw, long firstBucket = 0)
    {
        ArgumentNullException.ThrowIfNull(raw);
        if (raw.Count == 0 || _levels.Length == 0)
        {
            return raw;
        }

        int horizon = 0;
        foreach (Forecast f in raw)
        {
            horizon = Math.Max(horizon, f.Horizon);
        }

        Advance(firstBucket);
        bool any = false;
        for (int j = 0; j < horizon; j++)
        {
            int phase = PhaseOf(firstBucket + j);
            Refresh(phase, force: false);
            any |= _calibrated[phase];
        }

        if (!any)
        {
            return raw;
        }

        // One batch when the forecasts share a shape (a model's Predict does); else one per forecast.
        Forecast first = raw[0];
        bool uniform = true;
        for (int i = 0; i < raw.Count && uniform; i++)
        {
            uniform = raw[i].Horizon == first.Horizon && raw[i].HasExplicitMean == first.HasExplicitMean && SameLevels(raw[i].Levels);
        }

        var result = new Forecast[raw.Count];
        ForecastBatch? batch = uniform ? new ForecastBatch(_levels, first.Horizon, raw.Count, first.HasExplicitMean) : null;
        for (int i = 0; i < raw.Count; i++)
        {
            Forecast f = raw[i];
            result[i] = SameLevels(f.Levels)
                ? Calibrate(f, batch ?? new ForecastBatch(_levels, f.Horizon, 1, f.HasExplicitMean), firstBucket)
                : f;
        }

        return result;
    }

    private Forecast Calibrate(Forecast f, ForecastBatch batch, long firstBucket)
    {
        int h = f.Horizon;
        double scale = ScaleAt(firstBucket);
        Span<double> values = batch.Next; // [level][step], levels sorted as in _levels
        for (int j = 0; j < h; j++)
        {
            int phase = PhaseOf(firstBucket + j);
            double[] offsets = _offsets[phase];
            double median = f.LevelValues(_median)[j];
            bool nonNegative = f.LevelValues(0)[j] >= 0;
            for (int l = 0; l < _levels.Length; l++)
            {
                double tau = _levels[l];
                double q = f.LevelValues(l)[j];
                if (tau != 0.5 && !double.IsNaN(offsets[l]))
                {
                    // The level's distance from the median, times its conformal factor and the local scale.
                    q = median + (offsets[l] * (q - median) * scale);
                    q = tau > 0.5 ? Math.Max(median, q) : Math.Min(median, q);
                    q = nonNegative ? Math.Max(0, q) : q;
                }

                values[(l * h) + j] = q;
            }
        }

        if (f.HasExplicitMean)
        {
            f.MeanValues().CopyTo(batch.NextMean);
        }

        return batch.Add(f.SeriesName, f.Start, f.Step);
    }

    /// <summary>Moves the local scale on to <paramref name="bucket"/>: every step before it has been observed.</summary>
    private void Advance(long bucket)
    {
        if (_scaleStep < 0)
        {
            _scaleStep = bucket;
            _firstScaleStep = bucket;
            _scaleAt[Slot(bucket)] = 1;
            return;
        }

        while (_scaleStep < bucket)
        {
            if (_errorCount > 0 && _scaleAlpha > 0)
            {
                double mean = _errorSum / _errorCount;
                _scale = double.IsNaN(_scale) ? mean : _scale + (_scaleAlpha * (mean - _scale));
            }

            _errorSum = 0;
            _errorCount = 0;
            _scaleStep++;
            _scaleAt[Slot(_scaleStep)] = double.IsNaN(_scale) || !(_scale > 0) ? 1 : _scale;
        }
    }

    /// <summary>The local scale a forecast served at <paramref name="bucket"/> used (1 before any, or too long ago to tell).</summary>
    private double ScaleAt(long bucket) =>
        _scaleStep >= 0 && bucket >= _firstScaleStep && bucket <= _scaleStep && bucket > _scaleStep - ScaleHistory ? _scaleAt[Slot(bucket)] : 1;

    private static int Slot(long bucket) => (int)(((bucket % ScaleHistory) + ScaleHistory) % ScaleHistory);

    private bool SameLevels(IReadOnlyList<double> levels)
    {
        if (levels.Count != _levels.Length)
        {
            return false;
        }

        for (int l = 0; l < _levels.Length; l++)
        {
            if (levels[l] != _levels[l])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Starts over when the level set changes (a new model with other levels): old scores mean other quantiles.</summary>
    private void EnsureLevels(IReadOnlyList<double> levels)
    {
        if (SameLevels(levels))
        {
            return;
        }

        _levels = levels.ToArray();
        _median = Array.FindIndex(_levels, t => Math.Abs(t - 0.5) < 1e-9);
        _lower90 = Array.FindIndex(_levels, t => Math.Abs(t - 0.05) < 1e-9);
        _upper90 = Array.FindIndex(_levels, t => Math.Abs(t - 0.95) < 1e-9);
        _pair = _levels.Select(t => Array.FindIndex(_levels, u => t != 0.5 && Math.Abs(u - (1 - t)) < 1e-9)).ToArray();
        _rings = Enumerable.Range(0, _phases).Select(_ => _levels.Select(_ => new Ring(_options.Window)).ToArray()).ToArray();
        _offsets = Enumerable.Range(0, _phases).Select(_ => new double[_levels.Length]).ToArray();
        _calibrated = new bool[_phases];
        _scratch = new double[_options.Window];
        Array.Clear(_sinceRefresh);
    }

    private void Refresh(int phase, bool force)
    {
        if (_levels.Length == 0 || _sinceRefresh[phase] == 0 || (!force && _sinceRefresh[phase] < _refreshEvery))
        {
            return;
        }

        _sinceRefresh[phase] = 0;
        _calibrated[phase] = false;
        for (int l = 0; l < _levels.Length; l++)
        {
            Ring ring = _rings[phase][l];
            double tau = _levels[l];
            if (tau == 0.5 || ring.Count < _options.MinScores)
            {
                _offsets[phase][l] = double.NaN; // served as the model gave it
                continue;
            }

            _calibrated[phase] = true;

            _offsets[phase][l] = ConformalQuantile(ring, Math.Max(tau, 1 - tau));
        }

        if (!_options.ShareMissBudget)
        {
            return;
        }

        // A tail whose offset lands on tied scores misses less than its share: the atom at zero, where outcomes of 0 meet
        // a bound clamped at 0 (score 0) and are covered since bounds are included. It gives the shortfall to its
        // partner, so the pair's interval misses its nominal 2·min(τ, 1−τ) in the window. Continuous scores do not tie,
        // so without an atom nothing moves.
        Span<double> shortfall = stackalloc double[_levels.Length];
        for (int l = 0; l < _levels.Length; l++)
        {
            Ring ring = _rings[phase][l];
            int n = ring.Count;
            if (_pair[l] < 0 || n < _options.MinScores)
            {
                shortfall[l] = 0;
                continue;
            }

            double tau = _levels[l];
            int rank = Math.Clamp((int)Math.Ceiling((n + 1) * Math.Max(tau, 1 - tau)), 1, n);
            shortfall[l] = Math.Max(0, ((double)(n - rank) / n) - ring.FractionAbove(_offsets[phase][l]));
        }

        for (int l = 0; l < _levels.Length; l++)
        {
            int partner = _pair[l];
            if (partner >= 0 && shortfall[partner] > 0 && _rings[phase][l].Count >= _options.MinScores)
            {
                double tau = _levels[l];
                _offsets[phase][l] = ConformalQuantile(_rings[phase][l], Math.Max(tau, 1 - tau) - shortfall[partner]);
            }
        }
    }

    /// <summary>Split conformal: the ⌈(n+1)·c⌉-th smallest score covers a fraction c of exchangeable outcomes.</summary>
    private double ConformalQuantile(Ring ring, double coverage)
    {
        int n = ring.Count;
        int rank = Math.Clamp((int)Math.Ceiling((n + 1) * coverage), 1, n);
        Span<double> scores = _scratch.AsSpan(0, n);
        ring.CopyTo(scores);
        return Select(scores, rank - 1);
    }

    /// <summary>The k-th smallest (0-based) of <paramref name="a"/>, reordering it (Hoare's quickselect).</summary>
    private static double Select(Span<double> a, int k)
    {
        int lo = 0, hi = a.Length - 1;
        while (lo < hi)
        {
            double pivot = a[lo + ((hi - lo) / 2)];
            int i = lo, j = hi;
            while (i <= j)
            {
                while (a[i] < pivot)
                {
                    i++;
                }

                while (a[j] > pivot)
                {
                    j--;
                }

                if (i <= j)
                {
                    (a[i], a[j]) = (a[j], a[i]);
                    i++;
                    j--;
                }
            }

            if (k <= j)
            {
                hi = j;
            }
            else if (k >= i)
            {
                lo = i;
            }
            else
            {
                return a[k];
            }
        }

        return a[k];
    }

    /// <summary>The most recent scores of one level, at most a capacity.</summary>
    private sealed class Ring(int capacity)
    {
        private readonly double[] _values = new double[capacity];
        private long _added;

        public int Count => (int)Math.Min(_added, _values.Length);

        public void Add(double score)
        {
            _values[(int)(_added % _values.Length)] = score;
            _added++;
        }

        public void CopyTo(Span<double> destination) => _values.AsSpan(0, Count).CopyTo(destination);

        /// <summary>Share of the held scores strictly above <paramref name="threshold"/> (the misses at that offset).</summary>
        public double FractionAbove(double threshold)
        {
            int above = 0, n = Count;
            foreach (double v in _values.AsSpan(0, n))
            {
                above += v > threshold ? 1 : 0;
            }

            return (double)above / n;
        }
    }
}
