using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Baselines;

/// <summary>Seasonality of <see cref="EtsForecaster"/>.</summary>
public enum EtsSeasonality
{
    /// <summary>Fit additive and (for positive series) multiplicative; keep the lower SSE (same parameter count).</summary>
    Auto,
    Additive,
    Multiplicative,
    None,
}

/// <summary>Options of <see cref="EtsForecaster"/>.</summary>
public sealed record EtsOptions
{
    /// <summary>Season length m; null takes <see cref="SeriesSet.SeasonLength"/>.</summary>
    public int? SeasonLength { get; init; }

    public EtsSeasonality Seasonality { get; init; } = EtsSeasonality.Auto;

    /// <summary>Steps ahead whose error variance is estimated in-sample; beyond, the spread grows like √h.</summary>
    public int IntervalHorizon { get; init; } = 48;

    /// <summary>Forecast origins (the most recent ones) used for the per-horizon error variance.</summary>
    public int IntervalOrigins { get; init; } = 480;

    public int MaxEvaluations { get; init; } = 600;

    public IReadOnlyList<double> Levels { get; init; } = Forecast.DefaultLevels;
}

/// <summary>
/// Holt-Winters exponential smoothing with a damped trend, ETS(A,Ad,A) or ETS(A,Ad,M) in innovations form
/// (Hyndman et al. 2008):
/// <code>
/// additive:       ŷ = l + φb + s[t-m];      l ← l + φb + αe;     b ← φb + βe;     s ← s[t-m] + γe
/// multiplicative: ŷ = (l + φb)·s[t-m];      l ← l + φb + αe/s;   b ← φb + βe/s;   s ← s + γe/(l + φb)
/// forecast:       l + (φ + φ² + … + φ^h)·b, combined with the latest seasonal of that phase
/// </code>
/// α, β ≤ α, γ ≤ 1 - α and φ ∈ [0.8, 0.98] minimise the in-sample one-step SSE by Nelder–Mead (through sigmoid
/// transforms, so the bounds always hold); with fewer than three seasons γ cannot be estimated and is held at 0.1·(1 - α).
/// The multiplicative update is computed from the relative error e/ŷ bounded to [-1, 1] with a positive base, so
/// a model that streams data for weeks without a refit keeps a positive, bounded state. Initial states are classical: the first season's mean, the slope between
/// the first two seasons' means, and the detrended first season. Intervals are normal with a per-horizon σ_h: the RMS
/// of the in-sample h-step errors from the last <see cref="EtsOptions.IntervalOrigins"/> origins.
/// </summary>
public sealed class EtsForecaster : IForecaster
{
    public const string ModelName = "ets";
    private const int PayloadVersion = 1;

    private readonly EtsOptions _options;
    private readonly List<SeriesModel> _series = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private TimeSpan _step;

    public EtsForecaster(EtsOptions? options = null)
    {
        _options = options ?? new EtsOptions();
    }

    public string Name => ModelName;

    public bool IsFitted { get; private set; }

    /// <summary>Fitted parameters per series, in fit order (for inspection and tests).</summary>
    public IReadOnlyList<EtsParameters> Parameters => _series.Select(s => s.Parameters).ToArray();

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        _step = history.Step;
        int m = _options.SeasonLength ?? history.SeasonLength;
        var models = new SeriesModel[history.Count];
        Parallel.For(0, history.Count, new ParallelOptions { CancellationToken = cancellationToken }, i =>
        {
            Series s = history[i];
            models[i] = SeriesModel.Fit(s.Name, s.Start, s.Values, m, _options);
        });
        _series.Clear();
        _index.Clear();
        foreach (SeriesModel model in models)
        {
            _index[model.Name] = _series.Count;
            _series.Add(model);
        }

