using System.CommandLine;
using System.Text.Json;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Backtesting;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Calibration;
using Foresight.Forecasting.Data;
using Foresight.Forecasting.Ensembles;
using Foresight.Forecasting.Neural;
using Foresight.Simulation.Scenarios;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary>
/// <c>foresight backtest</c>: scores a model on M4 Hourly (the official protocol: train on the training set, score the
/// 48-step test set) or on any trace, from rolling origins.
/// </summary>
public static class BacktestCommand
{
    public const string M4Hourly = "m4-hourly";

    public static IReadOnlyList<string> Models { get; } = ["seasonal-naive", "ets", "lstm", "gru", "lstm+gru", EnsembleForecaster.ModelName, EsRnnForecaster.LstmName, EsLstmPlusLstm, EsEnsemble];

    public sealed record BacktestReport(
        string Model,
        string Dataset,
        int Series,
        int Horizon,
        int Windows,
        double? Smape,
        double? Mase,
        double? Owa,
        double? Msis,
        double? Coverage95,
        double TrainSeconds,
        double PredictSeconds,
        TraceFills? Fills = null);

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = $"'{M4Hourly}', or a trace file (wide or long CSV, optionally gzip).", Required = true };
        var model = new Option<string>("--model") { Description = $"One of {string.Join(", ", Models)}.", Required = true };
        var horizon = new Option<int?>("--horizon") { Description = "Steps to forecast (M4 Hourly: 48; a trace: one season)." };
        var windows = new Option<int>("--windows") { Description = "Rolling origins for a trace (ignored for M4).", DefaultValueFactory = _ => 3 };
        var json = new Option<string?>("--json") { Description = "Write machine-readable results to this file." };
        var seed = new Option<int>("--seed") { Description = "Seed of the neural models.", DefaultValueFactory = _ => 1 };
        var stepSize = new Option<int?>("--step-size") { Description = "Steps between rolling origins of a trace (default: the horizon). The model is fitted once, before the first origin, then updated." };
        var season = new Option<int?>("--season") { Description = "Season length m of a trace for MASE and seasonal models (default: inferred from the step, e.g. 24 for hourly data)." };
        var exog = new Option<string?>("--exog") { Description = "Comma-separated columns of a trace that are covariates of the others (e.g. latency), fed to the neural models as inputs." };
        var calibrate = new Option<bool>("--calibrate") { Description = "Wrap the model in rolling split-conformal calibration of its intervals (fitted on a held-out tail, updated while streaming)." };
        Option<string?> step = TraceSeries.StepOption();
        var command = new Command("backtest", "Score a forecasting model on held-out data.") { data, model, horizon, windows, json, seed, stepSize, season, exog, calibrate, step };
        command.SetAction(parse => Execute(
            parse.GetValue(data)!, parse.GetValue(model)!, parse.GetValue(horizon), parse.GetValue(windows), parse.GetValue(json), parse.GetValue(seed),
            parse.GetValue(stepSize), parse.GetValue(season), parse.GetValue(exog), parse.GetValue(calibrate), parse.GetValue(step), parse.InvocationConfiguration.Error));
        return command;
    }

    /// <param name="step">The trace's grid step (<c>--step</c>, e.g. 5m); inferred when null.</param>
    /// <param name="warnings">Where warnings go (standard error by default).</param>
    public static int Execute(
        string data, string modelName, int? horizon, int windows, string? json, int seed, int? stepSize = null, int? season = null, string? exog = null,
        bool calibrate = false, string? step = null, TextWriter? warnings = null)
    {
        double? stepSeconds = TraceSeries.ParseStep(step);
        string[] exogenous = exog is null ? [] : exog.Split(',', StringSplitOptions.TrimEntries);
        if (exogenous.Any(string.IsNullOrEmpty))
        {
            throw new InvalidInputException("--exog", $"needs comma-separated column names (got '{exog}')");
        }

        if (!Models.Contains(modelName))
        {
            throw new InvalidInputException("--model", $"unknown model '{modelName}'; choose from {string.Join(", ", Models)}");
        }

        if (horizon is < 1)
        {
            throw new InvalidInputException("--horizon", $"must be a positive number of steps (got {horizon})");
        }

        if (windows < 1)
        {
            throw new InvalidInputException("--windows", $"must be at least 1 (got {windows})");
        }

        if (stepSize is < 1)
        {
            throw new InvalidInputException("--step-size", $"must be a positive number of steps (got {stepSize})");
        }

        if (season is < 1)
        {
            throw new InvalidInputException("--season", $"must be a positive number of steps (got {season})");
        }

        BacktestReport report;
        IReadOnlyList<M4OfficialRow> official = [];
        if (data == M4Hourly)
        {
            string dir = DataPaths.Resolve("data:m4_hourly", Directory.GetCurrentDirectory());
            if (exogenous.Length > 0)
            {
                throw new InvalidInputException("--exog", "M4 Hourly has no covariates");
            }

            if (step is not null)
            {
                throw new InvalidInputException("--step", "M4 Hourly is read as published (hourly series without timestamps); --step is for a trace");
            }

            if (horizon is int h && h != Forecasting.Data.M4Hourly.Horizon)
            {
                throw new InvalidInputException("--horizon", $"M4 Hourly is scored at its official horizon of {Forecasting.Data.M4Hourly.Horizon}");
            }

            (SeriesSet train, double[][] test) = Forecasting.Data.M4Hourly.Load(dir);
            IForecaster model = Calibrated(Create(modelName, Forecasting.Data.M4Hourly.Horizon, seed), Forecasting.Data.M4Hourly.Horizon, calibrate);
            BacktestResult r = TrainingProgress.Run(model, $"{modelName} on M4 Hourly", () => Backtest.Holdout(model, train, test, Forecasting.Data.M4Hourly.SeasonLength));
            report = ToReport(r, M4Hourly, train.Count, 1);
            string officialPath = Path.Combine(dir, "m4_official_results_hourly.csv");
            if (File.Exists(officialPath))
            {
                official = Forecasting.Data.M4Hourly.LoadOfficial(officialPath);
            }
        }
        else
        {
            TraceSeriesData read = TraceSeries.Read(data, exogenous: exogenous, stepSeconds: stepSeconds);
            TraceFills.Warn(warnings ?? Console.Error, data, read.Fills);
            SeriesSet set = read.Series;
            if (season is int m)
            {
                set = new SeriesSet(set.Step, set.Series, set.ExogenousNames, m, set.Source);
            }

            int h = horizon ?? set.SeasonLength;
            int every = stepSize ?? h;
            int shortest = set.Series.Min(s => s.Length);
            if (shortest < h + ((windows - 1) * every) + h + 2)
            {
                Series worst = set.Series.MinBy(s => s.Length)!;
                throw new InvalidInputException(data, $"series '{worst.Name}' has {worst.Length} points, too short for {windows} windows of {h} steps every {every} after a training window", field: worst.Name);
            }

            BacktestResult r = WithSpinner($"{modelName} on {Path.GetFileName(data)}", () =>
                Backtest.CrossValidate(() => Calibrated(Create(modelName, h, seed), h, calibrate), set, new BacktestOptions { Horizon = h, Windows = windows, StepSize = every }));
            report = ToReport(r, data, set.Count, windows) with { Fills = TraceFills.From(read.Fills) };
        }

        Print(report, official);
        if (json is not null)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(report, SimulateCommand.Json));
        }

        return ExitCodes.Ok;
    }

    /// <summary>The quantile average of an ES-hybrid LSTM and an LSTM (chosen on M4's validation split, docs/design/0021).</summary>
    public const string EsLstmPlusLstm = "es-lstm+lstm";

    /// <summary>
    /// The median of <see cref="EsEnsembleEsSeeds"/> ES-hybrid LSTMs that see the last week (7 seasons) and
    /// <see cref="EsEnsembleLstmSeeds"/> LSTMs, fitted side by side (chosen on M4's validation split, docs/design/0024).
    /// </summary>
    public const string EsEnsemble = "es-ensemble";

    /// <summary>ES-hybrid members of <c>--model es-ensemble</c> (seeds: --seed, +1, ...).</summary>
    public const int EsEnsembleEsSeeds = 3;

    /// <summary>LSTM members of <c>--model es-ensemble</c>.</summary>
    public const int EsEnsembleLstmSeeds = 2;

    /// <summary>Seeds of <c>--model ensemble</c>: an LSTM and a GRU each (chosen on M4's validation split, docs/design/0009).</summary>
    public const int EnsembleSeeds = 2;

    private static IForecaster Calibrated(IForecaster model, int horizon, bool calibrate) =>
        calibrate ? new ConformalForecaster(model, new ConformalOptions { Horizon = horizon }) : model;

    internal static IForecaster Create(string name, int horizon, int seed)
    {
        var neural = new RecurrentOptions { Horizon = horizon, Seed = (ulong)seed };
        return name switch
        {
            "seasonal-naive" => new SeasonalNaiveForecaster(),
            "ets" => new EtsForecaster(),
            "lstm" => new LstmForecaster(neural),
            "gru" => new GruForecaster(neural),
            "lstm+gru" => EnsembleForecaster.LstmGru(neural),
            EnsembleForecaster.ModelName => EnsembleForecaster.SeededLstmGru(neural, EnsembleSeeds),
            EsRnnForecaster.LstmName => new EsRnnForecaster(new EsRnnOptions { Horizon = horizon, Seed = (ulong)seed }),
            EsLstmPlusLstm => new EnsembleForecaster(EsLstmPlusLstm, [new EsRnnForecaster(new EsRnnOptions { Horizon = horizon, Seed = (ulong)seed }), new LstmForecaster(neural)]),
            EsEnsemble => EnsembleForecaster.SeededEsLstmLstm(EsEnsemble, new EsRnnOptions { Horizon = horizon, Seed = (ulong)seed, InputSeasons = 7 }, neural, EsEnsembleEsSeeds, EsEnsembleLstmSeeds),
            _ => throw new InvalidInputException("--model", $"unknown model '{name}'"),
        };
    }

    // A metric that is undefined for the data (e.g. MASE of a perfectly periodic series, whose naive error is 0) is null.
    private static BacktestReport ToReport(BacktestResult r, string dataset, int series, int windows) =>
        new(r.Model, dataset, series, r.Horizon, windows, Defined(r.SMape), Defined(r.Mase), Defined(r.Owa), Defined(r.Msis),
            Defined(r.Coverage), r.TrainSeconds, r.PredictSeconds);

    private static double? Defined(double? value) => value is double v && double.IsFinite(v) ? v : null;

    private static T WithSpinner<T>(string what, Func<T> work)
    {
        if (Console.IsOutputRedirected)
        {
            return work();
        }

        T result = default!;
        AnsiConsole.Status().Start($"backtesting {Markup.Escape(what)}…", _ => result = work());
        return result;
    }

    private static void Print(BacktestReport r, IReadOnlyList<M4OfficialRow> official)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(r.Dataset)}: {r.Series} series, horizon {r.Horizon}");
        foreach (string c in new[] { "method", "sMAPE", "MASE", "OWA", "MSIS", "coverage 95%" })
        {
            table.AddColumn(new TableColumn(c).RightAligned());
        }

        static string F(double? v) => v is double x ? x.ToString("F3", System.Globalization.CultureInfo.InvariantCulture) : "-";
        table.AddRow($"[bold]ours: {Markup.Escape(r.Model)}[/]", F(r.Smape), F(r.Mase), F(r.Owa), F(r.Msis), r.Coverage95 is double coverage ? $"{coverage:P1}" : "-");
        foreach (M4OfficialRow o in official.OrderBy(o => o.Owa ?? double.MaxValue))
        {
            table.AddRow(Markup.Escape($"{o.MethodId} {o.Team}"), F(o.SMape), F(o.Mase), F(o.Owa), F(o.Msis), "-");
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine($"[grey]fit {r.TrainSeconds:F1} s, predict {r.PredictSeconds:F2} s[/]");
    }
}
