using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Foresight.Core;
using Foresight.Core.Forecasts;
using Foresight.Forecasting;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary>
/// <c>foresight forecast</c>: loads a saved model, streams in the observations of <c>--data</c> that it has not seen
/// yet (one update step each, no refit), and predicts <c>--horizon</c> steps with quantiles.
/// </summary>
public static class ForecastCommand
{
    public sealed record SeriesForecast(
        string Series,
        DateTimeOffset Start,
        double StepSeconds,
        IReadOnlyList<double> Mean,
        IReadOnlyDictionary<string, double[]> Quantiles);

    public sealed record ForecastReport(string Model, string Data, int Horizon, int NewObservations, IReadOnlyList<SeriesForecast> Forecasts, TraceFills? Fills = null);

    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "A model file written by 'foresight train'.", Required = true };
        var data = new Option<string>("--data") { Description = "Observations of the model's series (its training history and/or what came after it).", Required = true };
        var horizon = new Option<int>("--horizon") { Description = "Steps to forecast.", Required = true };
        var json = new Option<string?>("--json") { Description = "Write the forecasts (mean and quantiles per step) to this file." };
        Option<string?> step = TraceSeries.StepOption();
        var command = new Command("forecast", "Forecast from a saved model, after streaming in new observations.") { model, data, horizon, json, step };
        command.SetAction(parse => Execute(
            parse.GetValue(model)!, parse.GetValue(data)!, parse.GetValue(horizon), parse.GetValue(json), parse.GetValue(step), parse.InvocationConfiguration.Error));
        return command;
    }

    /// <param name="step">The trace's grid step (<c>--step</c>, e.g. 5m); inferred when null (it must be the model's step).</param>
    /// <param name="warnings">Where warnings go (standard error by default).</param>
    public static int Execute(string modelPath, string data, int horizon, string? json, string? step = null, TextWriter? warnings = null)
    {
        double? stepSeconds = TraceSeries.ParseStep(step);
        if (horizon < 1)
        {
            throw new InvalidInputException("--horizon", $"must be a positive number of steps (got {horizon})");
        }

        IForecaster model = Load(modelPath);
        IReadOnlyList<Forecast> next = model.Predict(1);
        TraceSeriesData read = TraceSeries.Read(data, stepSeconds: stepSeconds);
        TraceFills.Warn(warnings ?? Console.Error, data, read.Fills);
        (SeriesSet observed, DateTimeOffset[] times) = (read.Series, read.Times);
        int appended = StreamNew(model, next, observed, times, data);
        IReadOnlyList<Forecast> forecasts;
        try
        {
            forecasts = model.Predict(horizon);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidInputException("--horizon", $"{horizon} is beyond what model '{modelPath}' can predict: {e.Message.Split(" (Parameter")[0]}");
        }

        var report = new ForecastReport(
            model.Name,
            data,
            horizon,
            appended,
            forecasts.Select(f => new SeriesForecast(
                f.SeriesName,
                f.Start,
                f.Step.TotalSeconds,
                f.Mean,
                f.Levels.ToDictionary(l => l.ToString("0.###", CultureInfo.InvariantCulture), f.Quantile))).ToList(),
            TraceFills.From(read.Fills));
        Print(report);
        if (json is not null)
        {
            File.WriteAllText(json, JsonSerializer.Serialize(report, SimulateCommand.Json));
        }

        return ExitCodes.Ok;
    }

    private static IForecaster Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException("--model", $"file '{path}' does not exist");
        }

        try
        {
            using FileStream stream = File.OpenRead(path);
            return ForecasterFile.Load(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException)
        {
            throw new InvalidInputException(path, $"is not a readable model file: {e.Message}", field: "--model");
        }
    }

    /// <summary>
    /// Appends, per series, the rows from the model's next expected time on. Rows the model has already seen are
    /// skipped, so the training file itself may be passed; a gap between the two is an error, not a silent shift.
    /// </summary>
    private static int StreamNew(IForecaster model, IReadOnlyList<Forecast> next, SeriesSet observed, DateTimeOffset[] times, string path)
    {
        var expected = next.ToDictionary(f => f.SeriesName, StringComparer.Ordinal);
        TimeSpan step = next.Count > 0 ? next[0].Step : observed.Step;
        if (next.Count > 0 && Math.Abs((observed.Step - step).TotalSeconds) > 1e-6 * step.TotalSeconds)
        {
            throw new InvalidInputException(path, $"the data's step is {observed.Step.TotalSeconds:G6} s but the model was trained at {step.TotalSeconds:G6} s", field: "time");
        }

        var fresh = new List<Series>();
        int appended = 0;
        foreach (Series s in observed.Series)
        {
            if (!expected.TryGetValue(s.Name, out Forecast? f))
            {
                throw new InvalidInputException(path, $"series '{s.Name}' is not one the model was trained on ({string.Join(", ", expected.Keys.Take(5))}{(expected.Count > 5 ? ", …" : "")})", field: s.Name);
            }

            int first = Array.FindIndex(times, t => t >= f.Start);
            if (first < 0)
            {
                continue; // nothing new for this series
            }

            if (times[first] != f.Start)
            {
                throw new InvalidInputException(path, $"series '{s.Name}' resumes at {times[first]:O} but the model's next observation is due at {f.Start:O}", field: s.Name);
            }

            double[] values = s.Values[first..];
            appended += values.Length;
            fresh.Add(new Series(s.Name, values));
        }

        if (fresh.Count > 0)
        {
            model.Update(observed.With(fresh));
        }

        return appended;
    }

    private static void Print(ForecastReport r)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{Markup.Escape(r.Model)}: {r.Forecasts.Count} series, {r.Horizon} steps ({r.NewObservations} new observations streamed in)");
        table.AddColumn("series").AddColumn("from").AddColumn(new TableColumn("median, step 1").RightAligned())
            .AddColumn(new TableColumn($"median, step {r.Horizon}").RightAligned()).AddColumn(new TableColumn($"90% interval, step {r.Horizon}").RightAligned());
        foreach (SeriesForecast f in r.Forecasts.Take(40))
        {
            double[] median = f.Quantiles["0.5"];
            string interval = f.Quantiles.TryGetValue("0.05", out double[]? lo) && f.Quantiles.TryGetValue("0.95", out double[]? hi)
                ? string.Create(CultureInfo.InvariantCulture, $"{lo[^1]:G4} – {hi[^1]:G4}")
                : "-";
            table.AddRow(
                Markup.Escape(f.Series),
                f.Start.ToString("u", CultureInfo.InvariantCulture),
                median[0].ToString("G4", CultureInfo.InvariantCulture),
                median[^1].ToString("G4", CultureInfo.InvariantCulture),
                interval);
        }

        AnsiConsole.Write(table);
        if (r.Forecasts.Count > 40)
        {
            AnsiConsole.MarkupLine($"[grey]… and {r.Forecasts.Count - 40} more series (all in --json)[/]");
        }
    }
}
