using System.Globalization;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Foresight.Forecasting;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Neural;

namespace Foresight.Benchmarks;

// Forecasting cost, as asked by issue 3 ("A BenchmarkDotNet suite reports ..."):
//   ForecastStreamingBenchmarks  streaming inference cost per series-step (H = 32, 64; LSTM, GRU)
//   ForecastTrainingBenchmarks   training throughput in series-steps per second (one epoch of a fixed set)
//   ForecastTickBenchmarks       one prediction tick for 10,000 series, with its analytical FLOP count,
//                                the achieved GFLOP/s and the fraction of the machine's peak.
// Run: dotnet run -c Release --project bench/Foresight.Benchmarks -- --filter '*Forecast*' --job short
//
// FLOP model (float32; a multiply-add counts 2; each σ/tanh counts 1, although it costs ~10-20 instructions):
//   LSTM layer step, input I, hidden H:  2·4H·(I+H)  [x·Wx + h·Wh]  + 4H [bias] + 4H [c' = f⊙c + i⊙g, h' = o⊙tanh c'] + 5H [σ,tanh]
//   GRU layer step:                      2·3H·(I+H)  [x·Wx + h·Wh]  + 6H [2 biases] + 7H [gates, blend] + 3H [σ,tanh]
//   Quantile head:                       2·D·K·Q, D = H + E (top hidden + highway), bias is a copy
// Training adds, per layer step, the backward products dW (2·G·(I+H)), dh (2·G·H) and dx (2·G·I, layers above the
// first), G = 4H or 3H; the head's backward (2·D·KQ for dW, 2·H·KQ for dh) and ~12 FLOP per parameter per Adam step.

/// <summary>Shared data, shapes and the FLOP and peak model of the forecasting benchmarks.</summary>
public static class ForecastBench
{
    /// <summary>
    /// Inputs per step of an hourly series with timestamps and no covariates, as the default model builds it: y, the 2
    /// level-free local inputs (<see cref="RecurrentOptions.LocalInputs"/>) and 4 calendar features.
    /// </summary>
    public const int InputSize = 7;

    public const int Layers = 2;

    /// <summary>Highway length E: m for hourly data (RecurrentOptions default).</summary>
    public const int Highway = 24;

    public static readonly int Quantiles = Foresight.Core.Forecasts.Forecast.DefaultLevels.Count;

