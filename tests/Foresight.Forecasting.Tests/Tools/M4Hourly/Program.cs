using System.Globalization;
using Foresight.Core.Forecasts;
using Foresight.Forecasting;
using Foresight.Forecasting.Backtesting;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Calibration;
using Foresight.Forecasting.Data;
using Foresight.Forecasting.Ensembles;
using Foresight.Forecasting.Neural;

// Usage: M4Hourly [comma-separated models: snaive,ets,lstm,gru,lstm+gru,ensemble,lstm@2,ens:lstm@1+gru@2,med:lstm@1+gru@1+lstm@2 (median),conformal-lstm,...] [data dir]
//   [key=value options for the neural models; split=val scores the validation split; cache=<dir> keeps each member's
//   forecasts; fitonly=1 fits (and caches) without scoring]
string models = args.Length > 0 ? args[0] : "snaive,ets,lstm,gru";
string dir = args.Length > 1 ? args[1] : "/work/shared/data/m4_hourly";
var kv = args.Skip(2).Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
int Int(string key, int fallback) => kv.TryGetValue(key, out string? v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
float Float(string key, float fallback) => kv.TryGetValue(key, out string? v) ? float.Parse(v, CultureInfo.InvariantCulture) : fallback;

(SeriesSet train, double[][] test) = M4Hourly.Load(dir);
if (kv.TryGetValue("split", out string? split) && split == "val")
{
    // Model selection never sees the M4 test set: score on the last H points of each training series instead.
    test = train.Series.Select(s => s.Values[^M4Hourly.Horizon..]).ToArray();
    train = train.DropLast(M4Hourly.Horizon);
    Console.WriteLine("validation split: the last 48 points of each training series are the test set");
}

Console.WriteLine($"M4 Hourly: {train.Count} series, lengths {train.Series.Min(s => s.Length)}..{train.Series.Max(s => s.Length)}, horizon {test[0].Length}");
var neural = new RecurrentOptions
{
    HiddenSize = Int("hidden", 32),
    Layers = Int("layers", 2),
    Horizon = M4Hourly.Horizon,
    TbpttLength = Int("tbptt", 48),
    BatchSize = Int("batch", 32),
    MaxEpochs = Int("epochs", new RecurrentOptions().MaxEpochs),
    Patience = Int("patience", 4),
    LearningRate = Float("lr", 3e-3f),
    Seed = (ulong)Int("seed", 1),
    HighwayLength = kv.ContainsKey("highway") ? Int("highway", 24) : null,
    LearningRateDecay = Float("lrdecay", 1f),
    WeightDecay = Float("wd", 1e-4f),
    LocalInputs = Int("local", 1) == 1,
    LogTransform = Int("log", 1) == 1,
};

var esOptions = new EsRnnOptions
{
    HiddenSize = Int("hidden", 32),
    Layers = Int("layers", 2),
    Horizon = M4Hourly.Horizon,
    BatchSize = Int("esbatch", new EsRnnOptions().BatchSize),
    MaxEpochs = Int("epochs", new EsRnnOptions().MaxEpochs),
    Patience = Int("patience", 4),
    LearningRate = Float("lr", 3e-3f),
    SmoothingLearningRate = Float("eslr", new EsRnnOptions().SmoothingLearningRate),
    LevelPenalty = Float("penalty", new EsRnnOptions().LevelPenalty),
    LogShift = kv.TryGetValue("shift", out string? shiftText) ? double.Parse(shiftText, CultureInfo.InvariantCulture) : new EsRnnOptions().LogShift,
    Residual = Int("residual", 1) == 1,
    InputWindow = kv.ContainsKey("window") ? Int("window", 24) : null,
    Seed = (ulong)Int("seed", 1),
    WeightDecay = Float("wd", 1e-4f),
};

string splitName = kv.TryGetValue("split", out string? sp) ? sp : "test";
string? cacheDir = kv.TryGetValue("cache", out string? cd) ? cd : null;

// "lstm@2" is an LSTM with seed 2; "ens:lstm@1+gru@1+lstm@2" a quantile-averaging ensemble of such members. With
// cache=<dir> each member's forecasts are kept per split and options, so ensembles of already-run members cost nothing.
IForecaster Member(string spec)
{
    string[] parts = spec.Split('@');
    RecurrentOptions o = parts.Length > 1 ? neural with { Seed = ulong.Parse(parts[1], CultureInfo.InvariantCulture) } : neural;
    EsRnnOptions eo = parts.Length > 1 ? esOptions with { Seed = ulong.Parse(parts[1], CultureInfo.InvariantCulture) } : esOptions;
    IForecaster inner = parts[0] switch
    {
        "lstm" => new LstmForecaster(o),
        "gru" => new GruForecaster(o),
        "es-lstm" => new EsRnnForecaster(eo),
        "es-gru" => new EsRnnForecaster(eo with { Cell = CellKind.Gru }),
        _ => Make(parts[0]),
    };
    if (cacheDir is null || inner is not (RecurrentForecaster or EsRnnForecaster))
    {
        return inner;
    }

    string key = inner is EsRnnForecaster
        ? $"{splitName}-{parts[0]}-s{eo.Seed}-e{eo.MaxEpochs}-p{eo.Patience}-h{eo.HiddenSize}-l{eo.Layers}-r{(eo.Residual ? 1 : 0)}-w{eo.InputWindow}-b{eo.BatchSize}-lr{eo.LearningRate}-eslr{eo.SmoothingLearningRate}-pen{eo.LevelPenalty}-c{eo.LogShift}-wd{eo.WeightDecay}"
        : $"{splitName}-{parts[0]}-s{o.Seed}-e{o.MaxEpochs}-p{o.Patience}-h{o.HiddenSize}-l{o.Layers}-lr{o.LearningRate}-wd{o.WeightDecay}" + (o.HighwayLength is int hw ? $"-hw{hw}" : "");
    return new CachedForecaster(inner, Path.Combine(cacheDir, key + ".json"));
}

IForecaster Make(string name) => name switch
{
    _ when name.StartsWith("conformal-ens:", StringComparison.Ordinal) => new ConformalForecaster(Make(name["conformal-".Length..]), new ConformalOptions { Horizon = M4Hourly.Horizon }),
    _ when name.StartsWith("ens:", StringComparison.Ordinal) => new EnsembleForecaster(name, name[4..].Split('+').Select(Member).ToArray()),
    _ when name.StartsWith("med:", StringComparison.Ordinal) => new EnsembleForecaster(name, name[4..].Split('+').Select(Member).ToArray(), EnsembleCombination.Median),
    _ when name.Contains('@', StringComparison.Ordinal) => Member(name),
    "snaive" => new SeasonalNaiveForecaster(),
    "ets" => new EtsForecaster(),
    "lstm" => new LstmForecaster(neural),
    "gru" => new GruForecaster(neural),
    "es-lstm" => new EsRnnForecaster(esOptions),
    "es-gru" => new EsRnnForecaster(esOptions with { Cell = CellKind.Gru }),
    "lstm+gru" => EnsembleForecaster.LstmGru(neural),
    "ensemble" => EnsembleForecaster.SeededLstmGru(neural, 2),
    "conformal-lstm" => new ConformalForecaster(new LstmForecaster(neural), new ConformalOptions { Horizon = M4Hourly.Horizon }),
    "conformal-gru" => new ConformalForecaster(new GruForecaster(neural), new ConformalOptions { Horizon = M4Hourly.Horizon }),
    "conformal-ets" => new ConformalForecaster(new EtsForecaster(), new ConformalOptions { Horizon = M4Hourly.Horizon }),
    _ => throw new ArgumentException($"unknown model {name}"),
};

var rows = new List<(string Name, double SMape, double Mase, double? Owa, double? Msis, double? Coverage, string Note)>();
foreach (string name in models.Split(','))
{
    IForecaster model = Make(name);
    foreach (IForecaster member in model is EnsembleForecaster e ? e.Members : [model])
    {
        if (member is CachedForecaster { Inner: RecurrentForecaster crec })
        {
            crec.Progress = new Printer($"{name}/{crec.Name}@{crec.Options.Seed}");
        }
        else if (member is RecurrentForecaster rec)
        {
            rec.Progress = new Printer($"{name}/{rec.Name}");
        }
        else if (member is CachedForecaster { Inner: EsRnnForecaster ces })
        {
            ces.Progress = new Printer($"{name}/{ces.Name}@{ces.Options.Seed}");
        }
        else if (member is EsRnnForecaster es)
        {
            es.Progress = new Printer($"{name}/{es.Name}");
        }
    }

    if (kv.ContainsKey("fitonly"))
    {
        // Fits (and caches) without scoring: members for the test set are trained while the choice is still being
        // made on the validation split, and only the chosen configuration is ever scored.
        model.Fit(train);
        continue;
    }

    BacktestResult r = Backtest.Holdout(model, train, test, M4Hourly.SeasonLength);
    string note = $"fit {r.TrainSeconds:F1}s predict {r.PredictSeconds:F2}s";
    if (model is RecurrentForecaster rf && rf.LastTraining is { } t)
    {
        note += $", {t.Epochs} epochs, best val {t.BestValidationLoss:F4}, {t.SeriesSteps / Math.Max(1e-9, t.Seconds):F0} series-steps/s";
    }
    else if (model is EsRnnForecaster esf && esf.LastTraining is { } te)
    {
        note += $", {te.Epochs} epochs, best val {te.BestValidationLoss:F4}, {te.SeriesSteps / Math.Max(1e-9, te.Seconds):F0} series-steps/s";
    }
    else if (model is EnsembleForecaster en)
    {
        note += ", epochs " + string.Join("/", en.Members.Select(m => (m as RecurrentForecaster ?? (m as CachedForecaster)?.Inner as RecurrentForecaster)?.LastTraining?.Epochs.ToString(CultureInfo.InvariantCulture) ?? "cached"));
    }
    else if (model is ConformalForecaster { Inner: RecurrentForecaster irf } && irf.LastTraining is { } ti)
    {
        note += $", {ti.Epochs} epochs";
    }

    if (kv.ContainsKey("diag"))
    {
        BacktestResult sn = Backtest.Holdout(new SeasonalNaiveForecaster(), train, test, M4Hourly.SeasonLength);
        foreach (var (a, b) in r.Scores.Zip(sn.Scores).OrderByDescending(p => p.First.Mase - p.Second.Mase).Take(8))
        {
            Console.WriteLine($"  {a.Series}: {name} MASE {a.Mase:F3} sMAPE {a.SMape:F2} | snaive MASE {b.Mase:F3} sMAPE {b.SMape:F2}");
        }
    }

    rows.Add(($"ours: {name}", r.SMape, r.Mase, r.Owa, r.Msis, r.Coverage, note));
    Console.WriteLine($"{name,-16} sMAPE {r.SMape:F3}  MASE {r.Mase:F3}  OWA {r.Owa:F3}  MSIS {r.Msis:F3}  coverage95 {r.Coverage:P1}  Naive2 sMAPE {r.Scores.Average(s => s.SMapeNaive2):F3} MASE {r.Scores.Average(s => s.MaseNaive2):F3}  ({note})");
}

Console.WriteLine();
Console.WriteLine($"{"method",-44} {"sMAPE",8} {"MASE",7} {"OWA",7} {"MSIS",8} {"cov95",7}");
string official = Path.Combine(dir, "m4_official_results_hourly.csv");
var table = rows.Select(r => (r.Name, (double?)r.SMape, (double?)r.Mase, r.Owa, r.Msis, r.Coverage)).ToList();
if (File.Exists(official))
{
    table.AddRange(M4Hourly.LoadOfficial(official).Select(o => ($"{o.MethodId} {o.Team}", o.SMape, o.Mase, o.Owa, o.Msis, o.Acd is { } a ? (double?)null : null)));
}

foreach (var r in table.OrderBy(r => r.Item4 ?? double.MaxValue))
{
    string name = r.Item1.Length > 44 ? r.Item1[..44] : r.Item1;
    Console.WriteLine($"{name,-44} {F(r.Item2),8} {F(r.Item3),7} {F(r.Item4),7} {F(r.Item5),8} {(r.Item6 is { } c ? c.ToString("P1", CultureInfo.InvariantCulture) : "-"),7}");
}

static string F(double? v) => v is { } x ? x.ToString("F3", CultureInfo.InvariantCulture) : "-";

internal sealed class Printer(string name) : IProgress<EpochProgress>
{
    public void Report(EpochProgress value) =>
        Console.WriteLine($"  {name} epoch {value.Epoch}/{value.MaxEpochs} train {value.TrainLoss:F4} val {value.ValidationLoss:F4} at {TimeProvider.System.GetUtcNow():HH:mm:ss}");
}

/// <summary>Fits and predicts once, keeping the forecasts in a file; later runs with the same key read the file instead.</summary>
internal sealed class CachedForecaster(IForecaster inner, string path) : IForecaster
{
    private IReadOnlyList<Forecast>? _forecasts;

    public IForecaster Inner => inner;

    public string Name => inner.Name;

    public bool IsFitted => _forecasts is not null;

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        if (File.Exists(path))
        {
            _forecasts = System.Text.Json.JsonSerializer.Deserialize<Forecast[]>(File.ReadAllText(path))!;
            Console.WriteLine($"  read {path}");
            return;
        }

        inner.Fit(history, cancellationToken);
        _forecasts = inner.Predict(inner is RecurrentForecaster r ? r.Options.Horizon : M4Hourly.Horizon);
        TrainingReport? report = (inner as RecurrentForecaster)?.LastTraining ?? (inner as EsRnnForecaster)?.LastTraining;
        if (report is { } t)
        {
            Console.WriteLine($"  {path}: {t.Epochs} epochs, best val {t.BestValidationLoss:F4}, fit {t.Seconds:F0}s");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, System.Text.Json.JsonSerializer.Serialize(_forecasts));
    }

    public void Update(SeriesSet newObservations) => throw new NotSupportedException("cached forecasts do not stream");

    public IReadOnlyList<Forecast> Predict(int horizon) =>
        _forecasts!.Select(f => f.Horizon == horizon ? f : new Forecast(f.SeriesName, f.Start, f.Step, f.Levels, f.Values.Select(v => v.Take(horizon).ToArray()).ToArray(), f.Mean.Take(horizon).ToArray())).ToArray();

    public void Save(Stream stream) => throw new NotSupportedException();
}
