using System.Diagnostics;
using Foresight.Core;
using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// An ES-hybrid recurrent forecaster in the style of Smyl's M4 winner (see <see cref="EsRnn{T}"/>): per-series
/// Holt-Winters level and seasonality on log values, with α, γ and the initial seasonal indices of every series
/// learned by backprop jointly with a shared residual LSTM (or GRU) stack and a multi-horizon quantile head.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Working values: z = log(y/scale + c) for a series non-negative at fit (scale: its mean |y| at fit, fixed);
/// otherwise y/scale. Smoothing z additively is Holt-Winters multiplicative on y.</item>
/// <item>Training: mini-batches of whole series from their start (full BPTT through the smoothing and the stack),
/// Adam, early stopping on the last <see cref="EsRnnOptions.Horizon"/> values of every series (one origin), the best
/// epoch's weights restored. Same seed, same data ⇒ same model.</item>
/// <item>Inference: <see cref="Update"/> is one smoothing step and one recurrent step per observation.</item>
/// </list>
/// </remarks>
public sealed class EsRnnForecaster : IForecaster
{
    public const string LstmName = "es-lstm";
    public const string GruName = "es-gru";
    private const int PayloadVersion = 1;

    // Starting smoothing: a slow level and slower seasonal indices, as a fitted Holt-Winters usually has on hourly data.
    private const double InitialAlpha = 0.2;
    private const double InitialGamma = 0.1;

    private readonly List<SeriesState> _series = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private EsRnn<float>? _network;
    private float[] _smoothing = Array.Empty<float>(); // [N, EsWidth]
    private TimeSpan _step;
    private int _m;
    private int _window;
    private float[] _scratch = Array.Empty<float>();

    public EsRnnForecaster(EsRnnOptions? options = null)
    {
        Options = options ?? new EsRnnOptions();
        Options.Validate();
    }

    public EsRnnOptions Options { get; }

    public string Name => Options.Cell == CellKind.Lstm ? LstmName : GruName;

    public bool IsFitted => _network is not null;

    /// <summary>What the last <see cref="Fit"/> did (epochs, losses, time).</summary>
    public TrainingReport? LastTraining { get; private set; }

    /// <summary>Told after each training epoch, for progress bars; not part of the model.</summary>
    public IProgress<EpochProgress>? Progress { get; set; }

    /// <summary>The learned smoothing of a fitted series: α, γ and the m initial seasonal indices (log scale).</summary>
    public (double Alpha, double Gamma, double[] InitialSeasonal) Smoothing(string series)
    {
        EnsureFitted();
        ReadOnlySpan<float> row = _smoothing.AsSpan(_index[series] * _network!.EsWidth, _network.EsWidth);
        return (EsRnn<float>.Sigmoid(row[0]), EsRnn<float>.Sigmoid(row[1]), row[2..].ToArray().Select(v => (double)v).ToArray());
    }

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        var clock = Stopwatch.StartNew(); // measures the report only, never drives logic
        _step = history.Step;
        _m = Options.SeasonLength ?? history.SeasonLength;
        _window = Options.InputWindow ?? (_m > 1 ? Options.InputSeasons * _m : 16);
        int k = Options.Horizon;
        int warmup = Options.WarmupSteps ?? Math.Max(_window, _m);
        foreach (Series s in history.Series)
        {
            int needed = warmup + k + k + 1;
            if (s.Length < needed)
            {
                throw new InvalidInputException(history.Source,
                    $"series '{s.Name}' has {s.Length} values; the {Name} model needs at least {needed} (warm-up {warmup} + horizon {k} + validation {k} + 1).",
                    field: s.Name);
            }
        }

        Prepared[] data = history.Series.Select(Prepare).ToArray();
        var network = new EsRnn<float>(Options.Cell, _window, Options.HiddenSize, Options.Layers, Options.Residual, k, _m, Options.Levels, Options.Seed);
        float[] smoothing = InitialSmoothing(network, data, k);
        TrainingReport report = Train(network, smoothing, data, warmup, cancellationToken);