        IsFitted = true;
    }

    public void Update(SeriesSet newObservations)
    {
        ArgumentNullException.ThrowIfNull(newObservations);
        EnsureFitted();
        foreach (Series s in newObservations.Series)
        {
            int i = FittedSeries.Of(_index, s, nameof(newObservations));

            foreach (double y in s.Values)
            {
                _series[i].Observe(y);
            }
        }
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        EnsureFitted();
        // One shared array for all the forecasts' values (ForecastBatch), not a dozen arrays per series.
        var batch = new ForecastBatch(_options.Levels, horizon, _series.Count, explicitMean: true);
        int[] rowOf = _options.Levels.Select(batch.RowOf).ToArray();
        return _series.Select(s => s.Predict(horizon, _step, _options.Levels, batch, rowOf)).ToArray();
    }

    public void Save(Stream stream)
    {
        EnsureFitted();
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, ModelName);
        w.Write(PayloadVersion);
        w.Write(_options.SeasonLength ?? 0);
        w.Write((int)_options.Seasonality);
        w.Write(_options.IntervalHorizon);
        w.Write(_options.IntervalOrigins);
        w.Write(_options.MaxEvaluations);
        ForecasterFile.WriteDoubles(w, _options.Levels.ToArray());
        w.Write(_step.Ticks);
        w.Write(_series.Count);
        foreach (SeriesModel s in _series)
        {
            s.Write(w);
        }
    }

    internal static EtsForecaster ReadPayload(BinaryReader r)
    {
        int version = r.ReadInt32();
        if (version != PayloadVersion)
        {
            throw new InvalidDataException($"ETS payload version {version} is not supported.");
        }

        int m = r.ReadInt32();
        var options = new EtsOptions
        {
            SeasonLength = m == 0 ? null : m,
            Seasonality = (EtsSeasonality)r.ReadInt32(),
            IntervalHorizon = r.ReadInt32(),
            IntervalOrigins = r.ReadInt32(),
            MaxEvaluations = r.ReadInt32(),
            Levels = ForecasterFile.ReadDoubles(r),
        };
        var model = new EtsForecaster(options) { _step = TimeSpan.FromTicks(r.ReadInt64()) };
        int count = r.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            SeriesModel s = SeriesModel.Read(r);
            model._index[s.Name] = i;
            model._series.Add(s);
        }

        model.IsFitted = true;
        return model;
    }

    private void EnsureFitted()
    {
        if (!IsFitted)
        {
            throw new InvalidOperationException("Fit the model first.");
        }
    }

    /// <summary>One series' fitted model and running state.</summary>
    private sealed class SeriesModel
    {
        private SeriesModel(string name, DateTimeOffset? start, EtsParameters parameters, EtsState state, double[] sigma, bool nonNegative, long observed)
        {
            Name = name;
            Start = start;
            Parameters = parameters;
            State = state;
            Sigma = sigma;
            NonNegative = nonNegative;
            Observed = observed;
        }

        public string Name { get; }

        public DateTimeOffset? Start { get; }

        public EtsParameters Parameters { get; }

        public EtsState State { get; }

        /// <summary>σ_h for h = 1..IntervalHorizon.</summary>
        public double[] Sigma { get; }

        public bool NonNegative { get; }

        public long Observed { get; private set; }

        public static SeriesModel Fit(string name, DateTimeOffset? start, double[] y, int m, EtsOptions options)
        {
            bool positive = y.All(v => v > 0);
            bool seasonal = m > 1 && y.Length >= 2 * m && options.Seasonality != EtsSeasonality.None;
            var candidates = new List<EtsSeasonality>();
            if (!seasonal)
            {
                candidates.Add(EtsSeasonality.None);
            }
            else if (options.Seasonality == EtsSeasonality.Auto)
            {
                candidates.Add(EtsSeasonality.Additive);
                if (positive)
                {
                    candidates.Add(EtsSeasonality.Multiplicative);
                }
            }
            else
            {
                candidates.Add(options.Seasonality == EtsSeasonality.Multiplicative && !positive ? EtsSeasonality.Additive : options.Seasonality);
            }

            EtsParameters? best = null;
            double bestSse = double.PositiveInfinity;
            int mEff = seasonal ? m : 1;
            // With fewer than three seasons every seasonal updated in-sample is used again for at most a few one-step
            // forecasts (none with two seasons), so γ barely moves the SSE and the optimiser leaves it wherever it
            // wandered; left that way, an unrefitted model on streamed data can oscillate without bound. γ is then held
            // at the optimiser's own starting value instead of being estimated.
            bool estimateGamma = y.Length >= 3 * mEff;
            foreach (EtsSeasonality kind in candidates)
            {
                (double[] u, double sse, _) = NelderMead.Minimize(
                    x => EtsState.Initial(y, mEff, kind).Run(y, EtsParameters.FromUnconstrained(x, kind, mEff, estimateGamma)),
                    EtsParameters.InitialUnconstrained(),
                    initialStep: 1.0,
                    maxEvaluations: options.MaxEvaluations,
                    tolerance: 1e-8);
                if (sse < bestSse || best is null)
                {
                    bestSse = sse;
                    best = EtsParameters.FromUnconstrained(u, kind, mEff, estimateGamma);
                }
            }

            EtsState state = EtsState.Initial(y, mEff, best!.Seasonality);
            int hMax = Math.Max(1, options.IntervalHorizon);
            var sumSq = new double[hMax];
            var count = new int[hMax];
            state.Run(y, best, Math.Max(state.FirstIndex, y.Length - options.IntervalOrigins), sumSq, count);
            double[] sigma = SigmaFromErrors(sumSq, count);
            return new SeriesModel(name, start, best, state, sigma, y.All(v => v >= 0), y.Length);
        }

        public void Observe(double y)
        {
            State.Step(y, Parameters);
            Observed++;
        }

        /// <param name="rowOf">For each of <paramref name="levels"/>, its row in the batch's sorted levels.</param>
        public Forecast Predict(int horizon, TimeSpan step, IReadOnlyList<double> levels, ForecastBatch batch, int[] rowOf)
        {
            Span<double> mean = batch.NextMean;
            for (int h = 1; h <= horizon; h++)
            {
                mean[h - 1] = State.Forecast(h, Parameters);
            }

            Span<double> values = batch.Next; // [level][step], levels sorted
            for (int l = 0; l < levels.Count; l++)
            {
                double z = Stats.NormalQuantile(levels[l]);
                Span<double> row = values.Slice(rowOf[l] * horizon, horizon);
                for (int h = 1; h <= horizon; h++)
                {
                    double v = mean[h - 1] + (z * SigmaAt(h));
                    row[h - 1] = NonNegative ? Math.Max(0, v) : v;
                }
            }

            if (NonNegative)
            {
                for (int h = 0; h < horizon; h++)
                {
                    mean[h] = Math.Max(0, mean[h]);
                }
            }

            DateTimeOffset next = (Start ?? DateTimeOffset.UnixEpoch) + (step * Observed);
            return batch.Add(Name, next, step);
        }

        public void Write(BinaryWriter w)
        {
            w.Write(Name);
            ForecasterFile.WriteTimestamp(w, Start);
            w.Write((int)Parameters.Seasonality);
            w.Write(Parameters.SeasonLength);
            w.Write(Parameters.Alpha);
            w.Write(Parameters.Beta);
            w.Write(Parameters.Gamma);
            w.Write(Parameters.Phi);
            w.Write(State.Level);
            w.Write(State.Trend);
            w.Write(State.Phase);
            ForecasterFile.WriteDoubles(w, State.Seasonals);
            ForecasterFile.WriteDoubles(w, Sigma);
            w.Write(NonNegative);
            w.Write(Observed);
        }

        public static SeriesModel Read(BinaryReader r)
        {
            string name = r.ReadString();
            DateTimeOffset? start = ForecasterFile.ReadTimestamp(r);
            var kind = (EtsSeasonality)r.ReadInt32();
            int m = r.ReadInt32();
            var p = new EtsParameters(kind, m, r.ReadDouble(), r.ReadDouble(), r.ReadDouble(), r.ReadDouble());
            double level = r.ReadDouble(), trend = r.ReadDouble();
            int phase = r.ReadInt32();
            var state = new EtsState(kind, level, trend, ForecasterFile.ReadDoubles(r), phase, 0);
            double[] sigma = ForecasterFile.ReadDoubles(r);
            bool nonNegative = r.ReadBoolean();
            long observed = r.ReadInt64();
            return new SeriesModel(name, start, p, state, sigma, nonNegative, observed);
        }

        private double SigmaAt(int h)
        {
            if (h <= Sigma.Length)
            {
                return Sigma[h - 1];
            }

            return Sigma[^1] * Math.Sqrt((double)h / Sigma.Length);
        }

        private static double[] SigmaFromErrors(double[] sumSq, int[] count)
        {
            var sigma = new double[sumSq.Length];
            double last = 0;
            int lastH = 0;
            for (int h = 1; h <= sigma.Length; h++)
            {
                if (count[h - 1] >= 5)
                {
                    last = Math.Sqrt(sumSq[h - 1] / count[h - 1]);
                    lastH = h;
                    sigma[h - 1] = last;
                }
                else
                {
                    sigma[h - 1] = lastH == 0 ? 0 : last * Math.Sqrt((double)h / lastH);
                }
            }

            // Spread never shrinks with the horizon.
            for (int h = 1; h < sigma.Length; h++)
            {
                sigma[h] = Math.Max(sigma[h], sigma[h - 1]);
            }

            return sigma;
        }
    }
}

