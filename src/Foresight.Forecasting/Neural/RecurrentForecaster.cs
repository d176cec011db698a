using System.Diagnostics;
using Foresight.Core;
using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// A global recurrent quantile forecaster over the series of one application (see <see cref="QuantileRnn{T}"/>).
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Scaling: each series is divided by its mean |y| over the fit history (fixed after fit). A per-window scale
/// would change with every observation and force re-running the window, which streaming forbids. A series that is
/// non-negative at fit is modelled as log(y/scale + 0.1) (see <see cref="RecurrentOptions.LogTransform"/>).</item>
/// <item>Inputs per step: the working value; its deviation from the last season's mean and its seasonal difference (level-free,
/// see <see cref="RecurrentOptions.LocalInputs"/>); sin/cos of hour of day and day of week when the series have timestamps; each
/// exogenous covariate standardised by its fit-time mean and deviation.</item>
/// <item>Training: truncated BPTT through each series from its start (the state is carried across chunks, exactly as
/// in streaming inference), or on long series through a bounded, seeded sample of windows per epoch
/// (<see cref="RecurrentOptions.MaxWindowsPerEpoch"/>); Adam with clipping and weight decay, early stopping on the last
/// <see cref="RecurrentOptions.ValidationSteps"/> of every series, mini-batches split into fixed shards run in
/// parallel and summed in shard order. Same seed, same data ⇒ bit-identical model.</item>
/// <item>Inference: <see cref="Update"/> costs one recurrent step per observation; <see cref="Predict"/> one head
/// evaluation per series. Both run batched over the series, <see cref="ChunkRows"/> at a time (see
/// docs/design/0020-batched-forecast-tick.md): the states live in one array in the layout the stack steps, and a
/// batch gives bit-for-bit what one series at a time gives.</item>
/// </list>
/// </remarks>
public abstract class RecurrentForecaster : IWarmStartForecaster
{
    public const string LstmName = "lstm";
    public const string GruName = "gru";
    private const int PayloadVersion = 2;
    private const int CalendarWidth = 4;
    private const int LocalWidth = 2;
    private const float LocalClip = 20f;
    private const double LogShift = 0.1;

    /// <summary>Series per batched step: small enough that a chunk's state, gates and w panels stay in L2.</summary>
    private const int ChunkRows = 128;

    private readonly List<SeriesState> _series = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private QuantileRnn<float>? _network;
    private TimeSpan _step;
    private int _m;
    private int _highway;
    private bool _calendar;
    private bool _local;
    private int _exogenous;

    // Recurrent states of all series, chunk after chunk: chunk c holds series [c·C, c·C + n) as [L][S, n, H], the
    // layout RecurrentStack.Step reads for a batch of n rows, so a full chunk steps in place.
    private float[] _states = Array.Empty<float>();
    private UpdateWork? _updateWork;
    private PredictWork? _predictWork;

    // Set by WarmStart: the network shape and weights the next Fit starts from.
    private WarmStartFrom? _from;

    private protected RecurrentForecaster(CellKind kind, RecurrentOptions? options)
    {
        Kind = kind;
        Options = options ?? new RecurrentOptions();
        Options.Validate();
    }

    public CellKind Kind { get; }

    public RecurrentOptions Options { get; }

    public string Name => Kind == CellKind.Lstm ? LstmName : GruName;

    public bool IsFitted => _network is not null;

    public bool WarmStarted { get; private set; }

    /// <summary>Season length the model was fitted with (1: none, as in a season-free global model).</summary>
    public int SeasonLength => _m;

    /// <summary>Exogenous inputs per step the network reads.</summary>
    public int ExogenousCount => _exogenous;

    /// <summary>Steps the head predicts (K).</summary>
    public int Horizon => _network?.Horizon ?? Options.Horizon;

    IWarmStartForecaster IWarmStartForecaster.WarmStart() => WarmStart();

    /// <summary>
    /// A new unfitted model of the same kind and shape whose <see cref="Fit"/> starts from a copy of this model's weights
    /// and trains at most <see cref="RecurrentOptions.FineTuneEpochs"/> epochs, keeping the weights it starts from unless
    /// an epoch scores better on the held-out tail. Per-series scaling is computed afresh from the history it fits, so
    /// it may fit other series than this model saw. Shape options (hidden size, layers, horizon, levels, season,
    /// highway) are this model's; the others come from <paramref name="options"/> (default: this model's).
    /// </summary>
    public RecurrentForecaster WarmStart(RecurrentOptions? options = null)
    {
        EnsureFitted();
        RecurrentOptions o = (options ?? Options) with
        {
            HiddenSize = Options.HiddenSize,
            Layers = Options.Layers,
            Horizon = _network!.Horizon,
            Levels = Options.Levels,
            SeasonLength = _m,
            HighwayLength = _highway,
        };
        RecurrentForecaster next = Kind == CellKind.Lstm ? new LstmForecaster(o) : new GruForecaster(o);
        next._from = new WarmStartFrom(
            _network.Parameters.Select(p => (float[])p.Value.Clone()).ToArray(), _m, _highway, _calendar, _local, _exogenous);
        return next;
    }

    /// <summary>What the last <see cref="Fit"/> did (epochs, losses, time).</summary>
    public TrainingReport? LastTraining { get; private set; }

    /// <summary>Told after each training epoch, for progress bars; not part of the model.</summary>
    public IProgress<EpochProgress>? Progress { get; set; }

    private int InputSize => 1 + (_local ? LocalWidth : 0) + (_calendar ? CalendarWidth : 0) + _exogenous;

    /// <summary>Values the local level averages: a season, or 16 steps without one.</summary>
    private int LocalWindow => _m > 1 ? _m : Math.Min(16, RecentLength);

    private int RecentLength => Math.Max(_highway, _m);

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        var clock = Stopwatch.StartNew(); // measures the report only, never drives logic
        _step = history.Step;
        WarmStartFrom? from = _from;
        if (from is not null)
        {
            // The shape is the starting network's; the data must fit it.
            (_m, _highway, _calendar, _local, _exogenous) = (from.M, from.Highway, from.Calendar, from.Local, from.Exogenous);
            if (history.ExogenousNames.Count != _exogenous)
            {
                throw new InvalidInputException(history.Source,
                    $"the {Name} model starts from weights that read {_exogenous} exogenous inputs; the data has {history.ExogenousNames.Count}.");
            }
        }
        else
        {
            _m = Options.SeasonLength ?? history.SeasonLength;
            _highway = Options.HighwayLength ?? (_m > 1 ? _m : 16);
            _calendar = Options.CalendarFeatures && history.HasTimestamps;
            _local = Options.LocalInputs;
            _exogenous = history.ExogenousNames.Count;
        }