        _network = network;
        _smoothing = smoothing;
        _scratch = new float[network.Stack.ScratchLength(1) + network.Stack.InputSize + network.HiddenSize];
        _series.Clear();
        _index.Clear();
        foreach (Prepared p in data)
        {
            var state = new SeriesState(p.Name, p.Start, p.Scale, p.Log, network.Stack.StatePerRow, _m, _window, smoothing.AsSpan(_series.Count * network.EsWidth + 2, _m));
            Advance(_series.Count, state, p.Values);
            _index[p.Name] = _series.Count;
            _series.Add(state);
        }

        LastTraining = report with { Seconds = clock.Elapsed.TotalSeconds };
    }

    public void Update(SeriesSet newObservations)
    {
        ArgumentNullException.ThrowIfNull(newObservations);
        EnsureFitted();
        foreach (Series s in newObservations.Series)
        {
            int i = FittedSeries.Of(_index, s, nameof(newObservations));

            Advance(i, _series[i], s.Values);
        }
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        EnsureFitted();
        EsRnn<float> net = _network!;
        if (horizon < 1 || horizon > net.Horizon)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"This model predicts 1..{net.Horizon} steps.");
        }

        IReadOnlyList<double> levels = Options.Levels;
        int q = levels.Count;
        var batch = new ForecastBatch(levels, horizon, _series.Count);
        var rows = new int[q];
        for (int l = 0; l < q; l++)
        {
            rows[l] = batch.RowOf(levels[l]);
        }

        var headInput = new float[net.HiddenSize];
        var output = new float[net.Head.OutputSize];
        var result = new Forecast[_series.Count];
        for (int i = 0; i < result.Length; i++)
        {
            SeriesState s = _series[i];
            net.HeadInput(s.State, headInput);
            net.Head.Forward(1, headInput, output); // [1, H] -> [1, K·Q]
            Span<double> values = batch.Next; // [level][step], levels sorted
            for (int j = 0; j < horizon; j++)
            {
                double baseline = s.Level + s.SeasonAhead(1 + (j % _m)); // l[t] + s[t + 1 + (k - 1) mod m]
                for (int l = 0; l < q; l++)
                {
                    double v = FromWorking(baseline + output[(j * q) + l], s.Scale, s.Log);
                    values[(rows[l] * horizon) + j] = s.NonNegative ? Math.Max(0, v) : v;
                }
            }

            // Quantile heads can cross; Add sorts each step's values (the rearrangement of Chernozhukov et al., 2010).
            result[i] = batch.Add(s.Name, (s.Start ?? DateTimeOffset.UnixEpoch) + (_step * s.Observed), _step);
        }

        return result;
    }

    public void Save(Stream stream)
    {
        EnsureFitted();
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, Name);
        w.Write(PayloadVersion);
        EsRnnOptions o = Options;
        w.Write(o.HiddenSize);
        w.Write(o.Layers);
        w.Write(o.Residual);
        w.Write(o.Horizon);
        ForecasterFile.WriteDoubles(w, o.Levels.ToArray());
        w.Write(o.Seed);
        w.Write(o.LogShift);
        w.Write(_step.Ticks);
        w.Write(_m);
        w.Write(_window);
        foreach (Parameter<float> p in _network!.Parameters)
        {
            ForecasterFile.WriteFloats(w, p.Value);
        }

        ForecasterFile.WriteFloats(w, _smoothing);
        w.Write(_series.Count);
        foreach (SeriesState s in _series)
        {
            s.Write(w);
        }
    }

    internal static EsRnnForecaster ReadPayload(BinaryReader r, string name)
    {
        int version = r.ReadInt32();
        if (version != PayloadVersion)
        {
            throw new InvalidDataException($"ES-RNN payload version {version} is not supported.");
        }

        var options = new EsRnnOptions
        {
            Cell = name == GruName ? CellKind.Gru : CellKind.Lstm,
            HiddenSize = r.ReadInt32(),
            Layers = r.ReadInt32(),
            Residual = r.ReadBoolean(),
            Horizon = r.ReadInt32(),
            Levels = ForecasterFile.ReadDoubles(r),
            Seed = r.ReadUInt64(),
            LogShift = r.ReadDouble(),
        };
        var model = new EsRnnForecaster(options)
        {
            _step = TimeSpan.FromTicks(r.ReadInt64()),
            _m = r.ReadInt32(),
            _window = r.ReadInt32(),
        };
        var net = new EsRnn<float>(options.Cell, model._window, options.HiddenSize, options.Layers, options.Residual, options.Horizon, model._m, options.Levels, options.Seed);
        foreach (Parameter<float> p in net.Parameters)
        {
            float[] values = ForecasterFile.ReadFloats(r);
            if (values.Length != p.Length)
            {
                throw new InvalidDataException($"Parameter {p.Name} has {values.Length} values in the file, expected {p.Length}.");
            }

            values.CopyTo(p.Value, 0);
        }

        model._network = net;
        model._smoothing = ForecasterFile.ReadFloats(r);
        model._scratch = new float[net.Stack.ScratchLength(1) + net.Stack.InputSize + net.HiddenSize];
        int count = r.ReadInt32();
        if (model._smoothing.Length != count * net.EsWidth)
        {
            throw new InvalidDataException($"The model file has {model._smoothing.Length} smoothing values for {count} series, expected {count * net.EsWidth}.");
        }

        for (int i = 0; i < count; i++)
        {
            SeriesState s = SeriesState.Read(r, net.Stack.StatePerRow, model._m, model._window);
            model._index[s.Name] = i;
            model._series.Add(s);
        }

        return model;
    }

    /// <summary>One smoothing step and one recurrent step per observation, exactly as in training.</summary>
    private void Advance(int series, SeriesState s, ReadOnlySpan<double> values)
    {
        EsRnn<float> net = _network!;
        ReadOnlySpan<float> row = _smoothing.AsSpan(series * net.EsWidth, net.EsWidth);
        double alpha = EsRnn<float>.Sigmoid(row[0]), gamma = EsRnn<float>.Sigmoid(row[1]);
        int inputSize = net.Stack.InputSize;
        Span<float> x = _scratch.AsSpan(0, inputSize);
        Span<float> work = _scratch.AsSpan(inputSize);
        foreach (double y in values)
        {
            double z = ToWorking(y, s.Scale, s.Log, Options.LogShift);
            double season = s.SeasonAhead(1); // s[t]
            s.Level = s.Observed == 0 ? z - season : (alpha * (z - season)) + ((1 - alpha) * s.Level);
            s.PushSeason((gamma * (z - s.Level)) + ((1 - gamma) * season)); // s[t + m]
            s.PushDeseasonalised(z - season);
            s.FillInput(x, _window); // [W + 1]
            net.Stack.Step(1, x, s.State, work); // [1, I] -> one recurrent step
            s.Observed++;
            s.NonNegative &= y >= 0;
        }
    }

    private static double ToWorking(double y, double scale, bool log, double shift) =>
        log ? Math.Log(Math.Max(0, y / scale) + shift) : y / scale;

    private double FromWorking(double z, double scale, bool log) =>
        log ? scale * (Math.Exp(Math.Min(z, 50)) - Options.LogShift) : scale * z;

    private Prepared Prepare(Series s)
    {
        double scale = 0;
        bool nonNegative = true;
        foreach (double v in s.Values)
        {
            scale += Math.Abs(v);
            nonNegative &= v >= 0;
        }

        scale /= s.Length;
        if (!(scale > 1e-12))
        {
            scale = 1;
        }

        var z = s.Values.Select(v => (float)ToWorking(v, scale, nonNegative, Options.LogShift)).ToArray();
        return new Prepared(s.Name, s.Start, s.Values, scale, nonNegative, z);
    }

    /// <summary>
    /// Initial α, γ and seasonal indices: each index is the mean deviation of its hour from its season's mean over the
    /// first (up to four) whole seasons of the training part, so training starts from a sensible decomposition.
    /// </summary>
    private static float[] InitialSmoothing(EsRnn<float> net, Prepared[] data, int validation)
    {
        int m = net.Season, width = net.EsWidth;
        var es = new float[data.Length * width];
        for (int i = 0; i < data.Length; i++)
        {
            Span<float> row = es.AsSpan(i * width, width);
            row[0] = (float)Math.Log(InitialAlpha / (1 - InitialAlpha));
            row[1] = (float)Math.Log(InitialGamma / (1 - InitialGamma));
            float[] z = data[i].Z;
            int seasons = Math.Min(4, (z.Length - validation) / m);
            if (m == 1 || seasons == 0)
            {
                continue;
            }

            for (int c = 0; c < seasons; c++)
            {
                float mean = 0;
                for (int j = 0; j < m; j++)
                {
                    mean += z[(c * m) + j];
                }

                mean /= m;
                for (int j = 0; j < m; j++)
                {
                    row[2 + j] += (z[(c * m) + j] - mean) / seasons;
                }
            }
        }

        return es;
    }

    private TrainingReport Train(EsRnn<float> net, float[] smoothing, Prepared[] data, int warmup, CancellationToken ct)
    {
        EsRnnOptions o = Options;
        int k = net.Horizon;
        int maxLength = data.Max(d => d.Z.Length);
        var work = new EsWorkspace<float>(net, o.BatchSize, maxLength);
        var batch = new EsBatch<float>(o.BatchSize);
        var grads = new Gradients<float>(net.Parameters);
        var esParameter = new Parameter<float>("es", data.Length, net.EsWidth);
        smoothing.CopyTo(esParameter.Value, 0);
        var esGrads = new Gradients<float>([esParameter]);
        var adam = new Adam(net.Parameters, o.LearningRate, weightDecay: o.WeightDecay, clipNorm: o.ClipNorm);
        var esAdam = new Adam([esParameter], o.SmoothingLearningRate, clipNorm: 0);
        var rng = new SplitMix64(o.Seed ^ 0xE5E5E5E5UL);
        var order = Enumerable.Range(0, data.Length).ToArray();
        float[][] best = net.Parameters.Select(p => (float[])p.Value.Clone()).Append((float[])esParameter.Value.Clone()).ToArray();
        double bestValidation = double.PositiveInfinity;
        int sinceBest = 0, epochs = 0;
        var trainLosses = new List<double>();
        var validationLosses = new List<double>();
        long seriesSteps = 0;
        float penalty = o.LevelPenalty;
        for (int epoch = 0; epoch < o.MaxEpochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            epochs++;
            rng.Shuffle<int>(order);
            double epochLoss = 0;
            int batches = 0;
            for (int first = 0; first < order.Length; first += o.BatchSize)
            {
                batch.Count = Math.Min(o.BatchSize, order.Length - first);
                for (int b = 0; b < batch.Count; b++)
                {
                    int i = order[first + b], trainEnd = data[i].Z.Length - k; // the last K values are held out
                    batch.Set(b, data[i].Z, i, trainEnd - 1, warmup, trainEnd);
                    seriesSteps += trainEnd - 1;
                }

                grads.Clear();
                esGrads.Clear();
                epochLoss += net.Loss(work, batch, esParameter.Value, penalty, grads, esGrads[0]);
                batches++;
                adam.Step(grads);
                esAdam.Step(esGrads);
            }

            trainLosses.Add(epochLoss / Math.Max(1, batches));
            double v = ValidationLoss(net, work, batch, esParameter.Value, data);
            validationLosses.Add(v);
            Progress?.Report(new EpochProgress(epochs, o.MaxEpochs, trainLosses[^1], v));
            if (v < bestValidation - 1e-7)
            {
                bestValidation = v;
                sinceBest = 0;
                for (int p = 0; p < net.Parameters.Count; p++)
                {
                    net.Parameters[p].Value.CopyTo(best[p], 0);
                }

                esParameter.Value.CopyTo(best[^1], 0);
            }
            else if (++sinceBest > o.Patience)
            {
                break;
            }
        }

        for (int p = 0; p < net.Parameters.Count; p++)
        {
            best[p].CopyTo(net.Parameters[p].Value, 0);
        }

        best[^1].CopyTo(smoothing, 0);
        return new TrainingReport(epochs, trainLosses, validationLosses, bestValidation, seriesSteps, 0);
    }

    /// <summary>Mean pinball loss of the forecasts from the last origin before each series' held-out tail.</summary>
    private static double ValidationLoss(EsRnn<float> net, EsWorkspace<float> work, EsBatch<float> batch, float[] smoothing, Prepared[] data)
    {
        int k = net.Horizon, size = batch.Z.Length;
        double total = 0;
        for (int first = 0; first < data.Length; first += size)
        {
            batch.Count = Math.Min(size, data.Length - first);
            for (int b = 0; b < batch.Count; b++)
            {
                int i = first + b, trainEnd = data[i].Z.Length - k;
                batch.Set(b, data[i].Z, i, trainEnd, trainEnd - 1, data[i].Z.Length);
            }

            total += net.Loss(work, batch, smoothing, 0f, null, Span<float>.Empty) * batch.Count;
        }

        return total / data.Length;
    }

    private void EnsureFitted()
    {
        if (_network is null)
        {
            throw new InvalidOperationException("The model is not fitted.");
        }
    }

    private sealed record Prepared(string Name, DateTimeOffset? Start, double[] Values, double Scale, bool Log, float[] Z);

    /// <summary>The streaming state of one series: smoothing state, recent deseasonalised values and the recurrent state.</summary>
    private sealed class SeriesState
    {
        private readonly double[] _season; // s[t+1..t+m] as a ring starting at _head
        private readonly double[] _recent; // z - s, the last W values as a ring
        private int _head;

        public SeriesState(string name, DateTimeOffset? start, double scale, bool log, int stateLength, int m, int window, ReadOnlySpan<float> initialSeason)
        {
            Name = name;
            Start = start;
            Scale = scale;
            Log = log;
            NonNegative = log;
            State = new float[stateLength];
            _season = new double[m];
            _recent = new double[window];
            for (int j = 0; j < initialSeason.Length; j++)
            {
                _season[j] = initialSeason[j];
            }
        }

        public string Name { get; }

        public DateTimeOffset? Start { get; }

        public double Scale { get; }

        public bool Log { get; }

        public bool NonNegative { get; set; }

        public long Observed { get; set; }

        public double Level { get; set; }

        /// <summary>The recurrent state <c>[L][S, 1, H]</c>.</summary>
        public float[] State { get; }

        /// <summary>s[t + ahead] for ahead in 1..m, t the last observed step (before any, s[ahead - 1]).</summary>
        public double SeasonAhead(int ahead) => _season[(_head + ahead - 1) % _season.Length];

        /// <summary>Replaces s[t] (the ring's head, now consumed) by s[t + m] and moves on.</summary>
        public void PushSeason(double value)
        {
            _season[_head] = value;
            _head = (_head + 1) % _season.Length;
        }

        public void PushDeseasonalised(double value) => _recent[Observed % _recent.Length] = value;

        /// <summary><c>[z - s - l]</c> over the last W steps (0 before the start), then l. Call after the push of step t.</summary>
        public void FillInput(Span<float> x, int window)
        {
            for (int j = 0; j < window; j++)
            {
                long tau = Observed - window + 1 + j;
                x[j] = tau >= 0 ? (float)(_recent[tau % _recent.Length] - Level) : 0f;
            }

            x[window] = (float)Level;
        }

        public void Write(BinaryWriter w)
        {
            w.Write(Name);
            ForecasterFile.WriteTimestamp(w, Start);
            w.Write(Scale);
            w.Write(Log);
            w.Write(NonNegative);
            w.Write(Observed);
            w.Write(Level);
            w.Write(_head);
            ForecasterFile.WriteDoubles(w, _season);
            ForecasterFile.WriteDoubles(w, _recent);
            ForecasterFile.WriteFloats(w, State);
        }

        public static SeriesState Read(BinaryReader r, int stateLength, int m, int window)
        {
            string name = r.ReadString();
            DateTimeOffset? start = ForecasterFile.ReadTimestamp(r);
            var s = new SeriesState(name, start, r.ReadDouble(), r.ReadBoolean(), stateLength, m, window, ReadOnlySpan<float>.Empty)
            {
                NonNegative = r.ReadBoolean(),
                Observed = r.ReadInt64(),
                Level = r.ReadDouble(),
            };
            s._head = r.ReadInt32();
            double[] season = ForecasterFile.ReadDoubles(r), recent = ForecasterFile.ReadDoubles(r);
            float[] state = ForecasterFile.ReadFloats(r);
            if (season.Length != m || recent.Length != window || state.Length != stateLength)
            {
                throw new InvalidDataException($"The state of series '{name}' does not match the model's shape.");
            }

            season.CopyTo(s._season, 0);
            recent.CopyTo(s._recent, 0);
            state.CopyTo(s.State, 0);
            return s;
        }
    }
}