/// <summary>Fitted ETS smoothing parameters of one series.</summary>
public sealed record EtsParameters(EtsSeasonality Seasonality, int SeasonLength, double Alpha, double Beta, double Gamma, double Phi)
{
    private const double PhiMin = 0.8, PhiMax = 0.98, Eps = 1e-4;

    /// <summary>γ as a share of 1 - α where the optimiser starts, and where γ stays when the data cannot estimate it.</summary>
    private const double InitialGammaShare = 0.1;

    internal static double[] InitialUnconstrained() => [Logit((0.2 - Eps) / (1 - (2 * Eps))), Logit(0.1), Logit(InitialGammaShare), Logit((0.9 - PhiMin) / (PhiMax - PhiMin))];

    /// <param name="estimateGamma">False: γ is fixed at its starting share of 1 - α whatever <paramref name="u"/> says.</param>
    internal static EtsParameters FromUnconstrained(double[] u, EtsSeasonality kind, int m, bool estimateGamma = true)
    {
        double alpha = Eps + ((1 - (2 * Eps)) * Sigmoid(u[0]));
        double beta = alpha * Sigmoid(u[1]);
        double gamma = kind == EtsSeasonality.None ? 0 : (1 - alpha) * (estimateGamma ? Sigmoid(u[2]) : InitialGammaShare);
        double phi = PhiMin + ((PhiMax - PhiMin) * Sigmoid(u[3]));
        return new EtsParameters(kind, m, alpha, beta, gamma, phi);
    }

