using System.CommandLine;
using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Forecasting;
using Foresight.Ingest;

namespace Foresight.Cli.Commands;

/// <summary>A trace read as series: the series, the time of each step, and how the trace was put on its grid and filled.</summary>
public sealed record TraceSeriesData(SeriesSet Series, DateTimeOffset[] Times, FillReport Fills);

/// <summary>Turns a trace file into forecastable series: one per column (traffic key), on a regular grid.</summary>
public static class TraceSeries
{
    /// <summary>
    /// Reads <paramref name="path"/> onto a regular grid of <paramref name="stepSeconds"/> (inferred when null):
    /// rows off the grid move onto it, and a step no row falls on is a missing reading, filled like an empty cell
    /// (a gap would otherwise shift every later observation by a step, and every seasonal feature with it).
    /// </summary>
    /// <param name="exogenous">Columns that are covariates of every other column (e.g. latency), not series of their own.</param>
    public static TraceSeriesData Read(string path, string option = "--data", IReadOnlyList<string>? exogenous = null, double? stepSeconds = null)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException(option, $"file '{path}' does not exist");
        }

        TraceTable trace = TraceReader.Read(path, Options(stepSeconds));
        if (trace.RowCount < 3)
        {
            throw new InvalidInputException(path, $"needs more than two rows (it has {trace.RowCount})");
        }

        double step = trace.Fills.GridStepSeconds ?? trace.StepSeconds;
        DateTimeOffset origin = trace.StartTime ?? DateTimeOffset.UnixEpoch;
        var times = trace.TimeSeconds.Select(t => origin + TimeSpan.FromSeconds(t)).ToArray();
        string[] names = trace.Keys.Select(k => k.ToString()).ToArray();
        exogenous ??= [];
        var chosen = new List<int>();
        foreach (string name in exogenous)
        {
            // A column is named by its key (app/type/source) or, when that is unique, by its source alone (a wide CSV's header).
            int[] matches = Enumerable.Range(0, names.Length)
                .Where(i => names[i] == name || trace.Keys[i].Source == name).ToArray();
            int[] exact = matches.Where(i => names[i] == name).ToArray();
            matches = exact.Length > 0 ? exact : matches;
            if (matches.Length != 1)
            {
                string problem = matches.Length == 0 ? "is not in" : "names several columns of";
                throw new InvalidInputException("--exog", $"column '{name}' {problem} '{path}' (its columns: {string.Join(", ", names)})", field: name);
            }

            if (chosen.Contains(matches[0]))
            {
                throw new InvalidInputException("--exog", $"column '{name}' is named twice", field: name);
            }

            chosen.Add(matches[0]);
        }

        if (chosen.Count == names.Length)
        {
            throw new InvalidInputException("--exog", "every column is a covariate; at least one must remain a series to forecast");
        }

        double[][] covariates = chosen.Select(i => trace.Values[i]).ToArray();
        var series = Enumerable.Range(0, names.Length).Where(i => !chosen.Contains(i))
            .Select(i => new Series(names[i], trace.Values[i], times[0], covariates)).ToList();
        return new TraceSeriesData(new SeriesSet(TimeSpan.FromSeconds(step), series, chosen.Select(i => names[i]).ToArray(), source: path), times, trace.Fills);
    }

    /// <summary>The read options of every command that takes a trace: a regular grid, of the given step or inferred.</summary>
    public static TraceReadOptions Options(double? stepSeconds) => new() { RegularGrid = true, StepSeconds = stepSeconds };

    /// <summary>
    /// The <c>--step</c> option of the commands that read a trace: the grid step, e.g. 5m, 300 or 1h.
    /// </summary>
    public static Option<string?> StepOption() => new("--step")
    {
        Description = "The trace's step, e.g. 5m, 300 (seconds) or 1h (default: inferred from the rows). Rows off the step's grid are moved onto it, and steps with no row are missing readings, filled and counted.",
    };

    /// <summary>Parses a <c>--step</c> value (null when not given).</summary>
    public static double? ParseStep(string? text) => text is null ? null : PrometheusHistoryOptions.ParseStep(text);
}