    /// <summary>Hourly series with a daily cycle, a trend and noise, all starting at the same (aligned) time.</summary>
    public static SeriesSet Hourly(int count, int length, int seed)
    {
        var random = new Random(seed);
        var start = new DateTimeOffset(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var series = new Series[count];
        for (int i = 0; i < count; i++)
        {
            double level = 50 + (random.NextDouble() * 500);
            double amplitude = level * (0.2 + (0.5 * random.NextDouble()));
            double phase = random.NextDouble() * 24;
            var values = new double[length];
            for (int t = 0; t < length; t++)
            {
                double daily = Math.Sin(2 * Math.PI * (t + phase) / 24);
                values[t] = Math.Max(0, level + (amplitude * daily) + (0.02 * level * t / 24) + (0.05 * level * ((2 * random.NextDouble()) - 1)));
            }

            series[i] = new Series($"s{i}", values, start);
        }

        return new SeriesSet(TimeSpan.FromHours(1), series, seasonLength: 24);
    }

    /// <summary>One new observation for each of the first <paramref name="count"/> series of <paramref name="history"/>.</summary>
    public static SeriesSet NextObservation(SeriesSet history, int count) =>
        history.With(history.Series.Take(count).Select(s => new Series(s.Name, [s.Values[^1]])).ToArray());

    public static RecurrentForecaster NewForecaster(CellKind cell, RecurrentOptions options) =>
        cell == CellKind.Lstm ? new LstmForecaster(options) : new GruForecaster(options);

    public static void FillUniform(Span<float> values, Random random, float limit = 1f)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = limit * (float)((2 * random.NextDouble()) - 1);
        }
    }

    private static int Gates(CellKind cell, int hidden) => (cell == CellKind.Lstm ? 4 : 3) * hidden;

    /// <summary>FLOPs of one forward step of the stack for one series.</summary>
    public static double StackStepFlops(CellKind cell, int hidden, int layers = Layers, int input = InputSize)
    {
        double flops = 0;
        for (int l = 0; l < layers; l++)
        {
            int i = l == 0 ? input : hidden;
            flops += 2.0 * Gates(cell, hidden) * (i + hidden);
            flops += cell == CellKind.Lstm ? (4 + 4 + 5) * hidden : (6 + 7 + 3) * hidden;
        }

        return flops;
    }

    /// <summary>FLOPs of the quantile head for one series: <c>[1, H + E] x [H + E, K·Q]</c>.</summary>
    public static double HeadFlops(int hidden, int horizon) => 2.0 * (hidden + Highway) * horizon * Quantiles;

    /// <summary>FLOPs of one training series-step (forward, pinball loss, BPTT, head backward), Adam excluded.</summary>
    public static double TrainStepFlops(CellKind cell, int hidden, int horizon)
    {
        double backward = 0;
        for (int l = 0; l < Layers; l++)
        {
            int i = l == 0 ? InputSize : hidden, g = Gates(cell, hidden);
            backward += 2.0 * g * (i + hidden); // dWx, dWh
            backward += 2.0 * g * hidden; // dh_prev
            backward += l == 0 ? 0 : 2.0 * g * i; // dx into the layer below
            backward += g + (12 * hidden); // db and the element-wise chain
        }

        int kq = horizon * Quantiles;
        double headBackward = (2.0 * (hidden + Highway) * kq) + (2.0 * hidden * kq) + kq;
        return ForwardStepFlops(cell, hidden, horizon) + backward + headBackward;
    }

    /// <summary>FLOPs of one forward-only training series-step: stack step, head and pinball loss.</summary>
    public static double ForwardStepFlops(CellKind cell, int hidden, int horizon) =>
        StackStepFlops(cell, hidden) + HeadFlops(hidden, horizon) + (4.0 * horizon * Quantiles);

    /// <summary>Trainable parameters of the network (for the Adam cost).</summary>
    public static int ParameterCount(CellKind cell, int hidden, int horizon)
    {
        int count = 0;
        for (int l = 0; l < Layers; l++)
        {
            int i = l == 0 ? InputSize : hidden, g = Gates(cell, hidden);
            count += (g * (i + hidden)) + (cell == CellKind.Lstm ? g : 2 * g);
        }

        return count + ((hidden + Highway + 1) * horizon * Quantiles);
    }

    /// <summary>Clock of the machine in GHz, from /proc/cpuinfo ("cpu MHz"; no turbo is visible in this VM).</summary>
    public static double Ghz { get; } = ReadGhz();

    /// <summary>float32 lanes of the widest vector TensorPrimitives uses here.</summary>
    public static int Lanes { get; } = Vector512.IsHardwareAccelerated ? 16 : Vector256.IsHardwareAccelerated ? 8 : 4;

    /// <summary>Assumed FMA pipes per core: 2 (AMD Zen 4/5, Intel server cores since Skylake-SP Gold 6xxx).</summary>
    public const int FmaPipes = 2;

    /// <summary>Peak FLOP/s of one core: GHz × lanes × FMA pipes × 2 FLOP per FMA.</summary>
    public static double PeakPerCore => Ghz * 1e9 * Lanes * FmaPipes * 2;

    public static double PeakMachine => PeakPerCore * Environment.ProcessorCount;

    public static string PeakDescription =>
        string.Create(CultureInfo.InvariantCulture,
            $"peak assumed = {Environment.ProcessorCount} cores × {Ghz:F3} GHz × {Lanes} fp32 lanes (Vector{Lanes * 32}) × {FmaPipes} FMA pipes × 2 = {PeakMachine / 1e9:F1} GFLOP/s ({PeakPerCore / 1e9:F1} per core)");

    private static double ReadGhz()
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/cpuinfo"))
            {
                if (line.StartsWith("cpu MHz", StringComparison.Ordinal))
                {
                    return double.Parse(line[(line.IndexOf(':') + 1)..].Trim(), CultureInfo.InvariantCulture) / 1000;
                }
            }
        }
        catch (IOException)
        {
        }

        return 2.0;
    }
}

/// <summary>A column computed from the benchmark's mean time and an analytical amount of work per operation.</summary>
public sealed class WorkColumn : IColumn
{
    private readonly Func<BenchmarkCase, double?> _work;
    private readonly Func<double, double, string> _format;

