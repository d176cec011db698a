using Foresight.Control.Decision;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Policies;
using Foresight.Simulation.Policies.Predictive;
using Foresight.Simulation.Scenarios;

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

    /// <summary>Simulated seconds per forecast step of the predictive policies.</summary>
    public const double ForecastStepSeconds = 5;

    /// <summary>Policies the design names that this build cannot run yet, with the reason shown to users.</summary>
    public static IReadOnlyDictionary<string, string> PlannedPolicies { get; } = new Dictionary<string, string>();

    public static EngineSetup SetupFor(SimulationScenario scenario) =>
        new(scenario.Topology, scenario.Apps, scenario.Demand, scenario.StepSeconds, scenario.Seed,
            scenario.Demand.WallClockAt(0) ?? DateTimeOffset.UnixEpoch);

    /// <param name="predictiveForecaster">Builds the forecaster the predictive policies read (composed by the caller), with or without the feedback loop.</param>
    public static IScalingPolicy CreatePolicy(string name, SimulationScenario scenario, Func<SimulationScenario, bool, IDemandForecaster>? predictiveForecaster = null) => name switch
    {
        "predictive" => new PredictivePolicy("predictive", (predictiveForecaster
            ?? throw new ArgumentException("The predictive policy needs a forecaster.", nameof(predictiveForecaster)))(scenario, true)),
        "predictive-nofeedback" => new PredictivePolicy("predictive-nofeedback", (predictiveForecaster
            ?? throw new ArgumentException("The predictive policy needs a forecaster.", nameof(predictiveForecaster)))(scenario, false)),
        "static" => new StaticPolicy(FirstDayPeaks(scenario)),
        "hpa" => new HpaPolicy(),
        "kpa" => new KpaPolicy(),
        "oracle" => new PredictivePolicy("oracle", new OracleForecaster(
            scenario.Demand, scenario.Topology, SetupFor(scenario).Epoch, ForecastStepSeconds, HorizonSteps(scenario, new PredictiveOptions()))),
        _ => throw new ArgumentException($"Unknown policy '{name}'.", nameof(name)),
    };

    public static SimulationReport Run(
        SimulationScenario scenario,
        IReadOnlyList<string> policies,
        Action<string, double>? progress = null,
        double? durationSeconds = null,
        Func<SimulationScenario, bool, IDemandForecaster>? predictiveForecaster = null,
        Faults.FaultSettings? faults = null)
    {
        var wall = System.Diagnostics.Stopwatch.StartNew(); // reports the simulator's own speed
        EngineSetup setup = SetupFor(scenario);
        var settings = new RunSettings
        {
            DurationSeconds = Math.Min(durationSeconds ?? scenario.DurationSeconds, scenario.DurationSeconds),
            TargetUtilization = scenario.TargetUtilization,
            Faults = faults,
        };
        var results = new PolicyResult[policies.Count];
        Parallel.For(0, policies.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            IScalingPolicy policy = CreatePolicy(policies[i], scenario, predictiveForecaster);
            var reporter = new Progress(p => progress?.Invoke(policies[i], p));
            results[i] = SimulationRunner.Run(setup, settings, policy, reporter);
        });

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