    private static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    private static double Logit(double p) => Math.Log(p / (1 - p));
}

/// <summary>The running ETS state: level, trend and the latest seasonal per phase.</summary>
internal sealed class EtsState
{
    public EtsState(EtsSeasonality kind, double level, double trend, double[] seasonals, int phase, int firstIndex)
    {
        Kind = kind;
        Level = level;
        Trend = trend;
        Seasonals = seasonals;
        Phase = phase;
        FirstIndex = firstIndex;
    }

    public EtsSeasonality Kind { get; }

    public double Level { get; private set; }

    public double Trend { get; private set; }

    /// <summary><c>[m]</c> seasonal per phase (phase = index mod m).</summary>
    public double[] Seasonals { get; }

    /// <summary>Phase of the next observation.</summary>
    public int Phase { get; private set; }

    /// <summary>The first index of the series that <see cref="Run"/> filters (earlier ones set the initial state).</summary>
    public int FirstIndex { get; }

    /// <summary>
    /// Bound on the relative one-step error a multiplicative state update takes in: an observation more than twice its
    /// forecast moves the state as if it were twice (bounded influence, as in robust Holt-Winters). A real jump is
    /// still followed, by a factor up to 1 + α per step.
    /// </summary>
    private const double MaxRelativeError = 1;

    /// <summary>A damped trend may take the one-step base down to this share of the level, never to zero or below.</summary>
    private const double MinBaseShare = 1e-3;

    private int M => Seasonals.Length;

