using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using Foresight.Cli.Commands;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;
using Foresight.Ingest;
using Foresight.Simulation.Scenarios;
using Xunit.Abstractions;

namespace Foresight.Cli.Tests;

/// <summary>
/// Real metric exports skip intervals, stamp samples a few seconds off the grid and miss whole hours. Built from the
/// shared NASA trace as a 5-minute <c>timestamp,value</c> export so damaged, they backtest, train, forecast and
/// simulate with no manual editing, and every command reports the same fill counts.
/// </summary>
public sealed class IrregularSeriesTests(ITestOutputHelper output) : IDisposable
{
    private const int Step = 300;

    // Five days of the NASA per-second trace (from its second day on) summed into 5-minute requests.
    private static readonly Lazy<double[]> _nasaFiveMinutes = new(() => FiveMinuteBuckets(days: 5, fromDay: 1));

    private static readonly DateTimeOffset _start = new(1995, 7, 2, 4, 0, 0, TimeSpan.Zero);

    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    /// <summary>A damaged export and what was done to it.</summary>
    private sealed record Export(string Path, int Rows, int DroppedSteps, int EmptyCells, int JitteredRows, int Steps);

    /// <summary>
    /// The 5-minute export of the NASA trace with, seeded: about 3% of the rows dropped (600 s and 900 s gaps), three
    /// cuts of one, two and three hours, about every other row stamped 1–5 s early or late, and five empty cells.
    /// </summary>
    private Export Damaged(string name, int seed = 13, int? steps = null)
    {
        double[] values = _nasaFiveMinutes.Value;
        int n = steps ?? values.Length;
        var random = new Random(seed);
        var dropped = new bool[n];
        foreach ((int from, int hours) in new[] { (n / 5, 1), (n / 2, 2), (4 * n / 5, 3) })
        {
            for (int k = from; k < from + (hours * 12); k++)
            {
                dropped[k] = true;
            }
        }

        for (int k = 1; k < n - 1; k++)
        {
            dropped[k] |= random.NextDouble() < 0.03;
        }

        int[] blanks = [10, 11, 50, 90, 130];   // outside the cuts, two of them adjacent
        foreach (int k in blanks)
        {
            dropped[k] = false;
        }

        var csv = new StringBuilder("timestamp,value\n");
        int rows = 0, empty = 0, jittered = 0;
        for (int k = 0; k < n; k++)
        {
            if (dropped[k])
            {
                continue;
            }

            int jitter = random.Next(2) == 0 ? 0 : random.Next(1, 6) * (random.Next(2) == 0 ? -1 : 1);
            jittered += jitter == 0 ? 0 : 1;
            bool blank = blanks.Contains(k);
            empty += blank ? 1 : 0;
            string value = blank ? "" : values[k].ToString(CultureInfo.InvariantCulture);
            csv.Append(CultureInfo.InvariantCulture, $"{_start.AddSeconds((k * Step) + jitter):yyyy-MM-ddTHH:mm:ssZ},{value}\n");
            rows++;
        }

        Assert.Equal(5, empty);
        string path = _workspace.Write(name, csv.ToString());
        var export = new Export(path, rows, n - rows, empty, jittered, n);
        output.WriteLine($"{name}: {export}");
        return export;
    }

    private static void AssertFills(JsonElement root, Export export)
    {
        JsonElement fills = root.GetProperty("fills");
        Assert.Equal("linear-interpolation", fills.GetProperty("rule").GetString());
        Assert.Equal(Step, fills.GetProperty("stepSeconds").GetDouble());
        Assert.Equal(export.DroppedSteps, fills.GetProperty("filledSteps").GetInt64());
        Assert.Equal(export.DroppedSteps + export.EmptyCells, fills.GetProperty("filledCells").GetInt64());
        Assert.Equal(export.EmptyCells, fills.GetProperty("filledEmptyCells").GetInt64());
        Assert.Equal(export.JitteredRows, fills.GetProperty("snappedRows").GetInt64());
        Assert.Equal(5, fills.GetProperty("maxSnapSeconds").GetDouble());
    }

