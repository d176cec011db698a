using Foresight.Simulation.Oracle;
using Foresight.Control.Decision;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Scenarios;
using Foresight.Core.Apps;

namespace Foresight.Simulation.Runner;

/// <summary>The result of running several policies on one scenario. Field names are part of the stable JSON contract.</summary>
public sealed record SimulationReport
{
    public required string Scenario { get; init; }

    public required string Description { get; init; }

    public required string Trace { get; init; }

    /// <summary>Trace seconds replayed per simulated second.</summary>
    public required double TimeScale { get; init; }

    public required int Seed { get; init; }

    public required double SimulatedSeconds { get; init; }

    public required double StepSeconds { get; init; }

    public required double TargetUtilization { get; init; }

    public required int Sites { get; init; }

    public required int Sources { get; init; }

    public required IReadOnlyList<string> Warnings { get; init; }

    public required IReadOnlyList<PolicyResult> Policies { get; init; }

    /// <summary>Wall-clock seconds for all policies together (they run in parallel).</summary>
    public required double WallSeconds { get; init; }
}

/// <summary>Runs the chosen policies on one scenario, each from the same initial state, trace and seed.</summary>
public static class ScenarioRunner
{
    public static IReadOnlyList<string> AvailablePolicies { get; } = ["static", "hpa", "kpa", "predictive", "predictive-nofeedback", "oracle"];

    /// <summary>Policies run when none are named.</summary>
    public static IReadOnlyList<string> DefaultPolicies { get; } = ["static", "hpa", "kpa", "predictive", "oracle"];

    /// <summary>Trace days the online forecasters observe before their first fit.</summary>
    public const double WarmupTraceDays = 2;

    /// <summary>Simulated seconds per forecast step of the predictive policies.</summary>
    public const double ForecastStepSeconds = 5;

    /// <summary>Policies the design names that this build cannot run yet, with the reason shown to users.</summary>
    public static IReadOnlyDictionary<string, string> PlannedPolicies { get; } = new Dictionary<string, string>();

    public static EngineSetup SetupFor(SimulationScenario scenario) =>
        new(scenario.Topology, scenario.Apps, scenario.Demand, scenario.StepSeconds, scenario.Seed,
            scenario.Demand.WallClockAt(0) ?? DateTimeOffset.UnixEpoch)
        {
            NetworkEvents = scenario.NetworkEvents,
        };

    /// <param name="predictiveForecaster">Builds the forecaster the predictive policies read (composed by the caller), with or without the feedback loop.</param>
    /// <param name="options">Thresholds of the predictive policies (defaults when null).</param>
    /// <param name="runName">The name the policy reports (e.g. a sweep point's); the policy's own name when null.</param>
    public static IScalingPolicy CreatePolicy(
        string name,
        SimulationScenario scenario,
        Func<SimulationScenario, bool, IDemandForecaster>? predictiveForecaster = null,
        PredictiveOptions? options = null,
        string? runName = null,
        ReactiveAlgorithm? reactive = null)
    {
        PredictiveOptions thresholds = options ?? new PredictiveOptions();
        string display = runName ?? name;
        Func<SimulationScenario, bool, IDemandForecaster> Forecaster() =>
            predictiveForecaster ?? throw new ArgumentException("The predictive policy needs a forecaster.", nameof(predictiveForecaster));
        return name switch
        {
            "predictive" => new PredictivePolicy(display, Forecaster()(scenario, true), thresholds)
            {
                RecordForecastTrace = true, RecordMigrations = true, ReactiveOverride = reactive,
            },
            "predictive-nofeedback" => new PredictivePolicy(display, Forecaster()(scenario, false), thresholds)
            {
                RecordForecastTrace = true, RecordMigrations = true, ReactiveOverride = reactive,
            },
            "static" => new StaticPolicy(FirstDayPeaks(scenario)) { Name = display },
            "hpa" => new HpaPolicy { Name = display },
            "kpa" => new KpaPolicy { Name = display },
            "oracle" => new PredictivePolicy(display, new OracleForecaster(
                scenario.Demand, scenario.Topology, SetupFor(scenario).Epoch, ForecastStepSeconds, HorizonSteps(scenario, thresholds)), thresholds)
            {
                RecordForecastTrace = true, RecordMigrations = true, ReactiveOverride = reactive,
            },
            _ => throw new ArgumentException($"Unknown policy '{name}'.", nameof(name)),
        };
    }