    /// <param name="work">Work per operation (FLOPs, series-steps) or null when it does not apply.</param>
    /// <param name="format">(work, mean ns) -> cell text.</param>
    public WorkColumn(string name, string legend, int priority, Func<BenchmarkCase, double?> work, Func<double, double, string> format)
    {
        ColumnName = name;
        Id = $"{nameof(WorkColumn)}.{name}";
        Legend = legend;
        PriorityInCategory = priority;
        _work = work;
        _format = format;
    }

    public string Id { get; }

    public string ColumnName { get; }

    public bool AlwaysShow => true;

    public ColumnCategory Category => ColumnCategory.Custom;

    public int PriorityInCategory { get; }

    public bool IsNumeric => true;

    public UnitType UnitType => UnitType.Dimensionless;

    public string Legend { get; }

    public bool IsAvailable(Summary summary) => true;

    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? work = _work(benchmarkCase);
        double? mean = summary[benchmarkCase]?.ResultStatistics?.Mean;
        return work is { } w && mean is { } ns && ns > 0 ? _format(w, ns) : "-";
    }

    public override string ToString() => ColumnName;

    public static CellKind Cell(BenchmarkCase c) => (CellKind)c.Parameters["Cell"];

    public static int Hidden(BenchmarkCase c) => (int)c.Parameters["Hidden"];

    public static string Method(BenchmarkCase c) => c.Descriptor.WorkloadMethod.Name;

    /// <summary>MFLOP/op, GFLOP/s, % of one core's peak and % of the machine's peak, for an analytical FLOP count.</summary>
    public static IColumn[] FlopColumns(Func<BenchmarkCase, double?> flops) =>
    [
        new WorkColumn("MFLOP/op", "Analytical FLOPs per operation (see ForecastBench: multiply-add = 2, σ/tanh = 1)", 0, flops,
            (w, _) => (w / 1e6).ToString("F3", CultureInfo.InvariantCulture)),
        new WorkColumn("GFLOP/s", "Achieved: MFLOP/op ÷ Mean", 1, flops,
            (w, ns) => (w / ns).ToString("F2", CultureInfo.InvariantCulture)),
        new WorkColumn("%Peak1c", "Achieved ÷ one core's peak; " + ForecastBench.PeakDescription, 2, flops,
            (w, ns) => (100 * w / ns / (ForecastBench.PeakPerCore / 1e9)).ToString("F2", CultureInfo.InvariantCulture) + "%"),
        new WorkColumn("%PeakAll", "Achieved ÷ the whole machine's peak (all cores)", 3, flops,
            (w, ns) => (100 * w / ns / (ForecastBench.PeakMachine / 1e9)).ToString("F2", CultureInfo.InvariantCulture) + "%"),
    ];
}

/// <summary>
/// Streaming inference: the cost of one new observation for one series, on an already fitted model (2 layers,
/// hourly series with local and calendar features, so I = 7). <c>RecurrentUpdate</c> is the public API
/// (<see cref="RecurrentForecaster.Update"/> with one value: input features + one stack step + ring push);
/// <c>StackStep</c> is the bare recurrent step of the same shape. The baseline is seasonal naive's Update of the
/// same observation. One operation = one series-step.
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class ForecastStreamingBenchmarks
{
    private SeasonalNaiveForecaster _naive = null!;
    private RecurrentForecaster _rnn = null!;
    private SeriesSet _one = null!;
    private RecurrentStack<float> _stack = null!;
    private float[] _x = null!;
    private float[] _state = null!;
    private float[] _scratch = null!;

    [Params(CellKind.Lstm, CellKind.Gru)]
    public CellKind Cell { get; set; }

    [Params(32, 64)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SeriesSet history = ForecastBench.Hourly(16, 120, 1);
        _naive = new SeasonalNaiveForecaster();
        _naive.Fit(history);
        _rnn = ForecastBench.NewForecaster(Cell, new RecurrentOptions { HiddenSize = Hidden, Horizon = 6, MaxEpochs = 1, ValidationSteps = 0 });
        _rnn.Fit(history);
        _one = ForecastBench.NextObservation(history, 1);

        var random = new Random(2);
        _stack = new RecurrentStack<float>(Cell, ForecastBench.InputSize, Hidden, ForecastBench.Layers, new SplitMix64(3));
        _x = new float[ForecastBench.InputSize];
        ForecastBench.FillUniform(_x, random);
        _state = new float[_stack.StatePerRow];
        _scratch = new float[_stack.ScratchLength(1)];
        for (int t = 0; t < 50; t++)
        {
            _stack.Step(1, _x, _state, _scratch); // a non-zero state, as in steady streaming
        }
    }

    [Benchmark(Baseline = true)]
    public void SeasonalNaiveUpdate() => _naive.Update(_one);

    [Benchmark]
    public void RecurrentUpdate() => _rnn.Update(_one);

    [Benchmark]
    public float StackStep()
    {
        _stack.Step(1, _x, _state, _scratch);
        return _state[0];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(WorkColumn.FlopColumns(c => WorkColumn.Method(c) == nameof(SeasonalNaiveUpdate)
                ? null
                : ForecastBench.StackStepFlops(WorkColumn.Cell(c), WorkColumn.Hidden(c))));
            AddColumn(new WorkColumn("SeriesSteps/s", "Streaming series-steps per second on one core (1 per op)", 4, _ => 1,
                (w, ns) => (w * 1e9 / ns).ToString("N0", CultureInfo.InvariantCulture)));
        }
    }
}