    private static JsonElement Json(string path) => JsonDocument.Parse(File.ReadAllText(path)).RootElement.Clone();

    [Fact]
    public void A_damaged_five_minute_export_backtests_and_reports_its_fills()
    {
        Export export = Damaged("export.csv");
        string json = _workspace.Path("backtest.json");

        (int code, string error) = CliWorkspace.Run(
            "backtest", "--data", export.Path, "--model", "seasonal-naive", "--horizon", "12", "--windows", "3", "--json", json);

        Assert.True(code == 0, error);
        JsonElement root = Json(json);
        AssertFills(root, export);
        Assert.Equal(1, root.GetProperty("series").GetInt32());
        Assert.True(root.GetProperty("smape").GetDouble() > 0);
        Assert.Contains(
            $"warning: {export.Path}: {export.DroppedSteps + export.EmptyCells} missing readings filled by linear-interpolation, " +
            $"{export.DroppedSteps} of them in {export.DroppedSteps} missing steps of 300 s; {export.JitteredRows} rows moved onto the 300 s grid (at most 5 s)",
            error);
        output.WriteLine(error);
    }

    [Fact]
    public void A_damaged_export_trains_and_forecasts_from_where_its_training_part_ended()
    {
        Export full = Damaged("full.csv");
        string[] lines = File.ReadAllLines(full.Path);
        string head = _workspace.Write("head.csv", string.Join('\n', lines.Take(lines.Length - 40)) + "\n");
        string model = _workspace.Path("ets.model");
        string trainJson = _workspace.Path("train.json");

        (int code, string error) = CliWorkspace.Run("train", "--data", head, "--model", "seasonal-naive", "--out", model, "--json", trainJson);

        Assert.True(code == 0, error);
        JsonElement train = Json(trainJson);
        Assert.Equal(Step, train.GetProperty("stepSeconds").GetDouble());
        Assert.Equal(288, train.GetProperty("seasonLength").GetInt32());
        Assert.True(train.GetProperty("fills").GetProperty("filledSteps").GetInt64() > 0);
        Assert.Contains("missing steps of 300 s", error);

        string forecastJson = _workspace.Path("forecast.json");
        (code, error) = CliWorkspace.Run("forecast", "--model", model, "--data", full.Path, "--horizon", "6", "--json", forecastJson);

        Assert.True(code == 0, error);
        JsonElement forecast = Json(forecastJson);
        AssertFills(forecast, full);
        JsonElement first = forecast.GetProperty("forecasts")[0];
        Assert.Equal(_start.AddSeconds(full.Steps * Step), first.GetProperty("start").GetDateTimeOffset());
        Assert.True(forecast.GetProperty("newObservations").GetInt32() >= 40);
    }

    [Fact]
    public void A_damaged_export_simulates_and_reports_its_fills_in_the_json_and_the_warnings()
    {
        Export export = Damaged("export.csv");
        string json = _workspace.Path("simulate.json");

        (int code, string error) = CliWorkspace.Run("simulate", "--trace", export.Path, "--policies", "hpa", "--duration", "6h", "--quiet", "--json", json);

        Assert.True(code == 0, error);
        JsonElement root = Json(json);
        AssertFills(root, export);
        Assert.Equal(Step / 60.0, root.GetProperty("timeScale").GetDouble());
        Assert.Contains(
            root.GetProperty("warnings").EnumerateArray().Select(w => w.GetString()),
            w => w!.StartsWith($"trace: {export.DroppedSteps + export.EmptyCells} missing readings filled by linear-interpolation", StringComparison.Ordinal)
                && w.Contains($"{export.DroppedSteps} of them in {export.DroppedSteps} missing steps of 300 s", StringComparison.Ordinal));
        Assert.True(root.GetProperty("policies")[0].GetProperty("requests").GetDouble() > 0);
    }