    /// <summary>The runs of a report: each policy once, or once per sweep value where the sweep varies it.</summary>
    /// <param name="equalCost">
    /// Also run each reactive baseline at <see cref="EqualCost.DefaultTargets"/> (unless a target-utilization sweep
    /// already does), for the equal-cost comparison; these runs come last and are named like sweep runs.
    /// </param>
    public static IReadOnlyList<PolicyRun> Expand(SimulationScenario scenario, IReadOnlyList<string> policies, Sweep? sweep = null, bool equalCost = false)
    {
        var defaults = new PredictiveOptions();
        var runs = new List<PolicyRun>();
        foreach (string policy in policies)
        {
            if (sweep is null || !sweep.Varies(policy))
            {
                runs.Add(new PolicyRun(policy, policy, scenario.TargetUtilization, defaults, null));
                continue;
            }

            foreach (double v in sweep.Values)
            {
                runs.Add(new PolicyRun(
                    sweep.NameOf(policy, v),
                    policy,
                    sweep.Parameter == Sweep.TargetUtilization ? v : scenario.TargetUtilization,
                    sweep.Apply(defaults, v),
                    new SweepPoint(policy, sweep.Parameter, v)));
            }
        }

        if (equalCost && sweep?.Parameter != Sweep.TargetUtilization)
        {
            var curve = new Sweep(Sweep.TargetUtilization, EqualCost.DefaultTargets);
            foreach (string baseline in EqualCost.Baselines)
            {
                foreach (double v in EqualCost.DefaultTargets.Append(scenario.TargetUtilization).Distinct())
                {
                    // The baseline's own run already sits on its curve at the scenario's target.
                    if (v == scenario.TargetUtilization && policies.Contains(baseline))
                    {
                        continue;
                    }

                    runs.Add(new PolicyRun(curve.NameOf(baseline, v), baseline, v, defaults, new SweepPoint(baseline, Sweep.TargetUtilization, v)));
                }
            }
        }

        return runs;
    }