/// <summary>
/// Training throughput: one epoch over a fixed set of 64 hourly series × 192 steps = 12,288 series-steps, with the
/// default training configuration (2 layers, horizon K = 48, 9 quantiles, TBPTT 48, batch 32 in 2 shards run in
/// parallel on both cores, Adam with clipping). <c>TrainEpoch</c> is the training kernel (forward, pinball loss, BPTT,
/// deterministic shard reduction, Adam) on the public <see cref="QuantileRnn{T}"/> API, replaying what
/// <see cref="RecurrentForecaster"/> does per chunk; <c>FitOneEpoch</c> is the public
/// <see cref="RecurrentForecaster.Fit"/> with one epoch and no validation (it also prepares the data and streams
/// the whole history once more to set the per-series state). The baseline is the forward pass alone (loss, no
/// gradients) over the same chunks.
/// </summary>
[Config(typeof(Config))]
public class ForecastTrainingBenchmarks
{
    public const int SeriesCount = 64;
    public const int Length = 192;
    public const int Horizon = 48;
    private const int Batch = 32;
    private const int Tbptt = 48;
    private const int Shards = 2;
    private const int RowsPerShard = Batch / Shards;

    private SeriesSet _history = null!;
    private QuantileRnn<float> _net = null!;
    private SequenceTape<float>[] _tapes = null!;
    private WindowBatch<float>[] _windows = null!;
    private Gradients<float>[] _grads = null!;
    private float[][] _initial = null!;
    private readonly float[] _losses = new float[Shards];
    private readonly ParallelOptions _parallel = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    [Params(CellKind.Lstm, CellKind.Gru)]
    public CellKind Cell { get; set; }

    [Params(32, 64)]
    public int Hidden { get; set; }

    public static long SeriesStepsPerEpoch => (long)SeriesCount * Length;

    [GlobalSetup]
    public void Setup()
    {
        _history = ForecastBench.Hourly(SeriesCount, Length, 4);
        _net = new QuantileRnn<float>(Cell, ForecastBench.InputSize, Hidden, ForecastBench.Layers, ForecastBench.Highway, Horizon,
            Foresight.Core.Forecasts.Forecast.DefaultLevels, 1);
        _initial = _net.Parameters.Select(p => (float[])p.Value.Clone()).ToArray();
        var random = new Random(5);
        _tapes = new SequenceTape<float>[Shards];
        _windows = new WindowBatch<float>[Shards];
        _grads = new Gradients<float>[Shards];
        float weight = 1f / (Batch * Tbptt * Horizon); // every target valid, as after warm-up
        for (int s = 0; s < Shards; s++)
        {
            _tapes[s] = new SequenceTape<float>(_net.Stack, RowsPerShard, Tbptt);
            _windows[s] = new WindowBatch<float>(_net, RowsPerShard, Tbptt);
            _grads[s] = new Gradients<float>(_net.Parameters);
            _tapes[s].SetBatch(RowsPerShard);
            _windows[s].SetBatch(RowsPerShard);
            for (int t = 0; t < Tbptt; t++)
            {
                ForecastBench.FillUniform(_tapes[s].Input(t), random);
                ForecastBench.FillUniform(_windows[s].Extra(t), random, 2f);
                ForecastBench.FillUniform(_windows[s].Base(t), random);
                ForecastBench.FillUniform(_windows[s].Target(t), random, 2f);
                _windows[s].Weight(t).Fill(weight);
            }
        }
    }

    [Benchmark(Baseline = true)]
    public float ForwardOnlyEpoch() => Epoch(train: false);