    [Fact]
    public void A_given_step_reads_an_export_missing_most_of_its_steps()
    {
        // Every other minute is missing: the rows' median gap is two minutes, so only --step tells the truth.
        var csv = new StringBuilder("timestamp,value\n");
        for (int m = 0; m < 24 * 60; m++)
        {
            if (m % 2 == 0 || m % 7 == 0)
            {
                csv.Append(CultureInfo.InvariantCulture, $"{_start.AddMinutes(m):yyyy-MM-ddTHH:mm:ssZ},{100 + (m % 60)}\n");
            }
        }

        int rows = csv.ToString().Count(c => c == '\n') - 1;
        string path = _workspace.Write("sparse.csv", csv.ToString());
        string json = _workspace.Path("sparse.json");

        (int code, string error) = CliWorkspace.Run(
            "backtest", "--data", path, "--model", "seasonal-naive", "--horizon", "5", "--windows", "2", "--season", "60", "--step", "1m", "--json", json);

        Assert.True(code == 0, error);
        JsonElement fills = Json(json).GetProperty("fills");
        Assert.Equal(60, fills.GetProperty("stepSeconds").GetDouble());
        long lastMinute = Enumerable.Range(0, 24 * 60).Last(m => m % 2 == 0 || m % 7 == 0);
        Assert.Equal(lastMinute + 1 - rows, fills.GetProperty("filledSteps").GetInt64());

        (code, error) = CliWorkspace.Run("train", "--data", path, "--model", "seasonal-naive", "--out", _workspace.Path("m"));
        Assert.Equal(2, code);
        Assert.Contains("sparse.csv", error);
        Assert.Contains("inferred", error);
    }

    [Theory]
    [InlineData("backtest")]
    [InlineData("train")]
    [InlineData("simulate")]
    public void Two_rows_on_one_step_exit_2_naming_the_file_and_both_lines(string command)
    {
        Export export = Damaged("dup.csv", steps: 300);
        List<string> lines = [.. File.ReadAllLines(export.Path)];
        DateTimeOffset at = DateTimeOffset.Parse(lines[100].Split(',')[0], CultureInfo.InvariantCulture);
        lines.Insert(101, $"{at.AddSeconds(20):yyyy-MM-ddTHH:mm:ssZ},7");
        File.WriteAllLines(export.Path, lines);

        (int code, string error) = Run(command, export.Path);

        Assert.Equal(2, code);
        Assert.Contains($"{export.Path}:102 [timestamp]", error);
        Assert.Contains("falls on the same 300 s step as line 101", error);
    }

    [Theory]
    [InlineData("backtest")]
    [InlineData("train")]
    [InlineData("simulate")]
    public void Time_going_backwards_exits_2_naming_the_file_and_line(string command)
    {
        Export export = Damaged("back.csv", steps: 300);
        List<string> lines = [.. File.ReadAllLines(export.Path)];
        (lines[150], lines[151]) = (lines[151], lines[150]);
        File.WriteAllLines(export.Path, lines);

        (int code, string error) = Run(command, export.Path);

        Assert.Equal(2, code);
        Assert.Contains($"{export.Path}:152 [timestamp]", error);
        Assert.Contains("time going backwards", error);
    }

    private (int Code, string Error) Run(string command, string data) => command switch
    {
        "backtest" => CliWorkspace.Run("backtest", "--data", data, "--model", "seasonal-naive", "--horizon", "12"),
        "train" => CliWorkspace.Run("train", "--data", data, "--model", "seasonal-naive", "--out", _workspace.Path("m")),
        _ => CliWorkspace.Run("simulate", "--trace", data, "--policies", "hpa", "--quiet"),
    };

    [Theory]
    [InlineData("backtest", "0")]
    [InlineData("train", "soon")]
    [InlineData("forecast", "-5m")]
    public void A_bad_step_exits_2_naming_the_option(string command, string step)
    {
        string data = _workspace.SmallTrace();
        string[] args = command switch
        {
            "backtest" => ["backtest", "--data", data, "--model", "seasonal-naive", "--step", step],
            "train" => ["train", "--data", data, "--model", "seasonal-naive", "--out", _workspace.Path("m"), "--step", step],
            _ => ["forecast", "--model", _workspace.Path("m"), "--data", data, "--horizon", "2", "--step", step],
        };

        (int code, string error) = CliWorkspace.Run(args);

        Assert.Equal(2, code);
        Assert.StartsWith("error: --step", error);
    }

