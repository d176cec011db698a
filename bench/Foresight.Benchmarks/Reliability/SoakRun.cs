using System.Diagnostics;
using Foresight.Cli.Controller;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Simulation.Scenarios;

namespace Foresight.Benchmarks.Reliability;

/// <summary>
/// <c>soak --days N</c>: the <c>run --orchestrator simulated</c> engine and loop, in-process, over the bikenyc scenario,
/// one tick per <c>--tick-seconds</c> of simulated time as fast as the machine allows. Every trace day it records the
/// managed heap after a full GC, RSS, the journal's size and rows, and that day's tick durations. The clock the loop and
/// the journal see is simulated time, so the journal's max age is simulated time too.
/// </summary>
public static class SoakRun
{
    public sealed record Day(
        int TraceDay, double SimulatedSeconds, long Ticks, long ManagedBytes, long RssBytes, long JournalBytes, long JournalRows,
        double TickP50Ms, double TickP99Ms, double WallSeconds);

    public sealed record Result(
        string Scenario, double TimeScale, double TickSimulatedSeconds, int TraceDaysAsked, int TraceDaysRun, double SimulatedDays,
        double StartSimulatedSeconds, long Ticks, double TickP50Ms, double TickP99Ms, double TickMaxMs, string JournalMaxAge, int JournalMaxRows,
        double WallSeconds, string? StoppedBecause, IReadOnlyList<Day> Days);

    public static Result Run(Options o)
    {
        int days = (int)o.Number("days", 30, 1, 10_000);
        double tickSeconds = o.Number("tick-seconds", 60, 1, 86_400);
        string scenario = o.Text("scenario") ?? "bikenyc";
        double? timeScale = o.Text("time-scale") is null ? null : o.Number("time-scale", 60, 1, 86_400);
        var retention = new JournalRetention
        {
            MaxAge = o.Text("journal-max-age") is { } age && JournalRetention.TryParseAge(age, out TimeSpan a) ? a : JournalRetention.DefaultMaxAge,
            MaxRows = (int)o.Number("journal-max-rows", JournalRetention.DefaultMaxRows, 100, 100_000_000),
        };

        string scenarioPath = ScenarioFile(scenario, timeScale, out string? tempScenario);
        string journalPath = Path.Combine(Path.GetTempPath(), $"foresight-soak-{Environment.ProcessId}.db");
        ProcessFigures.DeleteJournal(journalPath);
        var clock = new ManualClock(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var wall = Stopwatch.StartNew();
        try
        {
            var config = new SimulatedConfig { Scenario = scenarioPath, SpeedUp = 1, MaxSecondsPerTick = tickSeconds, Forecaster = o.Text("forecaster") ?? "ets" };
            ReconcileJournal journal = ReconcileJournal.Open(journalPath, clock, retention);
            ControllerEngine engine = SimulatedEngine.Create(config, new PredictiveOptions(), journal);
            double scale = timeScale ?? BuiltInScale(scenario);
            double secondsPerTraceDay = 86_400 / scale;
            var loop = new ControllerLoop(engine, TimeSpan.FromSeconds(tickSeconds), dryRun: false, clock);
            Console.WriteLine($"soak: {scenario}, time scale {scale} (one trace day = {secondsPerTraceDay:F0} simulated s), {tickSeconds} simulated s per tick");
            double start = double.NaN;

            var all = new List<double>();
            var today = new List<double>();
            var records = new List<Day>();
            long ticks = 0;
            string? stopped = null;
            double nextDay = double.NaN;
            while (records.Count < days)
            {
                clock.Advance(TimeSpan.FromSeconds(tickSeconds));
                long t0 = Stopwatch.GetTimestamp();
                loop.TickAsync(CancellationToken.None).GetAwaiter().GetResult();
                double ms = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                all.Add(ms);
                today.Add(ms);
                ticks++;
                ControllerStatus status = loop.Status;
                if (loop.FailedTicks > 0)
                {
                    stopped = $"tick {status.Tick} failed: {status.Message}";
                    break;
                }

                double now = status.EngineSeconds;
                if (double.IsNaN(start))
                {
                    start = now - tickSeconds; // the first tick covered one tick of simulated time
                    nextDay = start + secondsPerTraceDay;
                }
                bool finished = status.Message?.Contains("finished", StringComparison.Ordinal) == true;
                if (now >= nextDay - 1e-9 || finished)
                {
                    var day = new Day(
                        records.Count + 1, now - start, ticks, ProcessFigures.ManagedBytesAfterFullGc(), ProcessFigures.RssBytes(),
                        ProcessFigures.FileBytes(journalPath), journal.Count, ProcessFigures.Percentile(today, 0.5), ProcessFigures.Percentile(today, 0.99),
                        wall.Elapsed.TotalSeconds);
                    records.Add(day);
                    today.Clear();
                    nextDay += secondsPerTraceDay;
                    Console.WriteLine(
                        $"day {day.TraceDay,4}  managed {day.ManagedBytes / 1048576.0,7:F1} MB  rss {day.RssBytes / 1048576.0,7:F1} MB  " +
                        $"journal {day.JournalBytes / 1024.0,8:F0} KB {day.JournalRows,7} rows  tick p50 {day.TickP50Ms,6:F2} ms p99 {day.TickP99Ms,7:F2} ms  ({day.WallSeconds:F0} s)");
                }

                if (finished)
                {
                    stopped = $"the scenario's trace ended after {records.Count} trace day(s)";
                    break;
                }
            }

            engine.DisposeAsync().AsTask().GetAwaiter().GetResult();
            double simulated = loop.Status.EngineSeconds - start;
            return new Result(
                scenario, scale, tickSeconds, days, records.Count, simulated / 86_400, start, ticks,
                ProcessFigures.Percentile(all, 0.5), ProcessFigures.Percentile(all, 0.99), all.Count == 0 ? 0 : all.Max(),
                retention.MaxAge.ToString(), retention.MaxRows, wall.Elapsed.TotalSeconds, stopped, records);
        }
        finally
        {
            ProcessFigures.DeleteJournal(journalPath);
            if (tempScenario is not null)
            {
                File.Delete(tempScenario);
            }
        }
    }

    private static double BuiltInScale(string scenario) =>
        BuiltInScenarios.Contains(scenario) ? BuiltInScenarios.Load(scenario).TimeScale : 60;

    /// <summary>The scenario as given, or a copy of a built-in one with another <c>timeScale</c>.</summary>
    private static string ScenarioFile(string scenario, double? timeScale, out string? temp)
    {
        temp = null;
        if (timeScale is null || !BuiltInScenarios.Contains(scenario))
        {
            return scenario;
        }

        string yaml = System.Text.RegularExpressions.Regex.Replace(
            BuiltInScenarios.Yaml(scenario), @"(?m)^timeScale:.*$", FormattableString.Invariant($"timeScale: {timeScale}"));
        temp = Path.Combine(Path.GetTempPath(), $"foresight-soak-{Environment.ProcessId}-{scenario}.yaml");
        File.WriteAllText(temp, yaml);
        return temp;
    }
}
