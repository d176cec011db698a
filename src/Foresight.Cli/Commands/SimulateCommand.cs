using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Foresight.Control.Decision;
using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;
using Foresight.Ingest;
using Foresight.Simulation.Faults;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;
using Spectre.Console;

namespace Foresight.Cli.Commands;

/// <summary><c>foresight simulate</c>: replays a trace in the embedded edge simulator under each policy and compares them.</summary>
public static class SimulateCommand
{
    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static Command Create()
    {
        var scenario = new Option<string?>("--scenario")
        {
            Description = $"Built-in scenario ({string.Join(", ", BuiltInScenarios.Names)}) or a scenario YAML file. Default: {BuiltInScenarios.Default}.",
        };
        var trace = new Option<string?>("--trace") { Description = "A trace (wide or long CSV, optionally gzip) replacing the scenario's trace." };
        var sources = new Option<string?>("--sources") { Description = "A sources file with coordinates for the trace's columns." };
        var policies = new Option<string>("--policies")
        {
            Description = $"Comma-separated policies: {string.Join(",", ScenarioRunner.AvailablePolicies)}.",
            DefaultValueFactory = _ => string.Join(",", ScenarioRunner.DefaultPolicies),
        };
        var seed = new Option<int?>("--seed") { Description = "Random seed (default: the scenario's)." };
        var json = new Option<string?>("--json") { Description = "Write machine-readable results to this file." };
        var duration = new Option<string?>("--duration")
        {
            Description = "Replay only the first part of the trace, in trace time: e.g. 7d, 36h, 90m or 3600 (seconds).",
        };
        var timeScale = new Option<double?>("--time-scale") { Description = "Trace seconds replayed per simulated second." };
        var htmlReport = new Option<string?>("--report") { Description = "Write a self-contained HTML report with plots to this file (FILE.html)." };
        var forecaster = new Option<string>("--forecaster")
        {
            Description = $"The model the predictive policy learns online: seasonal-naive, ets, lstm, gru, {GlobalModel.ModelName} (pretrained, fine-tuned per app) or {PredictiveForecasting.GlobalPlusEts} (its quantile average with ets).",
            DefaultValueFactory = _ => PredictiveForecasting.DefaultModel,
        };
        var pretrained = new Option<string?>("--pretrained") { Description = $"The {GlobalModel.ModelName} model file (default: the one shipped, {GlobalModel.ShippedFile})." };
        var quiet = new Option<bool>("--quiet") { Description = "No progress bars or tables; only errors and the JSON file." };
        var prometheus = new PrometheusHistoryOptions();
        var faults = new Option<string?>("--faults")
        {
            Description = "Inject orchestrator faults into every policy's run: api=P,spinup=P,stall=P,server=ID@SECONDS,seed=N.",
        };

        var sweep = new Option<string?>("--sweep")
        {
            Description = $"Run the policies over a range of one parameter, for a latency/cost (Pareto) trade-off: PARAMETER=V1,V2,... with PARAMETER one of {string.Join(", ", Sweep.Parameters)}.",
        };
        var equalCost = new Option<bool>("--equal-cost")
        {
            Description = "Also run hpa and kpa at target utilizations 0.5 to 1.0 (unless a target-utilization sweep does) and report, per predictive run, " +
                "their SLO-violation rate and p99 at its cost.",
        };
        var reactive = new Option<string?>("--reactive")
        {
            Description = "The predictive policies' safety net for every app, over the scenario's choice: hpa or kpa (Knative, with panic mode).",
        };
        var calibration = new Option<string>("--calibration")
        {
            Description = "Rolling conformal calibration of the predictive policy's forecast quantiles in the loop: on or off.",
            DefaultValueFactory = _ => "on",
        };
        var command = new Command("simulate", "Replay a trace in the simulated edge cluster and compare policies.")
        {
            scenario, trace, sources, policies, seed, json, duration, timeScale, quiet, htmlReport, forecaster, faults, sweep, equalCost, reactive, pretrained, calibration,
        };
        foreach (Option option in prometheus.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(parse => Execute(new SimulateArgs(
            parse.GetValue(scenario),
            parse.GetValue(trace),
            parse.GetValue(sources),
            parse.GetValue(policies)!,
            parse.GetValue(seed),
            parse.GetValue(json),
            parse.GetValue(duration),
            parse.GetValue(timeScale),
            parse.GetValue(quiet),
            parse.GetValue(htmlReport),
            parse.GetValue(forecaster) ?? PredictiveForecasting.DefaultModel,
            prometheus.Bind(parse),
            parse.GetValue(faults),
            parse.GetValue(sweep),
            prometheus.TraceStep(parse),
            parse.GetValue(equalCost),
            parse.GetValue(reactive),
            parse.GetValue(pretrained),
            PredictiveForecasting.ParseCalibration(parse.GetValue(calibration)))));
        return command;
    }

    public sealed record SimulateArgs(
        string? Scenario,
        string? Trace,
        string? Sources,
        string Policies,
        int? Seed,
        string? Json,
        string? Duration,
        double? TimeScale,
        bool Quiet,
        string? Report = null,
        string Forecaster = PredictiveForecasting.DefaultModel,
        PrometheusHistoryArgs? Prometheus = null,
        string? Faults = null,
        string? Sweep = null,
        string? Step = null,
        bool EqualCost = false,
        string? Reactive = null,
        string? Pretrained = null,
        bool Calibration = true);

    public static int Execute(SimulateArgs args)
    {
        IReadOnlyList<string> policies = ParsePolicies(args.Policies);
        SimulationScenario scenario = LoadScenario(args, out FillReport fills);
        foreach (string warning in scenario.Warnings)
        {
            Console.Error.WriteLine($"warning: {warning}");
        }

        if (!PredictiveForecasting.Models.Contains(args.Forecaster))
        {
            throw new InvalidInputException("--forecaster", $"unknown model '{args.Forecaster}'; choose from {string.Join(", ", PredictiveForecasting.Models)}");
        }

        if (PredictiveForecasting.UsesPretrained(args.Forecaster))
        {
            GlobalModel.Load(args.Pretrained, ScenarioRunner.HorizonSteps(scenario, new PredictiveOptions())); // a bad file fails here, before any run
        }

        FaultSettings? faults = args.Faults is null ? null : FaultSettings.Parse(args.Faults, scenario.Topology);
        Sweep? sweep = args.Sweep is null ? null : Sweep.Parse(args.Sweep);
        ReactiveAlgorithm? reactive = null;
        if (args.Reactive is not null)
        {
            reactive = ReactiveAlgorithms.TryParse(args.Reactive, out ReactiveAlgorithm chosen)
                ? chosen
                : throw new InvalidInputException("--reactive", $"'{args.Reactive}' is not a reactive algorithm; choose {string.Join(" or ", ReactiveAlgorithms.Names)}");
        }
        Func<SimulationScenario, bool, IDemandForecaster> forecaster = (s, feedback) => PredictiveForecasting.For(s, args.Forecaster, feedback, args.Pretrained, args.Calibration);
        SimulationReport report = args.Quiet || Console.IsOutputRedirected
            ? ScenarioRunner.Run(scenario, policies, predictiveForecaster: forecaster, faults: faults, sweep: sweep, equalCost: args.EqualCost, reactive: reactive)
            : RunWithProgress(scenario, policies, forecaster, faults, sweep, args.EqualCost, reactive);

        if (!args.Quiet)
        {
            Print(report);
        }

        if (args.Json is not null)
        {
            WriteJson(args.Json, report, TraceFills.From(fills));
        }

        if (args.Report is not null)
        {
            IReadOnlyList<string> siteNames = scenario.Topology.Sites.Select(s => s.Id).ToList();
            Reports.HtmlReport.Write(report, args.Report, new Reports.HtmlReportOptions(siteNames, Reports.ForecastSection.From(report, siteNames)));
        }

        return ExitCodes.Ok;
    }

    public static SimulationScenario LoadScenario(SimulateArgs args) => LoadScenario(args, out _);

    /// <param name="fills">How the trace was put on its grid and filled (its missing steps and empty cells).</param>
    public static SimulationScenario LoadScenario(SimulateArgs args, out FillReport fills)
    {
        ScenarioSpec spec = LoadSpec(args.Scenario);
        if (args.Trace is not null)
        {
            spec = spec with { Trace = Path.GetFullPath(args.Trace), Sources = args.Sources is null ? null : Path.GetFullPath(args.Sources) };
        }
        else if (args.Sources is not null)
        {
            spec = spec with { Sources = Path.GetFullPath(args.Sources) };
        }

        if (args.Seed is int s)
        {
            spec = spec with { Seed = s };
        }

        // History from Prometheus replaces the trace file and is treated like a foreign --trace.
        if (args.Prometheus is not null && args.Trace is not null)
        {
            throw new InvalidInputException("--prometheus", "give either --trace FILE or --prometheus URL, not both");
        }

        if (args.Step is not null && args.Trace is null)
        {
            throw new InvalidInputException("--step", "is only used with --prometheus URL (the query's step) or --trace FILE (the trace's step)");
        }

        bool foreignTrace = args.Trace is not null || args.Prometheus is not null;
        TraceTable table;
        if (args.Prometheus is not null)
        {
            table = PrometheusHistoryOptions.Read(args.Prometheus);
        }
        else
        {
            // Every trace file goes on a regular grid, as for backtest, train and forecast: a missing step is filled
            // like an empty cell, which leaves the replayed demand (linear between rows) as it was.
            string tracePath = DataPaths.Resolve(spec.Trace, spec.Origin.BaseDirectory);
            RequireFile(tracePath, "--trace");
            table = TraceReader.Read(tracePath, TraceSeries.Options(TraceSeries.ParseStep(args.Step)));
        }

        fills = table.Fills;

        if (args.TimeScale is double scale)
        {
            if (!(scale > 0) || double.IsInfinity(scale))
            {
                throw new InvalidInputException("--time-scale", "must be a positive number of trace seconds per simulated second");
            }

            spec = spec with { TimeScale = scale };
        }
        else if (foreignTrace && args.Scenario is null)
        {
            // A foreign trace with the default scenario's apps: replay one trace row per simulated minute when rows are
            // coarse (hourly data), and in real time when they are fine-grained.
            spec = spec with { TimeScale = table.StepSeconds >= 300 ? table.StepSeconds / 60 : 1 };
        }

        if (args.Duration is not null)
        {
            spec = spec with { TraceDuration = ParseDuration(args.Duration) };
        }

        List<string> notes = [];
        if (foreignTrace && args.Scenario is null)
        {
            spec = AdoptTraceApps(spec, table, notes);
        }

        IReadOnlyList<Source>? sourceList = null;
        if (spec.Sources is not null)
        {
            string sourcesPath = DataPaths.Resolve(spec.Sources, spec.Origin.BaseDirectory);
            RequireFile(sourcesPath, "--sources");
            sourceList = SourcesReader.MatchColumns(
                SourcesReader.Read(sourcesPath),
                table.Keys.Select(k => k.Source).Distinct(StringComparer.Ordinal).ToList(),
                sourcesPath);
        }

        SimulationScenario built = ScenarioBuilder.Build(spec, table, sourceList);
        return notes.Count == 0 ? built : new SimulationScenario
        {
            Name = built.Name,
            Description = built.Description,
            Spec = built.Spec,
            TraceName = built.TraceName,
            Topology = built.Topology,
            Apps = built.Apps,
            TimeScale = built.TimeScale,
            DurationSeconds = built.DurationSeconds,
            StepSeconds = built.StepSeconds,
            Seed = built.Seed,
            TargetUtilization = built.TargetUtilization,
            Demand = built.Demand,
            RegimeChangeSeconds = built.RegimeChangeSeconds,
            Warnings = [.. notes, .. built.Warnings],
        };
    }

    /// <summary>
    /// A long trace names its own apps. Without a scenario file, each trace app takes the QoS profile of the default
    /// scenario's app in the same position (cycling), under its own name, so any trace can be replayed as it is.
    /// </summary>
    private static ScenarioSpec AdoptTraceApps(ScenarioSpec spec, TraceTable table, List<string> notes)
    {
        var traceApps = table.Keys.Select(k => k.App).Where(a => a != TraceTable.AnyApp).Distinct(StringComparer.Ordinal).ToList();
        if (traceApps.Count == 0)
        {
            return spec;
        }

        var apps = traceApps.Select((name, i) =>
        {
            AppSpec template = spec.Apps[i % spec.Apps.Count];
            notes.Add($"app '{name}' from the trace uses the '{template.Name}' profile of the default scenario (give --scenario to choose profiles)");
            return template with { Profile = template.Profile with { Name = name }, Share = null };
        }).ToList();
        return spec with { Apps = apps };
    }

    private static ScenarioSpec LoadSpec(string? scenario)
    {
        if (scenario is null)
        {
            return BuiltInScenarios.Load(BuiltInScenarios.Default);
        }

        if (BuiltInScenarios.Contains(scenario))
        {
            return BuiltInScenarios.Load(scenario);
        }

        if (File.Exists(scenario))
        {
            return ScenarioLoader.LoadFile(scenario);
        }

        throw new InvalidInputException(
            "--scenario",
            $"'{scenario}' is neither a built-in scenario ({string.Join(", ", BuiltInScenarios.Names)}) nor an existing file");
    }

    private static void RequireFile(string path, string option)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException(option, $"file '{path}' does not exist");
        }
    }

    public static IReadOnlyList<string> ParsePolicies(string text)
    {
        var names = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(n => n.ToLowerInvariant())
            .ToList();
        if (names.Count == 0)
        {
            throw new InvalidInputException("--policies", "name at least one policy");
        }

        foreach (string name in names)
        {
            if (ScenarioRunner.PlannedPolicies.TryGetValue(name, out string? why))
            {
                throw new InvalidInputException("--policies", $"policy '{name}' is not available in this build: {why}");
            }

            if (!ScenarioRunner.AvailablePolicies.Contains(name))
            {
                throw new InvalidInputException(
                    "--policies", $"unknown policy '{name}'; choose from {string.Join(", ", ScenarioRunner.AvailablePolicies)}");
            }
        }

        if (names.Distinct().Count() != names.Count)
        {
            throw new InvalidInputException("--policies", "a policy is named twice");
        }

        return names;
    }

    /// <summary>Parses a trace-time duration: plain seconds, or a number with s, m, h or d.</summary>
    public static double ParseDuration(string text)
    {
        string t = text.Trim().ToLowerInvariant();
        double unit = 1;
        if (t.Length > 0 && char.IsLetter(t[^1]))
        {
            unit = t[^1] switch
            {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => double.NaN,
            };
            t = t[..^1];
        }

        if (double.IsNaN(unit) || !double.TryParse(t, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value)
            || !(value > 0) || double.IsInfinity(value))
        {
            throw new InvalidInputException("--duration", $"'{text}' is not a positive duration such as 7d, 36h, 90m or 3600");
        }

        return value * unit;
    }

    private static SimulationReport RunWithProgress(
        SimulationScenario scenario,
        IReadOnlyList<string> policies,
        Func<SimulationScenario, bool, IDemandForecaster> forecaster,
        FaultSettings? faults,
        Sweep? sweep,
        bool equalCost,
        ReactiveAlgorithm? reactive)
    {
        SimulationReport? report = null;
        AnsiConsole.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var tasks = ScenarioRunner.Expand(scenario, policies, sweep, equalCost)
                    .ToDictionary(r => r.Name, r => ctx.AddTask($"{scenario.Name} · {r.Name}", maxValue: 1));
                report = ScenarioRunner.Run(
                    scenario, policies, (policy, fraction) => tasks[policy].Value = fraction, predictiveForecaster: forecaster, faults: faults, sweep: sweep, equalCost: equalCost, reactive: reactive);
            });
        return report!;
    }

    private static void Print(SimulationReport report)
    {
        if (Console.IsOutputRedirected)
        {
            // A log file or pipe has no terminal width; keep each policy on one line.
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 132);
        }

        AnsiConsole.MarkupLine(
            $"[bold]{Markup.Escape(report.Scenario)}[/]: {report.Sources} sources, {report.Sites} sites, time scale {report.TimeScale:G4} " +
            $"(trace s per simulated s), {report.SimulatedSeconds:N0} simulated s, seed {report.Seed}, target utilization {report.TargetUtilization:P0}");
        var table = new Table().Border(TableBorder.Rounded);
        foreach (string column in new[] { "policy", "p50 ms", "p95 ms", "p99 ms", "SLO viol.", "dropped", "requests", "instance·s", "migrations", "scale events" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (PolicyResult p in report.Policies)
        {
            table.AddRow(
                p.Name,
                $"{p.LatencyP50Ms:F1}",
                $"{p.LatencyP95Ms:F1}",
                $"{p.LatencyP99Ms:F1}",
                $"{p.SloViolationRate:P2}",
                Compact(p.DroppedRequests),
                Compact(p.Requests),
                Compact(p.InstanceSeconds),
                $"{p.Migrations:N0}",
                $"{p.ScaleEvents:N0}");
        }

        AnsiConsole.Write(table);
        PrintEqualCost(report);
        PrintMigrations(report);
        AnsiConsole.MarkupLine($"[grey]simulated in {report.WallSeconds:F1} s wall clock[/]");
    }

    /// <summary>Each predictive run against what each baseline would give at its cost (interpolated on the baseline's curve).</summary>
    private static void PrintEqualCost(SimulationReport report)
    {
        var runs = report.Policies.Where(p => p.EqualCost is { Count: > 0 }).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("at equal cost");
        foreach (string column in new[] { "policy", "instance·s", "SLO viol.", "p99 ms", "baseline", "its SLO viol.", "its p99 ms", "its curve (instance·s)", "note" })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (PolicyResult p in runs)
        {
            bool first = true;
            foreach (EqualCostPoint e in p.EqualCost!)
            {
                table.AddRow(
                    first ? p.Name : "",
                    first ? Compact(p.InstanceSeconds) : "",
                    first ? $"{p.SloViolationRate:P2}" : "",
                    first ? $"{p.LatencyP99Ms:F1}" : "",
                    e.Baseline,
                    e.SloViolationRate is double slo ? $"{slo:P2}" : "—",
                    e.LatencyP99Ms is double p99 ? $"{p99:F1}" : "—",
                    $"{Compact(e.CostMin)}–{Compact(e.CostMax)} ({e.Runs} runs)",
                    Markup.Escape(e.Note ?? ""));
                first = false;
            }
        }

        AnsiConsole.Write(table);
    }

    /// <summary>The forecast's spin-ups and migrations per predictive run: counts, lead times and latency against hpa.</summary>
    private static void PrintMigrations(SimulationReport report)
    {
        var runs = report.Policies.Where(p => p.PredictiveMigrations is not null).ToList();
        if (runs.Count == 0)
        {
            return;
        }

        var table = new Table().Border(TableBorder.Rounded).Title("forecast-driven migrations and spin-ups");
        foreach (string column in new[]
        {
            "policy", "count", "moves", "spin-ups", "real", "false alarms", "early", "lead p10 / p50 / p90 s",
            "SLO viol. vs hpa", "mean ms vs hpa", "saved ms",
        })
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (PolicyResult p in runs)
        {
            MigrationReport m = p.PredictiveMigrations!;
            WindowComparison? c = m.VsHpa;
            table.AddRow(
                p.Name,
                $"{m.Count:N0}",
                $"{m.Moves:N0}",
                $"{m.SpinUps:N0}",
                $"{m.Real:N0}",
                $"{m.FalseAlarms:N0}",
                $"{m.Early:N0}",
                m.LeadTimeSeconds.Count == 3 ? $"{m.LeadTimeSeconds[0]:F0} / {m.LeadTimeSeconds[1]:F0} / {m.LeadTimeSeconds[2]:F0}" : "—",
                c is null ? "—" : $"{c.SloViolationRate:P2} / {c.HpaSloViolationRate:P2}",
                c is null ? "—" : $"{c.MeanLatencyMs:F1} / {c.HpaMeanLatencyMs:F1}",
                c is null ? "—" : $"{c.LatencySavedMs:F1}");
            foreach (AppMigrations app in m.ByApp)
            {
                WindowComparison? v = app.VsHpa;
                table.AddRow(
                    Markup.Escape($"· {app.App}"),
                    $"{app.Count:N0}",
                    "",
                    "",
                    $"{app.Real:N0}",
                    $"{app.FalseAlarms:N0}",
                    "",
                    app.LeadTimeSeconds.Count == 3 ? $"{app.LeadTimeSeconds[0]:F0} / {app.LeadTimeSeconds[1]:F0} / {app.LeadTimeSeconds[2]:F0}" : "—",
                    v is null ? "—" : $"{v.SloViolationRate:P2} / {v.HpaSloViolationRate:P2}",
                    v is null ? "—" : $"{v.MeanLatencyMs:F1} / {v.HpaMeanLatencyMs:F1}",
                    v is null ? "—" : $"{v.LatencySavedMs:F1}");
            }
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine(
            "[grey]lead = when the demand at the target rose past its previous capacity − when the raised capacity was ready " +
            "(positive: early); SLO and latency over the windows after each rise, at the target site, against hpa in the same run[/]");
    }

    /// <summary>Large counts as 12.3k / 4.56M / 1.23G so the table stays readable.</summary>
    public static string Compact(double value) => Math.Abs(value) switch
    {
        >= 1e9 => $"{value / 1e9:0.00}G",
        >= 1e6 => $"{value / 1e6:0.00}M",
        >= 1e4 => $"{value / 1e3:0.0}k",
        _ => $"{value:N0}",
    };

    private static void WriteJson(string path, SimulationReport report, TraceFills fills)
    {
        try
        {
            string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
            if (dir is not null)
            {
                Directory.CreateDirectory(dir);
            }

            // The report's own fields, then how the trace was filled (a CLI concern: the runner never sees the file).
            JsonObject root = JsonSerializer.SerializeToNode(report, Json)!.AsObject();
            root["fills"] = JsonSerializer.SerializeToNode(fills, Json);
            File.WriteAllText(path, root.ToJsonString(Json));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException("--json", $"cannot write '{path}': {e.Message}");
        }
    }
}