        int k = Options.Horizon;
        int warmup = Options.WarmupSteps ?? Math.Max(_m, 8);
        int windowLength = Options.WindowLength ?? (4 * Options.TbpttLength);
        long windowsInData = history.Series.Sum(s => (long)Math.Max(0, s.Length - k) / windowLength);
        bool windowed = Options.MaxWindowsPerEpoch is int cap && windowsInData > cap;

        // Long series are trained on sampled windows, so a single K-step origin would make early stopping follow noise:
        // hold out a tail like a 95/5 split and score it at an origin every K steps.
        int validation = Options.ValidationSteps
            ?? (windowed ? Math.Max(k, history.Series.Min(s => s.Length) / 20 / k * k) : k);
        int maxEpochs = from is not null ? Options.FineTuneEpochs ?? Options.MaxEpochs : Options.MaxEpochs;
        int shortest = history.Series.Count == 0 ? 0 : history.Series.Min(s => s.Length);
        if (from is not null && shortest < warmup + k + validation + 1)
        {
            // A warm start already has weights: on a short history it fine-tunes without a held-out tail, or on one
            // too short to train on at all it keeps the weights and only primes the series' states.
            validation = 0;
            maxEpochs = shortest < warmup + k + 1 ? 0 : maxEpochs;
        }

        foreach (Series s in history.Series)
        {
            int needed = warmup + k + validation + 1;
            if (from is null && s.Length < needed)
            {
                throw new InvalidInputException(history.Source,
                    $"series '{s.Name}' has {s.Length} values; the {Name} model needs at least {needed} (warm-up {warmup} + horizon {k} + validation {validation} + 1).",
                    field: s.Name);
            }
        }

        var prepared = history.Series.Select(s => Prepare(s)).ToArray();
        var network = new QuantileRnn<float>(Kind, InputSize, Options.HiddenSize, Options.Layers, _highway, k, Options.Levels, Options.Seed);
        if (from is not null)
        {
            for (int p = 0; p < network.Parameters.Count; p++)
            {
                from.Weights[p].CopyTo(network.Parameters[p].Value, 0);
            }
        }

        TrainingReport report = Train(network, prepared, validation, warmup, windowed ? windowLength : 0, maxEpochs, from is not null, cancellationToken);
        WarmStarted = from is not null;

        _network = network;
        _series.Clear();
        _index.Clear();
        foreach (PreparedSeries p in prepared)
        {
            _index[p.Name] = _series.Count;
            _series.Add(new SeriesState(p.Name, p.Start, p.Scale, p.Noise, p.Log, p.ExogMean, p.ExogStd, RecentLength));
        }

