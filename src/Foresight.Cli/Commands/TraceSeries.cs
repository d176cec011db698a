using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Forecasting;
using Foresight.Ingest;

namespace Foresight.Cli.Commands;

/// <summary>Turns a trace file into forecastable series: one per column (traffic key), at the trace's regular step.</summary>
public static class TraceSeries
{
    /// <summary>Reads <paramref name="path"/>; every row must follow the previous one by exactly one step.</summary>
    /// <param name="exogenous">Columns that are covariates of every other column (e.g. latency), not series of their own.</param>
    public static (SeriesSet Series, DateTimeOffset[] Times) Read(string path, string option = "--data", IReadOnlyList<string>? exogenous = null)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException(option, $"file '{path}' does not exist");
        }

        TraceTable trace = TraceReader.Read(path);
        if (trace.RowCount < 3)
        {
            throw new InvalidInputException(path, $"needs more than two rows (it has {trace.RowCount})");
        }

        double step = trace.StepSeconds;
        for (int r = 1; r < trace.RowCount; r++)
        {
            double gap = trace.TimeSeconds[r] - trace.TimeSeconds[r - 1];
            if (Math.Abs(gap - step) > 1e-6 * step)
            {
                // A gap would silently shift every later observation by a step (and every seasonal feature with it).
                throw new InvalidInputException(path, $"row {r + 1} of the data is {gap:G6} s after the previous one; series need a regular step of {step:G6} s (fill gaps with empty cells, which are interpolated)", field: "time");
            }
        }

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
        return (new SeriesSet(TimeSpan.FromSeconds(step), series, chosen.Select(i => names[i]).ToArray(), source: path), times);
    }
}
