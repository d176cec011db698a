using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Neural;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary><c>foresight train</c>: fits a model on every series of a trace and saves it as a versioned model file.</summary>
public static class TrainCommand
{
    public sealed record TrainReport(
        string Model,
        string Data,
        string Out,
        int Series,
        int Points,
        double StepSeconds,
        int SeasonLength,
        int Horizon,
        int? Epochs,
        double? BestValidationLoss,
        double TrainSeconds,
        TraceFills? Fills = null);

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "The history: a trace file (wide or long CSV, optionally gzip).", Required = true };
        var model = new Option<string>("--model") { Description = $"One of {string.Join(", ", BacktestCommand.Models)}.", Required = true };
        var output = new Option<string>("--out") { Description = "Where to write the model file.", Required = true };
        var horizon = new Option<int?>("--horizon") { Description = "Longest horizon the model will be asked for (neural models train a head this long; default one season)." };
        var seed = new Option<int>("--seed") { Description = "Seed of the neural models.", DefaultValueFactory = _ => 1 };
        var json = new Option<string?>("--json") { Description = "Write a machine-readable summary to this file." };
        Option<string?> step = TraceSeries.StepOption();
        var command = new Command("train", "Fit a forecasting model on a trace and save it.") { data, model, output, horizon, seed, json, step };
        command.Subcommands.Add(GlobalTrainCommand.Create());
        command.SetAction(parse => Execute(
            parse.GetValue(data)!, parse.GetValue(model)!, parse.GetValue(output)!, parse.GetValue(horizon), parse.GetValue(seed), parse.GetValue(json),
            parse.GetValue(step), parse.InvocationConfiguration.Error));
        return command;
    }

    /// <param name="step">The trace's grid step (<c>--step</c>, e.g. 5m); inferred when null.</param>
    /// <param name="warnings">Where warnings go (standard error by default).</param>
    public static int Execute(string data, string modelName, string output, int? horizon, int seed, string? json, string? step = null, TextWriter? warnings = null)
    {
        double? stepSeconds = TraceSeries.ParseStep(step);
        if (!BacktestCommand.Models.Contains(modelName))
        {
            throw new InvalidInputException("--model", $"unknown model '{modelName}'; choose from {string.Join(", ", BacktestCommand.Models)}");
        }

        if (horizon is < 1)
        {
            throw new InvalidInputException("--horizon", $"must be a positive number of steps (got {horizon})");
        }

        CheckOutput(output);

        TraceSeriesData read = TraceSeries.Read(data, stepSeconds: stepSeconds);
        TraceFills.Warn(warnings ?? Console.Error, data, read.Fills);
        SeriesSet set = read.Series;
        int h = horizon ?? set.SeasonLength;
        IForecaster model = BacktestCommand.Create(modelName, h, seed);
        var clock = Stopwatch.StartNew();
        Fit(model, set);
        double seconds = clock.Elapsed.TotalSeconds;

        SaveModel(model, output);

        TrainingReport? training = (model as RecurrentForecaster)?.LastTraining ?? (model as EsRnnForecaster)?.LastTraining;
        var report = new TrainReport(
            modelName, data, output, set.Count, set.Series.Sum(s => s.Length), set.Step.TotalSeconds, set.SeasonLength, h,
            training?.Epochs, training is { BestValidationLoss: double v } && double.IsFinite(v) ? v : null, seconds, TraceFills.From(read.Fills));
        Print(report);
        if (json is not null)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(report, SimulateCommand.Json));
        }

        return ExitCodes.Ok;
    }

    /// <summary>The model file's folder must exist before a long fit, not after it.</summary>
    internal static void CheckOutput(string output)
    {
        string? outDir = Path.GetDirectoryName(Path.GetFullPath(output));
        if (outDir is not null && !Directory.Exists(outDir))
        {
            throw new InvalidInputException("--out", $"directory '{outDir}' does not exist");
        }
    }

    /// <summary>Writes to a temporary file first, so that a failed save never leaves a truncated model behind.</summary>
    internal static void SaveModel(IForecaster model, string output)
    {
        string temporary = output + ".tmp";
        using (FileStream stream = File.Create(temporary))
        {
            model.Save(stream);
        }

        File.Move(temporary, output, overwrite: true);
    }

    /// <summary>Fits with the epoch progress bar.</summary>
    internal static void Fit(IForecaster model, SeriesSet set, string? label = null) =>
        TrainingProgress.Run(model, label ?? $"training {model.Name}", () =>
        {
            model.Fit(set);
            return true;
        });

    private static void Print(TrainReport r)
    {
        var table = new Table().Border(TableBorder.Rounded).Title($"{Markup.Escape(r.Model)} → {Markup.Escape(r.Out)}");
        table.AddColumn("series").AddColumn(new TableColumn("points").RightAligned()).AddColumn(new TableColumn("step").RightAligned())
            .AddColumn(new TableColumn("season").RightAligned()).AddColumn(new TableColumn("horizon").RightAligned())
            .AddColumn(new TableColumn("epochs").RightAligned()).AddColumn(new TableColumn("fit").RightAligned());
        table.AddRow(
            r.Series.ToString(CultureInfo.InvariantCulture),
            r.Points.ToString("N0", CultureInfo.InvariantCulture),
            $"{r.StepSeconds:G6} s",
            r.SeasonLength.ToString(CultureInfo.InvariantCulture),
            r.Horizon.ToString(CultureInfo.InvariantCulture),
            r.Epochs?.ToString(CultureInfo.InvariantCulture) ?? "-",
            string.Create(CultureInfo.InvariantCulture, $"{r.TrainSeconds:F1} s"));
        AnsiConsole.Write(table);
    }
}
