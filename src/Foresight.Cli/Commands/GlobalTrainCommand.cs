using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Neural;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary>
/// <c>foresight train global</c>: pretrains the global LSTM on the observed demand of the built-in development scenarios
/// (see <see cref="GlobalModel"/>) and saves it as a model file.
/// </summary>
public static class GlobalTrainCommand
{
    public sealed record GlobalTrainReport(
        string Out,
        IReadOnlyList<string> Scenarios,
        IReadOnlyList<string> Excluded,
        int Series,
        long Points,
        int Horizon,
        int Hidden,
        ulong Seed,
        int? Epochs,
        double? BestValidationLoss,
        long Bytes,
        double TrainSeconds);

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Where to write the model file.", Required = true };
        var exclude = new Option<string[]>("--exclude")
        {
            Description = "Leave out the trace of these built-in scenarios (leave-one-out evaluation); repeat or separate with commas.",
            AllowMultipleArgumentsPerToken = true,
        };
        var seed = new Option<int>("--seed") { Description = "Seed of the initial weights and the sampled windows.", DefaultValueFactory = _ => 1 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units per layer.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs") { Description = "At most this many epochs (early stopping on the held-out tail of every series).", DefaultValueFactory = _ => 30 };
        var json = new Option<string?>("--json") { Description = "Write a machine-readable summary to this file." };
        var command = new Command("global", $"Pretrain the global {GlobalModel.ModelName} model on the built-in development scenarios ({string.Join(", ", GlobalModel.CorpusScenarios)}).")
        {
            output, exclude, seed, hidden, epochs, json,
        };
        command.SetAction(parse => Execute(
            parse.GetValue(output)!,
            (parse.GetValue(exclude) ?? []).SelectMany(e => e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray(),
            parse.GetValue(seed), parse.GetValue(hidden), parse.GetValue(epochs), parse.GetValue(json), quiet: false));
        return command;
    }

    public static int Execute(string output, IReadOnlyList<string> exclude, int seed, int hidden, int epochs, string? json, bool quiet)
    {
        if (seed < 0)
        {
            throw new InvalidInputException("--seed", $"must not be negative (got {seed})");
        }

        if (hidden < 1 || epochs < 1)
        {
            throw new InvalidInputException(hidden < 1 ? "--hidden" : "--epochs", "must be a positive number");
        }

        TrainCommand.CheckOutput(output);

        SeriesSet corpus = GlobalModel.Corpus(exclude.ToArray(), out IReadOnlyList<string> used, out int horizon, out double timeScale);
        var model = new LstmForecaster(GlobalModel.TrainingOptions(horizon, (ulong)seed, hidden, epochs, timeScale));
        var clock = Stopwatch.StartNew(); // reported only
        if (quiet)
        {
            model.Fit(corpus);
        }
        else
        {
            TrainCommand.Fit(model, corpus, $"pretraining {GlobalModel.ModelName}");
        }

        double seconds = clock.Elapsed.TotalSeconds;
        TrainCommand.SaveModel(model, output);
        TrainingReport? training = model.LastTraining;
        var report = new GlobalTrainReport(
            output, used, exclude.ToArray(), corpus.Count, corpus.Series.Sum(s => (long)s.Length), horizon, hidden, (ulong)seed,
            training?.Epochs, training is { BestValidationLoss: double v } && double.IsFinite(v) ? v : null, new FileInfo(output).Length, seconds);
        if (!quiet)
        {
            Print(report);
        }

        if (json is not null)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(report, SimulateCommand.Json));
        }

        return ExitCodes.Ok;
    }

    private static void Print(GlobalTrainReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{GlobalModel.ModelName} → {Markup.Escape(r.Out)}");
        table.AddColumn("scenarios").AddColumn(new TableColumn("series").RightAligned()).AddColumn(new TableColumn("points").RightAligned())
            .AddColumn(new TableColumn("horizon").RightAligned()).AddColumn(new TableColumn("epochs").RightAligned())
            .AddColumn(new TableColumn("size").RightAligned()).AddColumn(new TableColumn("fit").RightAligned());
        table.AddRow(
            Markup.Escape(string.Join(", ", r.Scenarios)),
            r.Series.ToString(CultureInfo.InvariantCulture),
            r.Points.ToString("N0", CultureInfo.InvariantCulture),
            r.Horizon.ToString(CultureInfo.InvariantCulture),
            r.Epochs?.ToString(CultureInfo.InvariantCulture) ?? "-",
            string.Create(CultureInfo.InvariantCulture, $"{r.Bytes / 1024.0:F0} KiB"),
            string.Create(CultureInfo.InvariantCulture, $"{r.TrainSeconds:F1} s"));
        AnsiConsole.Write(table);
    }
}