        AllocateStates();
        var all = new int[prepared.Length];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = i;
        }

        // The state is primed on each series' last PrimeSteps values (all by default) from a zero state, as the sampled
        // training windows start; the skipped values still count as observed, so timestamps and calendar stay right.
        Series[] prime = prepared.Select(p => p.Series).ToArray();
        if (Options.PrimeSteps is int keep)
        {
            for (int i = 0; i < prime.Length; i++)
            {
                int skip = Math.Max(0, prime[i].Length - keep);
                if (skip > 0)
                {
                    _series[i].Skip(skip);
                    prime[i] = new Series(prime[i].Name, prime[i].Values[skip..], null, prime[i].Exogenous.Select(e => e[skip..]).ToArray());
                }
            }
        }

        Advance(prime, all);

        LastTraining = report with { Seconds = clock.Elapsed.TotalSeconds };
    }

    public void Update(SeriesSet newObservations)
    {
        ArgumentNullException.ThrowIfNull(newObservations);
        EnsureFitted();
        IReadOnlyList<Series> data = newObservations.Series;
        UpdateWork work = _updateWork!;
        Span<int> target = work.Target(data.Count);
        for (int j = 0; j < data.Count; j++)
        {
            Series s = data[j];
            int i = FittedSeries.Of(_index, s, nameof(newObservations));

            if (s.Exogenous.Count != _exogenous)
            {
                throw new ArgumentException($"Series '{s.Name}' needs {_exogenous} exogenous rows.", nameof(newObservations));
            }

            target[j] = i;
        }

        Advance(data, target);
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        EnsureFitted();
        QuantileRnn<float> net = _network!;
        if (horizon < 1 || horizon > net.Horizon)
        {
            throw new ArgumentOutOfRangeException(nameof(horizon), horizon, $"This model predicts 1..{net.Horizon} steps.");
        }

        // Concurrent Predicts stay safe: each takes the shared buffers or, while another holds them, makes its own.
        PredictWork work = Interlocked.Exchange(ref _predictWork, null) ?? new PredictWork(net, Math.Min(ChunkRows, _series.Count));
        var batch = new ForecastBatch(Options.Levels, horizon, _series.Count);
        var result = new Forecast[_series.Count];
        int h = net.HiddenSize, d = h + _highway, kq = net.Head.OutputSize, q = Options.Levels.Count;
        int[] column = LevelColumns(batch.Levels);
        for (int first = 0; first < _series.Count; first += ChunkRows)
        {
            int rows = Math.Min(ChunkRows, _series.Count - first);
            Span<float> top = net.Stack.TopHidden(ChunkState(first), rows); // [n, H]
            Span<float> headInput = work.HeadInput.AsSpan(0, rows * d);
            for (int r = 0; r < rows; r++)
            {
                SeriesState s = _series[first + r];
                top.Slice(r * h, h).CopyTo(headInput.Slice(r * d, h)); // [n, H] -> head input columns 0..H
                FillExtra(s.Recent, s.RecentCount, s.Noise, headInput.Slice((r * d) + h, _highway)); // [n, E] -> columns H..H+E
            }

            net.Head.Forward(rows, headInput, work.Output); // [n, H + E] x [H + E, K·Q] -> [n, K·Q], offsets from the baseline
            for (int r = 0; r < rows; r++)
            {
                SeriesState s = _series[first + r];
                FillBase(s.Recent, s.RecentCount, work.Baseline);
                ReadOnlySpan<float> output = work.Output.AsSpan(r * kq, kq);
                Span<double> values = batch.Next; // [level][step], levels sorted
                double noise = s.Noise, scale = s.Scale;
                bool log = s.Log, nonNegative = s.NonNegative;
                ReadOnlySpan<float> baseline = work.Baseline.AsSpan(0, horizon);
                for (int i = 0; i < column.Length; i++)
                {
                    Span<double> row = values.Slice(i * horizon, horizon);
                    ReadOnlySpan<float> offsets = output[column[i]..]; // step j at j·Q
                    for (int j = 0; j < row.Length; j++)
                    {
                        double v = FromWorking(baseline[j] + (noise * offsets[j * q]), scale, log);
                        row[j] = nonNegative ? Math.Max(0, v) : v;
                    }
                }

                result[first + r] = batch.Add(s.Name, (s.Start ?? DateTimeOffset.UnixEpoch) + (_step * s.Observed), _step);
            }
        }

        _predictWork = work;
        return result;
    }

    public void Save(Stream stream)
    {
        EnsureFitted();
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, Name);
        w.Write(PayloadVersion);
        RecurrentOptions o = Options;
        w.Write(o.HiddenSize);
        w.Write(o.Layers);
        w.Write(o.Horizon);
        ForecasterFile.WriteDoubles(w, o.Levels.ToArray());
        w.Write(o.Seed);
        w.Write(_step.Ticks);
        w.Write(_m);
        w.Write(_highway);
        w.Write(_calendar);
        w.Write(_local);
        w.Write(_exogenous);
        foreach (Parameter<float> p in _network!.Parameters)
        {
            ForecasterFile.WriteFloats(w, p.Value);
        }

        w.Write(_series.Count);
        var state = new float[_network.Stack.StatePerRow];
        for (int i = 0; i < _series.Count; i++)
        {
            CopyState(i, state, toRow: true);
            _series[i].Write(w, state);
        }
    }

    internal static RecurrentForecaster ReadPayload(BinaryReader r, string name)
    {
        int version = r.ReadInt32();
        if (version is < 1 or > PayloadVersion)
        {
            throw new InvalidDataException($"Recurrent payload version {version} is not supported.");
        }

        var options = new RecurrentOptions
        {
            HiddenSize = r.ReadInt32(),
            Layers = r.ReadInt32(),
            Horizon = r.ReadInt32(),
            Levels = ForecasterFile.ReadDoubles(r),
            Seed = r.ReadUInt64(),
        };
        RecurrentForecaster model = name == LstmName ? new LstmForecaster(options) : new GruForecaster(options);
        model._step = TimeSpan.FromTicks(r.ReadInt64());
        model._m = r.ReadInt32();
        model._highway = r.ReadInt32();
        model._calendar = r.ReadBoolean();
        model._local = version >= 2 && r.ReadBoolean();
        model._exogenous = r.ReadInt32();
        var net = new QuantileRnn<float>(model.Kind, model.InputSize, options.HiddenSize, options.Layers, model._highway, options.Horizon, options.Levels, options.Seed);
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
        int count = r.ReadInt32();
        var states = new float[count][];
        for (int i = 0; i < count; i++)
        {
            SeriesState s = SeriesState.Read(r, version, out states[i]);
            if (states[i].Length != net.Stack.StatePerRow)
            {
                throw new InvalidDataException($"Series '{s.Name}' has {states[i].Length} state values in the file, expected {net.Stack.StatePerRow}.");
            }

            model._index[s.Name] = i;
            model._series.Add(s);
        }

        model.AllocateStates();
        for (int i = 0; i < count; i++)
        {
            model.CopyState(i, states[i], toRow: false);
        }

        return model;
    }

    /// <summary>Zeroed states and the update buffers for the fitted series.</summary>
    private void AllocateStates()
    {
        QuantileRnn<float> net = _network!;
        _states = new float[_series.Count * net.Stack.StatePerRow];
        _updateWork = new UpdateWork(net, InputSize, _series.Count, Math.Min(ChunkRows, Math.Max(1, _series.Count)), _local ? LocalWindow : 0);
        _predictWork = null;
    }

    /// <summary>The states of the chunk that starts at series <paramref name="first"/>: <c>[L][S, n, H]</c>.</summary>
    private Span<float> ChunkState(int first)
    {
        int perRow = _network!.Stack.StatePerRow;
        return _states.AsSpan(first * perRow, Math.Min(ChunkRows, _series.Count - first) * perRow);
    }

    /// <summary>Copies series i's state between the chunked array and a one-row state <c>[L][S, 1, H]</c>.</summary>
    private void CopyState(int i, Span<float> row, bool toRow)
    {
        int first = i / ChunkRows * ChunkRows, r = i - first;
        Span<float> chunk = ChunkState(first);
        int h = _network!.HiddenSize, n = Math.Min(ChunkRows, _series.Count - first), blocks = row.Length / h;
        for (int b = 0; b < blocks; b++)
        {
            Span<float> inChunk = chunk.Slice(((b * n) + r) * h, h);
            if (toRow)
            {
                inChunk.CopyTo(row.Slice(b * h, h));
            }
            else
            {
                row.Slice(b * h, h).CopyTo(inChunk);
            }
        }
    }

    /// <summary>For each sorted level, the head's output column of that level (the options may list levels in any order).</summary>
    private int[] LevelColumns(IReadOnlyList<double> sorted)
    {
        var column = new int[sorted.Count];
        for (int i = 0; i < column.Length; i++)
        {
            for (int l = 0; l < Options.Levels.Count; l++)
            {
                if (Options.Levels[l] == sorted[i])
                {
                    column[i] = l;
                }
            }
        }

        return column;
    }

    /// <summary>
    /// Streams observations into series states: <paramref name="data"/>[j] into series <paramref name="target"/>[j]. The
    /// t-th values of all of them go through one recurrent step per chunk of series; a chunk whose every series has a
    /// t-th value steps in place, the others through a gathered copy of their rows.
    /// </summary>
    private void Advance(IReadOnlyList<Series> data, ReadOnlySpan<int> target)
    {
        QuantileRnn<float> net = _network!;
        UpdateWork work = _updateWork!;
        int inputSize = InputSize, perRow = net.Stack.StatePerRow, longest = 0;
        int[] slot = work.Slot;
        for (int j = 0; j < target.Length; j++)
        {
            slot[target[j]] = j;
            longest = Math.Max(longest, data[j].Length);
        }

        try
        {
            for (int t = 0; t < longest; t++)
            {
                for (int first = 0; first < _series.Count; first += ChunkRows)
                {
                    int n = Math.Min(ChunkRows, _series.Count - first), rows = 0;
                    for (int i = first; i < first + n; i++)
                    {
                        if (slot[i] >= 0 && data[slot[i]].Length > t)
                        {
                            work.Rows[rows++] = i;
                        }
                    }

                    if (rows == 0)
                    {
                        continue;
                    }

                    for (int b = 0; b < rows; b++)
                    {
                        int i = work.Rows[b];
                        Series d = data[slot[i]];
                        work.Scaled[b] = FillRow(_series[i], work.X.AsSpan(b * inputSize, inputSize), d.Values[t], d.Exogenous, t, work.Past);
                    }

                    Span<float> chunk = ChunkState(first);
                    if (rows == n)
                    {
                        net.Stack.Step(n, work.X, chunk, work.Scratch); // [n, I] -> one step for the whole chunk, in place
                    }
                    else
                    {
                        Span<float> gathered = work.Gathered.AsSpan(0, rows * perRow);
                        MoveRows(chunk, n, gathered, rows, work.Rows.AsSpan(0, rows), first, gather: true);
                        net.Stack.Step(rows, work.X, gathered, work.Scratch); // [rows, I] -> one step for the rows with a value
                        MoveRows(chunk, n, gathered, rows, work.Rows.AsSpan(0, rows), first, gather: false);
                    }

                    for (int b = 0; b < rows; b++)
                    {
                        int i = work.Rows[b];
                        _series[i].Push(work.Scaled[b]);
                        _series[i].NonNegative &= data[slot[i]].Values[t] >= 0;
                    }
                }
            }
        }
        finally
        {
            foreach (int i in target)
            {
                slot[i] = -1;
            }
        }
    }

    /// <summary>Copies the state rows of some series of a chunk (<c>[L][S, n, H]</c>) to or from a packed <c>[L][S, rows, H]</c>.</summary>
    private void MoveRows(Span<float> chunk, int n, Span<float> packed, int rows, ReadOnlySpan<int> series, int first, bool gather)
    {
        int h = _network!.HiddenSize, blocks = _network.Stack.StatePerRow / h;
        for (int b = 0; b < blocks; b++)
        {
            for (int p = 0; p < rows; p++)
            {
                Span<float> inChunk = chunk.Slice(((b * n) + series[p] - first) * h, h);
                Span<float> inPacked = packed.Slice(((b * rows) + p) * h, h);
                if (gather)
                {
                    inChunk.CopyTo(inPacked);
                }
                else
                {
                    inPacked.CopyTo(inChunk);
                }
            }
        }
    }

    /// <summary>One series' input row <c>[I]</c> for its next observation; returns the scaled value to push.</summary>
    private float FillRow(SeriesState s, Span<float> x, double value, IReadOnlyList<double[]> exogenous, int t, float[] past)
    {
        double scaled = ToWorking(value, s.Scale, s.Log);
        DateTimeOffset? time = s.Start is { } st ? st + (_step * s.Observed) : null;
        FillInput(x, scaled, time, exogenous, t, s.ExogMean, s.ExogStd);
        if (_local)
        {
            int n = (int)Math.Min(s.RecentCount, past.Length);
            for (int e = 0; e < n; e++)
            {
                past[e] = s.Recent[(int)((s.RecentCount - n + e) % s.Recent.Length)]; // oldest first
            }

            FillLocal(x.Slice(1, LocalWidth), (float)scaled, past.AsSpan(0, n), s.Noise);
        }

        return (float)scaled;
    }

    private void FillInput(Span<float> x, double scaled, DateTimeOffset? time, IReadOnlyList<double[]> exogenous, int t, double[] exogMean, double[] exogStd)
    {
        x[0] = (float)scaled;
        int c = _local ? 1 + LocalWidth : 1; // the local features are filled by FillLocal
        if (_calendar && time is { } t0)
        {
            DateTimeOffset origin = Options.CalendarOrigin;
            DateTimeOffset tm = Options.CalendarTimeScale == 1 ? t0 : origin + ((t0 - origin) * Options.CalendarTimeScale);
            double hour = tm.UtcDateTime.TimeOfDay.TotalHours;
            double dow = (int)tm.UtcDateTime.DayOfWeek + (hour / 24);
            x[c++] = (float)Math.Sin(2 * Math.PI * hour / 24);
            x[c++] = (float)Math.Cos(2 * Math.PI * hour / 24);
            x[c++] = (float)Math.Sin(2 * Math.PI * dow / 7);
            x[c++] = (float)Math.Cos(2 * Math.PI * dow / 7);
        }
        else if (_calendar)
        {
            x.Slice(c, CalendarWidth).Clear();
            c += CalendarWidth;
        }

        for (int f = 0; f < _exogenous; f++)
        {
            x[c + f] = (float)((exogenous[f][t] - exogMean[f]) / exogStd[f]);
        }
    }

    /// <summary>
    /// The working value the network sees: y/scale, or for a series that was non-negative at fit log(y/scale + c), whose
    /// differences are relative changes, so a forecast error counts alike at night and at the peak (as sMAPE counts it)
    /// and seasonal amplitudes that grow with the level become additive. Quantiles map back exactly because the map is
    /// monotone. A negative value streamed into a log series is taken as 0.
    /// </summary>
    private static double ToWorking(double y, double scale, bool log) =>
        log ? Math.Log(Math.Max(0, y / scale) + LogShift) : y / scale;

    private static double FromWorking(double z, double scale, bool log) =>
        log ? scale * (Math.Exp(Math.Min(z, 50)) - LogShift) : scale * z;

    /// <summary>
    /// Level-free inputs, in noise units and clipped: y_t minus the mean of the last window (a season) including y_t, and
    /// y_t minus y_{t-m} (or the oldest value at hand). The series-mean scaled value alone drifts with a series' trend,
    /// so the network would have to learn every level; these, like ES-RNN's deseasonalised inputs, look the same at any
    /// level. Both come from the last season of values, so streaming still costs one step per observation.
    /// </summary>
    /// <param name="past">Up to <see cref="LocalWindow"/> values before y_t, oldest first.</param>
    private static void FillLocal(Span<float> x, float current, ReadOnlySpan<float> past, double noise)
    {
        if (past.IsEmpty)
        {
            x.Clear();
            return;
        }

        double sum = current;
        for (int e = past.Length - 1; e >= 0; e--)
        {
            sum += past[e];
        }

        double level = sum / (past.Length + 1);
        x[0] = (float)Math.Clamp((current - level) / noise, -LocalClip, LocalClip);
        x[1] = (float)Math.Clamp((current - past[0]) / noise, -LocalClip, LocalClip);
    }

    /// <summary>
    /// Highway inputs: the last E scaled values relative to the newest, in noise units, oldest first; zero before the
    /// series start. [E]
    /// </summary>
    private void FillExtra(ReadOnlySpan<float> recent, long count, double noise, Span<float> extra)
    {
        int r = recent.Length;
        int newestAt = count > 0 ? (int)((count - 1) % r) : 0;
        float newest = count > 0 ? recent[newestAt] : 0f;
        for (int e = 0; e < _highway; e++)
        {
            int back = _highway - e; // 1 = newest
            int at = newestAt - back + 1; // (count - back) mod r, without a division per value
            extra[e] = back <= count && back <= r ? (float)((recent[at < 0 ? at + r : at] - newest) / noise) : 0f;
        }
    }

    /// <summary>Scaled seasonal-naive baseline for k = 1..K: y[t + k - m·⌈k/m⌉], or the last value. [K]</summary>
    private void FillBase(ReadOnlySpan<float> recent, long count, Span<float> baseline)
    {
        int r = recent.Length;
        float last = count > 0 ? recent[(int)((count - 1) % r)] : 0f;
        for (int j = 1; j <= baseline.Length; j++)
        {
            if (_m > 1)
            {
                long back = ((long)_m * ((j + _m - 1) / _m)) - j + 1; // 1 = newest
                baseline[j - 1] = back <= count ? recent[(int)((count - back) % r)] : last;
            }
            else
            {
                baseline[j - 1] = last;
            }
        }
    }

    private PreparedSeries Prepare(Series s)
    {
        double scale = 0;
        foreach (double v in s.Values)
        {
            scale += Math.Abs(v);
        }

        scale /= s.Length;
        if (!(scale > 1e-12))
        {
            scale = 1;
        }

        var exogMean = new double[_exogenous];
        var exogStd = new double[_exogenous];
        for (int f = 0; f < _exogenous; f++)
        {
            double[] row = s.Exogenous[f];
            double mean = row.Average();
            double var = row.Sum(v => (v - mean) * (v - mean)) / row.Length;
            exogMean[f] = mean;
            exogStd[f] = var > 1e-24 ? Math.Sqrt(var) : 1;
        }

        bool log = Options.LogTransform && s.Values.All(v => v >= 0);
        var scaled = s.Values.Select(v => (float)ToWorking(v, scale, log)).ToArray();
        int lag = _m > 1 && s.Length > _m ? _m : 1;
        double noise = 0;
        for (int t = lag; t < s.Length; t++)
        {
            noise += Math.Abs(scaled[t] - scaled[t - lag]);
        }

        noise = s.Length > lag ? noise / (s.Length - lag) : 0;
        if (!(noise > 1e-6))
        {
            noise = 1e-6 + (0.01 * scaled.Select(Math.Abs).DefaultIfEmpty(1f).Average());
        }

        var inputs = new float[s.Length * InputSize];
        var x = new float[InputSize];
        for (int t = 0; t < s.Length; t++)
        {
            DateTimeOffset? time = s.Start is { } st ? st + (_step * t) : null;
            Span<float> row = inputs.AsSpan(t * InputSize, InputSize);
            FillInput(row, scaled[t], time, s.Exogenous, t, exogMean, exogStd);
            if (_local)
            {
                int n = Math.Min(t, LocalWindow);
                FillLocal(row.Slice(1, LocalWidth), scaled[t], scaled.AsSpan(t - n, n), noise);
            }
        }

        return new PreparedSeries(s.Name, s.Start, s, scale, noise, log, exogMean, exogStd, scaled, inputs);
    }

    /// <param name="windowLength">0: each series whole from its start; else the length of the windows sampled each epoch.</param>
    /// <param name="warm">The network starts from given weights: they are the best so far until an epoch beats them.</param>
    private TrainingReport Train(QuantileRnn<float> net, PreparedSeries[] data, int validation, int warmup, int windowLength, int maxEpochs, bool warm, CancellationToken ct)
    {
        RecurrentOptions o = Options;
        int shards = o.Shards, k = net.Horizon, tb = o.TbpttLength, inputSize = InputSize;
        int rowsPerShard = (o.BatchSize + shards - 1) / shards;
        var tapes = new SequenceTape<float>[shards];
        var windows = new WindowBatch<float>[shards];
        var grads = new Gradients<float>[shards];
        for (int s = 0; s < shards; s++)
        {
            tapes[s] = new SequenceTape<float>(net.Stack, rowsPerShard, tb);
            windows[s] = new WindowBatch<float>(net, rowsPerShard, tb);
            grads[s] = new Gradients<float>(net.Parameters);
        }

        var adam = new Adam(net.Parameters, o.LearningRate, weightDecay: o.WeightDecay, clipNorm: o.ClipNorm);
        var rng = new SplitMix64(o.Seed ^ 0x5EED5EEDUL);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = o.MaxDegreeOfParallelism ?? Environment.ProcessorCount, CancellationToken = ct };
        int[] trainEnd = data.Select(d => d.Scaled.Length - validation).ToArray();
        var order = Enumerable.Range(0, data.Length).ToArray();

        // A segment is a series (segRows), its first step (starts) and its length (lengths): whole series, or sampled windows.
        int segmentCount = windowLength > 0 ? o.MaxWindowsPerEpoch!.Value : data.Length;
        var segRows = new int[segmentCount];
        var starts = new int[segmentCount];
        var lengths = new int[segmentCount];
        long[] firstPosition = new long[data.Length + 1]; // cumulative count of window starts per series
        for (int i = 0; i < data.Length; i++)
        {
            firstPosition[i + 1] = firstPosition[i] + Math.Max(1, trainEnd[i] - windowLength + 1);
        }
        float[][] best = net.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();
        double bestValidation = warm && validation > 0 && maxEpochs > 0 ? ValidationLoss(net, data, trainEnd, windowLength, parallel) : double.PositiveInfinity;
        int sinceBest = 0, epochs = 0;
        var trainLosses = new List<double>();
        var validationLosses = new List<double>();
        var counts = new int[shards];
        var losses = new float[shards];
        long seriesSteps = 0;
        for (int epoch = 0; epoch < maxEpochs; epoch++)
        {
            ct.ThrowIfCancellationRequested();
            epochs++;
            if (windowLength > 0)
            {
                SampleWindows(rng, firstPosition, trainEnd, windowLength, segRows, starts, lengths);
            }
            else
            {
                rng.Shuffle<int>(order);
                for (int i = 0; i < order.Length; i++)
                {
                    (segRows[i], starts[i], lengths[i]) = (order[i], 0, trainEnd[order[i]]);
                }
            }

            double epochLoss = 0;
            int chunks = 0;
            for (int first = 0; first < segmentCount; first += o.BatchSize)
            {
                int batch = Math.Min(o.BatchSize, segmentCount - first);
                int maxLen = 0;
                for (int r = 0; r < batch; r++)
                {
                    maxLen = Math.Max(maxLen, lengths[first + r]);
                }

                for (int s = 0; s < shards; s++)
                {
                    int rows = ShardRows(batch, rowsPerShard, s);
                    if (rows > 0)
                    {
                        tapes[s].SetBatch(rows);
                        for (int l = 0; l < net.Stack.Layers.Count; l++)
                        {
                            tapes[s].State(l, 0).Clear();
                        }
                    }
                }

                for (int c = 0; c < maxLen; c += tb)
                {
                    int steps = Math.Min(tb, maxLen - c);
                    int total = 0;
                    for (int s = 0; s < shards; s++)
                    {
                        int n = ShardRows(batch, rowsPerShard, s), at = first + (s * rowsPerShard);
                        counts[s] = n > 0 ? FillWindow(tapes[s], windows[s], data, trainEnd, segRows.AsSpan(at, n), starts.AsSpan(at, n), lengths.AsSpan(at, n), c, steps, warmup, inputSize) : 0;
                        total += counts[s];
                    }

                    float weight = total > 0 ? 1f / total : 0f;
                    Parallel.For(0, shards, parallel, s =>
                    {
                        int rows = ShardRows(batch, rowsPerShard, s);
                        if (rows == 0)
                        {
                            return;
                        }

                        ScaleWeights(windows[s], rows, steps, weight);
                        grads[s].Clear();
                        losses[s] = net.Loss(tapes[s], windows[s], rows, steps, total > 0 ? grads[s] : null);
                    });

                    if (total > 0)
                    {
                        // Deterministic reduction: shard 0 += shard 1 += ... in index order.
                        for (int s = 1; s < shards; s++)
                        {
                            if (ShardRows(batch, rowsPerShard, s) == 0)
                            {
                                continue;
                            }

                            for (int p = 0; p < grads[0].Buffers.Length; p++)
                            {
                                System.Numerics.Tensors.TensorPrimitives.Add(grads[0][p], grads[s][p], grads[0][p]); // [N] + [N]
                            }
                        }

                        adam.Step(grads[0]);
                        double chunkLoss = 0;
                        for (int s = 0; s < shards; s++)
                        {
                            chunkLoss += ShardRows(batch, rowsPerShard, s) > 0 ? losses[s] : 0;
                        }

                        epochLoss += chunkLoss;
                        chunks++;
                    }

                    seriesSteps += (long)steps * batch;
                    for (int s = 0; s < shards; s++)
                    {
                        int rows = ShardRows(batch, rowsPerShard, s);
                        if (rows > 0)
                        {
                            for (int l = 0; l < net.Stack.Layers.Count; l++)
                            {
                                tapes[s].State(l, steps).CopyTo(tapes[s].State(l, 0)); // carry the state, detached
                            }
                        }
                    }
                }
            }

            trainLosses.Add(chunks > 0 ? epochLoss / chunks : double.NaN);
            if (validation == 0)
            {
                Progress?.Report(new EpochProgress(epochs, maxEpochs, trainLosses[^1], null));
                continue;
            }

            double v = ValidationLoss(net, data, trainEnd, windowLength, parallel);
            validationLosses.Add(v);
            Progress?.Report(new EpochProgress(epochs, maxEpochs, trainLosses[^1], v));
            if (v < bestValidation - 1e-7)
            {
                bestValidation = v;
                sinceBest = 0;
                for (int p = 0; p < best.Length; p++)
                {
                    net.Parameters[p].Value.CopyTo(best[p], 0);
                }
            }
            else if (++sinceBest > o.Patience)
            {
                break;
            }
            else
            {
                adam.LearningRate *= o.LearningRateDecay; // anneal on a plateau
            }
        }

        if (validation > 0 && validationLosses.Count > 0)
        {
            for (int p = 0; p < best.Length; p++)
            {
                best[p].CopyTo(net.Parameters[p].Value, 0);
            }
        }

        return new TrainingReport(epochs, trainLosses, validationLosses, bestValidation, seriesSteps, 0);
    }

    /// <summary>
    /// Draws windows uniformly over every (series, start) with the window inside the series' training part (a shorter
    /// series gives one window from its start), so long series weigh by their length.
    /// </summary>
    private static void SampleWindows(SplitMix64 rng, long[] firstPosition, int[] trainEnd, int windowLength, int[] rows, int[] starts, int[] lengths)
    {
        long total = firstPosition[^1];
        for (int w = 0; w < rows.Length; w++)
        {
            long u = Math.Min(total - 1, (long)(rng.NextDouble() * total));
            int i = Array.BinarySearch(firstPosition, u);
            i = i >= 0 ? i : ~i - 1; // the series whose range holds u
            while (firstPosition[i + 1] <= u)
            {
                i++; // skip series with empty ranges at equal cumulative positions
            }

            rows[w] = i;
            starts[w] = (int)(u - firstPosition[i]);
            lengths[w] = Math.Min(windowLength, trainEnd[i] - starts[w]);
        }
    }

    private static int ShardRows(int batch, int rowsPerShard, int shard) => Math.Clamp(batch - (shard * rowsPerShard), 0, rowsPerShard);

    private static void ScaleWeights(WindowBatch<float> window, int rows, int steps, float weight)
    {
        window.SetBatch(rows);
        for (int t = 0; t < steps; t++)
        {
            Span<float> w = window.Weight(t);
            System.Numerics.Tensors.TensorPrimitives.Multiply(w, weight, w); // [B, K] · scalar
        }
    }

    /// <summary>Fills a shard's tape and window for chunk [c, c + steps) of its series; returns the number of (row, step, k) targets.</summary>
    private int FillWindow(SequenceTape<float> tape, WindowBatch<float> window, PreparedSeries[] data, int[] trainEnd, ReadOnlySpan<int> rows,
        ReadOnlySpan<int> starts, ReadOnlySpan<int> lengths, int c, int steps, int warmup, int inputSize)
    {
        int batch = rows.Length, k = Options.Horizon;
        tape.SetBatch(batch);
        window.SetBatch(batch);
        int count = 0;
        for (int t = 0; t < steps; t++)
        {
            int local = c + t; // steps since the segment's start, where its state is zero
            Span<float> input = tape.Input(t);
            Span<float> extra = window.Extra(t);
            Span<float> bse = window.Base(t), target = window.Target(t), weight = window.Weight(t);
            for (int b = 0; b < batch; b++)
            {
                PreparedSeries d = data[rows[b]];
                int end = trainEnd[rows[b]];
                int tau = starts[b] + local;
                Span<float> xRow = input.Slice(b * inputSize, inputSize);
                Span<float> wRow = weight.Slice(b * k, k);
                if (local >= lengths[b])
                {
                    xRow.Clear();
                    extra.Slice(b * _highway, _highway).Clear();
                    wRow.Clear();
                    continue;
                }

                d.Inputs.AsSpan(tau * inputSize, inputSize).CopyTo(xRow);
                Span<float> eRow = extra.Slice(b * _highway, _highway);
                float inv = (float)(1 / d.Noise);
                for (int e = 0; e < _highway; e++)
                {
                    int idx = tau - _highway + 1 + e;
                    eRow[e] = idx >= 0 ? (d.Scaled[idx] - d.Scaled[tau]) * inv : 0f;
                }

                // Targets are offsets from the seasonal-naive baseline in noise units (mean |y_t - y_{t-m}|), so the
                // loss weighs every series like MASE does, whatever its level.
                Span<float> bRow = bse.Slice(b * k, k), tRow = target.Slice(b * k, k);
                bRow.Clear();
                for (int j = 1; j <= k; j++)
                {
                    int idx = _m > 1 ? tau + j - (_m * ((j + _m - 1) / _m)) : tau;
                    float baseline = idx >= 0 ? d.Scaled[idx] : d.Scaled[tau];
                    bool valid = local >= warmup && tau + j < end;
                    tRow[j - 1] = valid ? (d.Scaled[tau + j] - baseline) * inv : 0f;
                    wRow[j - 1] = valid ? 1f : 0f;
                    count += valid ? 1 : 0;
                }
            }
        }

        return count;
    }

    /// <summary>
    /// Mean scaled pinball loss over the held-out tail: forecasts from the training end and every K steps after it
    /// (the tail's observations advance the state but are never trained on). With sampled windows the state starts
    /// from zero one window before the training end, as in training; otherwise from the series' start.
    /// </summary>
    private double ValidationLoss(QuantileRnn<float> net, PreparedSeries[] data, int[] trainEnd, int windowLength, ParallelOptions parallel)
    {
        var perSeries = new double[data.Length];
        int k = net.Horizon;
        int q = Options.Levels.Count;
        Parallel.For(0, data.Length, parallel, () => new ValidationWork(net, _highway), (i, _, work) =>
        {
            PreparedSeries d = data[i];
            int length = d.Scaled.Length;
            work.State.AsSpan().Clear();
            int t = windowLength > 0 ? Math.Max(0, trainEnd[i] - windowLength) : 0;
            float inv = (float)(1 / d.Noise);
            double total = 0;
            int origins = 0;
            for (int end = trainEnd[i]; end < length; end += k)
            {
                for (; t < end; t++)
                {
                    net.Stack.Step(1, d.Inputs.AsSpan(t * InputSize, InputSize), work.State, work.Scratch); // one step per observation
                }

                for (int e = 0; e < _highway; e++)
                {
                    int idx = end - _highway + e;
                    work.Extra[e] = idx >= 0 ? (d.Scaled[idx] - d.Scaled[end - 1]) * inv : 0f;
                }

                net.PredictOffsets(net.Stack.TopHidden(work.State, 1), work.Extra, work.HeadInput, work.Output); // [1, H + E] -> [K·Q]
                int kEval = Math.Min(k, length - end);
                double loss = 0;
                for (int j = 1; j <= kEval; j++)
                {
                    int idx = _m > 1 ? end - 1 + j - (_m * ((j + _m - 1) / _m)) : end - 1;
                    float baseline = d.Scaled[Math.Max(0, idx)];
                    for (int l = 0; l < q; l++)
                    {
                        loss += PinballLoss.Accumulate<float>(work.Output[((j - 1) * q) + l], (d.Scaled[end - 1 + j] - baseline) * inv, (float)Options.Levels[l], 1f, out float _);
                    }
                }

                total += loss / (kEval * q);
                origins++;
            }

            perSeries[i] = total / origins;
            return work;
        }, _ => { });
        return perSeries.Average();
    }

    private void EnsureFitted()
    {
        if (!IsFitted)
        {
            throw new InvalidOperationException("Fit the model first.");
        }
    }

    private sealed class ValidationWork
    {
        public ValidationWork(QuantileRnn<float> net, int highway)
        {
            State = new float[net.Stack.StatePerRow];
            Scratch = new float[net.Stack.ScratchLength(1)];
            Extra = new float[highway];
            HeadInput = new float[net.HiddenSize + highway];
            Output = new float[net.Head.OutputSize];
        }

        public float[] State { get; }

        public float[] Scratch { get; }

        public float[] Extra { get; }

        public float[] HeadInput { get; }

        public float[] Output { get; }
    }

    /// <summary>Buffers of the batched <see cref="Advance"/>, sized for one chunk (Update is not thread-safe).</summary>
    private sealed class UpdateWork
    {
        private int[] _target = Array.Empty<int>();

        public UpdateWork(QuantileRnn<float> net, int inputSize, int series, int chunk, int past)
        {
            X = new float[chunk * inputSize];
            Scratch = new float[net.Stack.ScratchLength(chunk)];
            Gathered = new float[chunk * net.Stack.StatePerRow];
            Rows = new int[chunk];
            Scaled = new float[chunk];
            Past = new float[past];
            Slot = new int[series];
            Array.Fill(Slot, -1);
        }

        /// <summary>Input rows of a chunk: <c>[n, I]</c>.</summary>
        public float[] X { get; }

        public float[] Scratch { get; }

        /// <summary>The packed states of a chunk's stepping rows when not all of them step: <c>[L][S, rows, H]</c>.</summary>
        public float[] Gathered { get; }

        /// <summary>Series stepping in the current chunk.</summary>
        public int[] Rows { get; }

        public float[] Scaled { get; }

        public float[] Past { get; }

        /// <summary>Per series, its index in the data being streamed, or -1.</summary>
        public int[] Slot { get; }

        /// <summary>A reused map from an update's series to the fitted series: <c>[count]</c>.</summary>
        public Span<int> Target(int count)
        {
            if (_target.Length < count)
            {
                _target = new int[count];
            }

            return _target.AsSpan(0, count);
        }
    }

    /// <summary>Buffers of a batched <see cref="Predict"/> over one chunk.</summary>
    private sealed class PredictWork
    {
        public PredictWork(QuantileRnn<float> net, int chunk)
        {
            HeadInput = new float[chunk * (net.HiddenSize + net.Highway)];
            Output = new float[chunk * net.Head.OutputSize];
            Baseline = new float[net.Horizon];
        }

        /// <summary><c>[n, H + E]</c>.</summary>
        public float[] HeadInput { get; }

        /// <summary><c>[n, K·Q]</c>.</summary>
        public float[] Output { get; }

        public float[] Baseline { get; }
    }

    private sealed record WarmStartFrom(float[][] Weights, int M, int Highway, bool Calendar, bool Local, int Exogenous);

    private sealed record PreparedSeries(string Name, DateTimeOffset? Start, Series Series, double Scale, double Noise, bool Log, double[] ExogMean, double[] ExogStd, float[] Scaled, float[] Inputs);

    /// <summary>A series' streaming state: recurrent state, recent scaled values (ring), scale and position.</summary>
    private sealed class SeriesState
    {
        public SeriesState(string name, DateTimeOffset? start, double scale, double noise, bool log, double[] exogMean, double[] exogStd, int recent)
        {
            Log = log;
            Name = name;
            Start = start;
            Scale = scale;
            Noise = noise;
            ExogMean = exogMean;
            ExogStd = exogStd;
            Recent = new float[Math.Max(1, recent)];
        }

        public string Name { get; }

        public DateTimeOffset? Start { get; }

        public double Scale { get; }

        /// <summary>Whether the working values are log(y/scale + c) rather than y/scale.</summary>
        public bool Log { get; }

        /// <summary>Mean |y_t - y_{t-m}| of the scaled fit history: the unit of the head's outputs.</summary>
        public double Noise { get; }

        public double[] ExogMean { get; }

        public double[] ExogStd { get; }

        /// <summary>Ring of the last scaled values; the newest is at <c>(RecentCount - 1) % length</c>.</summary>
        public float[] Recent { get; }

        public long RecentCount { get; private set; }

        public long Observed { get; private set; }

        public bool NonNegative { get; set; } = true;

        /// <summary>Counts values as observed without streaming them (see <see cref="RecurrentOptions.PrimeSteps"/>).</summary>
        public void Skip(long count) => Observed += count;

        public void Push(float scaled)
        {
            Recent[(int)(RecentCount % Recent.Length)] = scaled;
            RecentCount++;
            Observed++;
        }

        /// <param name="state">The series' recurrent state, <c>[L][S, 1, H]</c>.</param>
        public void Write(BinaryWriter w, ReadOnlySpan<float> state)
        {
            w.Write(Name);
            ForecasterFile.WriteTimestamp(w, Start);
            w.Write(Scale);
            w.Write(Noise);
            ForecasterFile.WriteDoubles(w, ExogMean);
            ForecasterFile.WriteDoubles(w, ExogStd);
            ForecasterFile.WriteFloats(w, state);
            ForecasterFile.WriteFloats(w, Recent);
            w.Write(RecentCount);
            w.Write(Observed);
            w.Write(NonNegative);
            w.Write(Log);
        }

        public static SeriesState Read(BinaryReader r, int version, out float[] state)
        {
            string name = r.ReadString();
            DateTimeOffset? start = ForecasterFile.ReadTimestamp(r);
            double scale = r.ReadDouble();
            double noise = r.ReadDouble();
            double[] mean = ForecasterFile.ReadDoubles(r), std = ForecasterFile.ReadDoubles(r);
            state = ForecasterFile.ReadFloats(r);
            float[] recent = ForecasterFile.ReadFloats(r);
            long recentCount = r.ReadInt64(), observed = r.ReadInt64();
            bool nonNegative = r.ReadBoolean();
            bool log = version >= 2 && r.ReadBoolean();
            var s = new SeriesState(name, start, scale, noise, log, mean, std, recent.Length);
            recent.CopyTo(s.Recent, 0);
            s.RecentCount = recentCount;
            s.Observed = observed;
            s.NonNegative = nonNegative;
            return s;
        }
    }
}