    [Benchmark]
    public float TrainEpoch() => Epoch(train: true);

    [Benchmark]
    public long FitOneEpoch()
    {
        RecurrentForecaster model = ForecastBench.NewForecaster(Cell, new RecurrentOptions { HiddenSize = Hidden, MaxEpochs = 1, ValidationSteps = 0 });
        model.Fit(_history);
        return model.LastTraining!.SeriesSteps;
    }

    /// <summary>One epoch: for each batch of 32 series, Length / TBPTT chunks, the state carried across chunks.</summary>
    private float Epoch(bool train)
    {
        for (int p = 0; p < _initial.Length; p++)
        {
            _initial[p].CopyTo(_net.Parameters[p].Value, 0); // every operation trains the same network
        }

        var adam = new Adam(_net.Parameters, 3e-3f, weightDecay: 1e-4f, clipNorm: 1f);
        float total = 0;
        for (int first = 0; first < SeriesCount; first += Batch)
        {
            foreach (SequenceTape<float> tape in _tapes)
            {
                for (int l = 0; l < ForecastBench.Layers; l++)
                {
                    tape.State(l, 0).Clear();
                }
            }

            for (int c = 0; c < Length; c += Tbptt)
            {
                Parallel.For(0, Shards, _parallel, s =>
                {
                    _grads[s].Clear();
                    _losses[s] = _net.Loss(_tapes[s], _windows[s], RowsPerShard, Tbptt, train ? _grads[s] : null);
                });

                if (train)
                {
                    for (int s = 1; s < Shards; s++)
                    {
                        for (int p = 0; p < _grads[0].Buffers.Length; p++)
                        {
                            System.Numerics.Tensors.TensorPrimitives.Add(_grads[0][p], _grads[s][p], _grads[0][p]);
                        }
                    }

                    adam.Step(_grads[0]);
                }

                total += _losses[0] + _losses[1];
                foreach (SequenceTape<float> tape in _tapes)
                {
                    for (int l = 0; l < ForecastBench.Layers; l++)
                    {
                        tape.State(l, Tbptt).CopyTo(tape.State(l, 0)); // carry the state, detached
                    }
                }
            }
        }

        return total;
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(new WorkColumn("SeriesSteps/op", "Training series-steps per operation (64 series × 192 steps)", 0,
                _ => SeriesStepsPerEpoch, (w, _) => w.ToString("N0", CultureInfo.InvariantCulture)));
            AddColumn(new WorkColumn("SeriesSteps/s", "Series-steps per second: SeriesSteps/op ÷ Mean", 1,
                _ => SeriesStepsPerEpoch, (w, ns) => (w * 1e9 / ns).ToString("N0", CultureInfo.InvariantCulture)));
            AddColumn(WorkColumn.FlopColumns(c =>
            {
                CellKind cell = WorkColumn.Cell(c);
                int h = WorkColumn.Hidden(c);
                double chunks = (double)SeriesCount / Batch * Length / Tbptt;
                return WorkColumn.Method(c) switch
                {
                    nameof(ForwardOnlyEpoch) => SeriesStepsPerEpoch * ForecastBench.ForwardStepFlops(cell, h, Horizon),
                    nameof(TrainEpoch) => (SeriesStepsPerEpoch * ForecastBench.TrainStepFlops(cell, h, Horizon))
                        + (chunks * 12.0 * ForecastBench.ParameterCount(cell, h, Horizon)),
                    _ => null, // Fit also prepares and re-streams the data: not modelled
                };
            }));
        }
    }
}

/// <summary>
/// One prediction tick for 10,000 series (one application's model, 2 layers, hourly inputs, horizon K = 6, 9
/// quantiles): every series receives one observation and the model forecasts 6 steps ahead for all of them.
/// <list type="bullet">
/// <item><c>SeasonalNaiveTick</c> (baseline): seasonal naive Update + Predict(6) for the 10,000 series.</item>
/// <item><c>RecurrentTick</c>: <see cref="RecurrentForecaster.Update"/> + <see cref="RecurrentForecaster.Predict"/>(6)
/// (public API: batched over the series, 128 rows per stack step and head, then a <c>Forecast</c> each over one
/// shared <c>ForecastBatch</c> array; issue 12, docs/design/0020-batched-forecast-tick.md).</item>
/// <item><c>RecurrentPredictOnly</c>: Predict(6) alone (head + Forecast objects).</item>
/// <item><c>KernelTick</c>: the same arithmetic batched, B = 10,000: one <see cref="RecurrentStack{T}.Step"/> and one
/// <see cref="QuantileHead{T}.Forward"/> — what the FLOP count describes exactly.</item>
/// </list>
/// </summary>
[Config(typeof(Config))]
[MemoryDiagnoser]
public class ForecastTickBenchmarks
{
    public const int SeriesCount = 10_000;
    public const int Horizon = 6;