    [Fact]
    public void Simulate_takes_step_with_a_trace_only()
    {
        (int code, string error) = CliWorkspace.Run("simulate", "--quiet", "--step", "5m");

        Assert.Equal(2, code);
        Assert.StartsWith("error: --step", error);

        string json = _workspace.Path("s.json");
        (code, error) = CliWorkspace.Run("simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "hpa", "--quiet", "--step", "1h", "--json", json);
        Assert.True(code == 0, error);
        JsonElement fills = Json(json).GetProperty("fills");
        Assert.Equal(3600, fills.GetProperty("stepSeconds").GetDouble());
        Assert.Equal(0, fills.GetProperty("filledSteps").GetInt64());
    }

    /// <summary>
    /// Melbourne's source has one 02:00 row for the two real 02:00 hours of each DST end: on the grid those are two
    /// missing steps, filled on the line between their neighbours, so the replayed demand (linear between rows) is
    /// the same as when they were gaps.
    /// </summary>
    [Fact]
    public void Filling_missing_steps_leaves_the_replayed_demand_unchanged()
    {
        ScenarioSpec spec = BuiltInScenarios.Load("melbourne");
        string trace = DataPaths.Resolve(spec.Trace, spec.Origin.BaseDirectory);
        string sourcesPath = DataPaths.Resolve(spec.Sources!, spec.Origin.BaseDirectory);
        TraceTable asRead = TraceReader.Read(trace);
        TraceTable onGrid = TraceReader.Read(trace, TraceSeries.Options(null));
        IReadOnlyList<Source> sources = SourcesReader.MatchColumns(
            SourcesReader.Read(sourcesPath), asRead.Keys.Select(k => k.Source).Distinct(StringComparer.Ordinal).ToList(), sourcesPath);

        SimulationScenario before = ScenarioBuilder.Build(spec, asRead, sources);
        SimulationScenario after = ScenarioBuilder.Build(spec, onGrid, sources);

        Assert.Equal(2, onGrid.Fills.FilledSteps);
        Assert.Equal(before.DurationSeconds, after.DurationSeconds);
        Assert.Contains(after.Warnings, w => w.Contains("in 2 missing steps of 3600 s", StringComparison.Ordinal));
        double dstEnd = (new DateTimeOffset(2021, 4, 4, 2, 0, 0, TimeSpan.FromHours(11)) - asRead.StartTime!.Value).TotalSeconds;
        IEnumerable<double> traceSeconds = Enumerable.Range(-180, 480).Select(m => dstEnd + (m * 60.0))
            .Concat(Enumerable.Range(0, 2000).Select(i => i * asRead.TimeSeconds[^1] / 2000));
        foreach (double t in traceSeconds)
        {
            double simTime = before.Demand.SimTimeAt(t);
            for (int app = 0; app < before.Demand.AppCount; app++)
            {
                double a = before.Demand.TotalRps(app, simTime);
                double b = after.Demand.TotalRps(app, simTime);
                Assert.True(Math.Abs(a - b) <= 1e-9 * Math.Max(1, a), $"app {app} at trace second {t}: {a} before, {b} after");
            }
        }
    }

    private static double[] FiveMinuteBuckets(int days, int fromDay)
    {
        string file = DataPaths.Resolve("data:nasa_http_jul1995/requests_per_second.csv.gz", Directory.GetCurrentDirectory());
        var buckets = new double[days * 288];
        using var reader = new StreamReader(new GZipStream(File.OpenRead(file), CompressionMode.Decompress));
        reader.ReadLine();
        long first = fromDay * 86_400L;
        while (reader.ReadLine() is string line)
        {
            int comma = line.IndexOf(',', StringComparison.Ordinal);
            long second = long.Parse(line.AsSpan(0, comma), CultureInfo.InvariantCulture) - first;
            if (second < 0)
            {
                continue;
            }

            if (second >= buckets.Length * (long)Step)
            {
                break;
            }

            buckets[second / Step] += double.Parse(line.AsSpan(comma + 1), CultureInfo.InvariantCulture);
        }

        return buckets;
    }
}