    public static SimulationReport Run(
        SimulationScenario scenario,
        IReadOnlyList<string> policies,
        Action<string, double>? progress = null,
        double? durationSeconds = null,
        Func<SimulationScenario, bool, IDemandForecaster>? predictiveForecaster = null,
        Faults.FaultSettings? faults = null,
        Sweep? sweep = null,
        bool equalCost = false,
        ReactiveAlgorithm? reactive = null)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew(); // reports the simulator's own speed
        EngineSetup setup = SetupFor(scenario);
        var settings = new RunSettings
        {
            DurationSeconds = Math.Min(durationSeconds ?? scenario.DurationSeconds, scenario.DurationSeconds),
            TargetUtilization = scenario.TargetUtilization,
            Faults = faults,
            ObserveNetwork = scenario.Spec.NetworkObserved,
        };
        IReadOnlyList<PolicyRun> runs = Expand(scenario, policies, sweep, equalCost);
        var results = new PolicyResult[runs.Count];
        Parallel.For(0, runs.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            PolicyRun run = runs[i];
            IScalingPolicy policy = CreatePolicy(run.Policy, scenario, predictiveForecaster, run.Options, run.Name, reactive);
            var reporter = new Progress(p => progress?.Invoke(run.Name, p));
            PolicyResult result = SimulationRunner.Run(setup, settings with { TargetUtilization = run.TargetUtilization }, policy, reporter);
            result = result with { Sweep = run.Point };
            results[i] = scenario.RegimeChangeSeconds is double change ? result with { Regime = Split(scenario, result, change) } : result;
        });

        CompareMigrations(scenario, results);
        if (equalCost || sweep?.Parameter == Sweep.TargetUtilization)
        {
            EqualCost.Attach(results);
        }

        return new SimulationReport
        {
            Scenario = scenario.Name,
            Description = scenario.Description,
            Trace = scenario.TraceName,
            TimeScale = scenario.TimeScale,
            Seed = scenario.Seed,
            SimulatedSeconds = settings.DurationSeconds,
            StepSeconds = scenario.StepSeconds,
            TargetUtilization = scenario.TargetUtilization,
            Sites = scenario.Topology.SiteCount,
            Sources = scenario.Topology.Sources.Count,
            Warnings = scenario.Warnings,
            Policies = results,
            WallSeconds = wall.Elapsed.TotalSeconds,
        };
    }

    /// <summary>
    /// Puts each predictive run's migrations against hpa's run at the same sites and windows (both replayed the same
    /// arrivals): per record, and over the union of the windows per (app, site) so overlapping windows count once.
    /// Runs without an hpa run at the same target utilization are left as they are.
    /// </summary>
    public static void CompareMigrations(SimulationScenario scenario, PolicyResult[] results)
    {
        for (int i = 0; i < results.Length; i++)
        {
            PolicyResult run = results[i];
            if (run.PredictiveMigrations is not { } report || run.SiteStats is not { } mine)
            {
                continue;
            }

            PolicyResult? hpa = results.FirstOrDefault(r =>
                r.SiteStats is not null && (r.Sweep?.Policy ?? r.Name) == "hpa"
                && (r.Sweep is null || run.Sweep is null || (r.Sweep.Parameter == run.Sweep.Parameter && r.Sweep.Value == run.Sweep.Value))
                && !(run.Sweep is null && r.Sweep is { Parameter: Sweep.TargetUtilization } at && at.Value != scenario.TargetUtilization));
            if (hpa?.SiteStats is not { } theirs)
            {
                continue;
            }

            results[i] = run with { PredictiveMigrations = MigrationComparison.Compare(report, scenario, mine, theirs) };
        }
    }

    /// <summary>Simulated seconds before the online forecasters' first fit.</summary>
    public static double WarmupSeconds(SimulationScenario scenario) =>
        Math.Min(WarmupTraceDays * 86_400 / scenario.TimeScale, scenario.DurationSeconds / 5);

    /// <summary>
    /// SLO violations (over-SLO plus dropped requests) before and after the regime change, from the per-minute timeline.
    /// "Before" starts when the forecasters have warmed up, so every policy is compared over the same window.
    /// </summary>
    public static RegimeSplit Split(SimulationScenario scenario, PolicyResult result, double changeAt)
    {
        double from = Math.Min(WarmupSeconds(scenario), changeAt);
        double day = 86_400 / scenario.TimeScale;
        double settled = changeAt + day;
        double[] sums = new double[6];
        var daily = new SortedDictionary<int, (double Requests, double Violations)>();
        foreach (TimelineSample s in result.Timeline)
        {
            int k = s.TimeSeconds < from ? -1 : s.TimeSeconds < changeAt ? 0 : 2;
            if (k >= 0)
            {
                sums[k] += s.Requests;
                sums[k + 1] += s.SloViolations + s.Dropped;
            }

            if (s.TimeSeconds >= settled)
            {
                sums[4] += s.Requests;
                sums[5] += s.SloViolations + s.Dropped;
            }

            int d = (int)Math.Floor(s.TimeSeconds / day);
            daily[d] = daily.TryGetValue(d, out var v) ? (v.Requests + s.Requests, v.Violations + s.SloViolations + s.Dropped) : (s.Requests, s.SloViolations + s.Dropped);
        }

        static double Rate(double violations, double requests) => requests > 0 ? Math.Min(1, violations / requests) : 0;
        return new RegimeSplit(
            changeAt,
            from,
            Rate(sums[1], sums[0]),
            Rate(sums[3], sums[2]),
            Rate(sums[5], sums[4]),
            daily.Select(p => new[] { p.Key * day, Rate(p.Value.Violations, p.Value.Requests) }).ToList());
    }

    /// <summary>Forecast steps that cover the slowest app's lead time plus the hold window.</summary>
    public static int HorizonSteps(SimulationScenario scenario, PredictiveOptions options)
    {
        double longest = scenario.Apps.Max(a => PredictiveFloor.LeadTimeSeconds(a, options)) + options.HoldSeconds;
        return (int)Math.Ceiling(longest / ForecastStepSeconds) + 1;
    }

    /// <summary>
    /// Peak demand per (app, ingress site) over the first trace day (or the first tenth of a shorter run): the history
    /// an operator would size static capacity from.
    /// </summary>
    public static Func<int, int, double> FirstDayPeaks(SimulationScenario scenario)
    {
        int apps = scenario.Apps.Count;
        int sites = scenario.Topology.SiteCount;
        var peaks = new double[apps, sites];
        double window = Math.Min(86_400 / scenario.TimeScale, Math.Max(scenario.DurationSeconds / 10, scenario.StepSeconds));
        double stride = Math.Max(scenario.StepSeconds, window / 2000);
        var rates = new double[scenario.Topology.Sources.Count];
        var ingress = new double[sites];
        for (int a = 0; a < apps; a++)
        {
            for (double t = 0; t <= window; t += stride)
            {
                scenario.Demand.FillRates(a, t, rates);
                Array.Clear(ingress);
                for (int s = 0; s < rates.Length; s++)
                {
                    ingress[scenario.Topology.IngressSite[s]] += rates[s];
                }

                for (int s = 0; s < sites; s++)
                {
                    peaks[a, s] = Math.Max(peaks[a, s], ingress[s]);
                }
            }
        }

        return (a, s) => peaks[a, s];
    }

    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }
}