    /// <summary>Classical initial states from the first one or two seasons.</summary>
    public static EtsState Initial(ReadOnlySpan<double> y, int m, EtsSeasonality kind)
    {
        if (kind == EtsSeasonality.None || m <= 1 || y.Length < 2 * m)
        {
            return new EtsState(EtsSeasonality.None, y[0], 0, [0.0], 0, 1);
        }

        double mean0 = 0, mean1 = 0;
        for (int i = 0; i < m; i++)
        {
            mean0 += y[i] / m;
            mean1 += y[m + i] / m;
        }

        double trend = (mean1 - mean0) / m;
        var s = new double[m];
        for (int i = 0; i < m; i++)
        {
            double local = mean0 + ((i - ((m - 1) / 2.0)) * trend);
            s[i] = kind == EtsSeasonality.Multiplicative ? y[i] / local : y[i] - local;
        }

        double level = mean0 + (trend * (m - 1) / 2.0);
        return new EtsState(kind, level, trend, s, 0, m);
    }

    /// <summary>
    /// Filters <c>y[FirstIndex..]</c>, returning the one-step SSE. When <paramref name="sumSq"/> is given, also
    /// accumulates the squared h-step errors (h = 1..sumSq.Length) from every origin at or after <paramref name="originFrom"/>.
    /// </summary>
    public double Run(ReadOnlySpan<double> y, EtsParameters p, int originFrom = int.MaxValue, double[]? sumSq = null, int[]? count = null)
    {
        double sse = 0;
        for (int t = FirstIndex; t < y.Length; t++)
        {
            if (sumSq is not null && count is not null && t >= originFrom)
            {
                for (int h = 1; h <= sumSq.Length && t + h - 1 < y.Length; h++)
                {
                    double e = y[t + h - 1] - Forecast(h, p);
                    sumSq[h - 1] += e * e;
                    count[h - 1]++;
                }
            }

            double err = Step(y[t], p);
            sse += err * err;
            if (!double.IsFinite(sse))
            {
                return double.PositiveInfinity;
            }
        }

        return sse;
    }

    /// <summary>Observes one value; returns the one-step error.</summary>
    public double Step(double y, EtsParameters p)
    {
        double baseLevel = Level + (p.Phi * Trend);
        double s = Seasonals[Phase];
        double yHat, e;
        switch (Kind)
        {
            case EtsSeasonality.Multiplicative:
            {
                // The same updates written with the relative error ε = e/ŷ (αe/s = α·base·ε, γe/base = γ·s·ε), with
                // the base kept positive and ε bounded to [-1, MaxRelativeError]: then level and seasonals stay
                // positive (each is multiplied by 1 + (α or γ)·ε ≥ 1 - α or 1 - γ) and grow by a bounded factor per
                // step, so a state that is never refitted cannot run away or change sign after a regime change.
                double safeBase = Math.Max(baseLevel, Math.Max(MinBaseShare * Math.Abs(Level), 1e-12));
                double safeSeasonal = Math.Max(s, 1e-12);
                yHat = safeBase * safeSeasonal;
                e = y - yHat;
                double eps = Math.Clamp(e / yHat, -1, MaxRelativeError);
                Level = safeBase * (1 + (p.Alpha * eps));
                Trend = (p.Phi * Trend) + (p.Beta * safeBase * eps);
                Seasonals[Phase] = safeSeasonal * (1 + (p.Gamma * eps));
                break;
            }

            case EtsSeasonality.Additive:
                yHat = baseLevel + s;
                e = y - yHat;
                Level = baseLevel + (p.Alpha * e);
                Trend = (p.Phi * Trend) + (p.Beta * e);
                Seasonals[Phase] = s + (p.Gamma * e);
                break;
            default:
                e = y - baseLevel;
                Level = baseLevel + (p.Alpha * e);
                Trend = (p.Phi * Trend) + (p.Beta * e);
                break;
        }

        Phase = (Phase + 1) % M;
        return e;
    }

    /// <summary>The h-step-ahead point forecast (h ≥ 1) from the current state.</summary>
    public double Forecast(int h, EtsParameters p)
    {
        // φ_h = φ + φ² + … + φ^h
        double phiH = Math.Abs(1 - p.Phi) < 1e-12 ? h : p.Phi * (1 - Math.Pow(p.Phi, h)) / (1 - p.Phi);
        double baseLevel = Level + (phiH * Trend);
        double s = Seasonals[(Phase + h - 1) % M];
        return Kind switch
        {
            EtsSeasonality.Multiplicative => baseLevel * s,
            EtsSeasonality.Additive => baseLevel + s,
            _ => baseLevel,
        };
    }
}