    private SeasonalNaiveForecaster _naive = null!;
    private RecurrentForecaster _rnn = null!;
    private SeriesSet _next = null!;
    private QuantileRnn<float> _net = null!;
    private float[] _x = null!;
    private float[] _state = null!;
    private float[] _scratch = null!;
    private float[] _extra = null!;
    private float[] _headInput = null!;
    private float[] _output = null!;

    [Params(CellKind.Lstm, CellKind.Gru)]
    public CellKind Cell { get; set; }

    [Params(32, 64)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        SeriesSet history = ForecastBench.Hourly(SeriesCount, 48, 6);
        _next = ForecastBench.NextObservation(history, SeriesCount);
        _naive = new SeasonalNaiveForecaster();
        _naive.Fit(history);

        // Untrained weights (0 epochs): the cost of a tick does not depend on the weights' values.
        _rnn = ForecastBench.NewForecaster(Cell, new RecurrentOptions { HiddenSize = Hidden, Horizon = Horizon, MaxEpochs = 0, ValidationSteps = 0 });
        _rnn.Fit(history);

        var random = new Random(7);
        _net = new QuantileRnn<float>(Cell, ForecastBench.InputSize, Hidden, ForecastBench.Layers, ForecastBench.Highway, Horizon,
            Foresight.Core.Forecasts.Forecast.DefaultLevels, 1);
        _x = new float[SeriesCount * ForecastBench.InputSize];
        ForecastBench.FillUniform(_x, random);
        _state = new float[_net.Stack.StatePerRow * SeriesCount];
        _scratch = new float[_net.Stack.ScratchLength(SeriesCount)];
        _extra = new float[SeriesCount * ForecastBench.Highway];
        ForecastBench.FillUniform(_extra, random, 2f);
        _headInput = new float[SeriesCount * (Hidden + ForecastBench.Highway)];
        _output = new float[SeriesCount * _net.Head.OutputSize];
        for (int t = 0; t < 5; t++)
        {
            _net.Stack.Step(SeriesCount, _x, _state, _scratch); // a non-zero state
        }
    }

    [Benchmark(Baseline = true)]
    public int SeasonalNaiveTick()
    {
        _naive.Update(_next);
        return _naive.Predict(Horizon).Count;
    }

    [Benchmark]
    public int RecurrentTick()
    {
        _rnn.Update(_next);
        return _rnn.Predict(Horizon).Count;
    }

    [Benchmark]
    public int RecurrentPredictOnly() => _rnn.Predict(Horizon).Count;

    [Benchmark]
    public float KernelTick()
    {
        int b = SeriesCount, h = Hidden, e = ForecastBench.Highway, d = h + e;
        _net.Stack.Step(b, _x, _state, _scratch); // [B, I] -> one recurrent step for every series
        Span<float> top = _net.Stack.TopHidden(_state, b);
        for (int i = 0; i < b; i++)
        {
            top.Slice(i * h, h).CopyTo(_headInput.AsSpan(i * d, h)); // [B, H] -> head input columns 0..H
            _extra.AsSpan(i * e, e).CopyTo(_headInput.AsSpan((i * d) + h, e)); // [B, E] -> columns H..H+E
        }

        _net.Head.Forward(b, _headInput, _output); // [B, H + E] x [H + E, K·Q] -> [B, K·Q]
        return _output[0];
    }

    private sealed class Config : ManualConfig
    {
        public Config()
        {
            AddColumn(WorkColumn.FlopColumns(c =>
            {
                CellKind cell = WorkColumn.Cell(c);
                int h = WorkColumn.Hidden(c);
                double step = ForecastBench.StackStepFlops(cell, h), head = ForecastBench.HeadFlops(h, Horizon);
                return WorkColumn.Method(c) switch
                {
                    nameof(RecurrentTick) or nameof(KernelTick) => SeriesCount * (step + head),
                    nameof(RecurrentPredictOnly) => SeriesCount * head,
                    _ => null,
                };
            }));
        }
    }
}