/// <summary>LSTM quantile forecaster (see <see cref="RecurrentForecaster"/>).</summary>
public sealed class LstmForecaster : RecurrentForecaster
{
    public LstmForecaster(RecurrentOptions? options = null)
        : base(CellKind.Lstm, options)
    {
    }
}

/// <summary>GRU quantile forecaster (see <see cref="RecurrentForecaster"/>).</summary>
public sealed class GruForecaster : RecurrentForecaster
{
    public GruForecaster(RecurrentOptions? options = null)
        : base(CellKind.Gru, options)
    {
    }
}

/// <summary>One finished training epoch (of at most <paramref name="MaxEpochs"/>; early stopping may end sooner).</summary>
public sealed record EpochProgress(int Epoch, int MaxEpochs, double TrainLoss, double? ValidationLoss);

/// <summary>What a fit did.</summary>
/// <param name="Epochs">Epochs run (early stopping may end sooner than the maximum).</param>
/// <param name="TrainLoss">Mean chunk loss per epoch (scaled pinball).</param>
/// <param name="ValidationLoss">Held-out scaled pinball loss per epoch.</param>
/// <param name="BestValidationLoss">The kept model's validation loss.</param>
/// <param name="SeriesSteps">Series-steps processed (for throughput).</param>
/// <param name="Seconds">Wall time of the fit.</param>
public sealed record TrainingReport(int Epochs, IReadOnlyList<double> TrainLoss, IReadOnlyList<double> ValidationLoss, double BestValidationLoss, long SeriesSteps, double Seconds);
