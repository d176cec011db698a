using System.Diagnostics;
using Foresight.Control.Faults;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Faults;
using Foresight.Control.Policies;

namespace Foresight.Simulation.Runner;

public sealed record RunSettings
{
    /// <summary>Simulated seconds to run.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>The target utilization every policy shares.</summary>
    public double TargetUtilization { get; init; } = 0.7;

    /// <summary>How often the shared reconciler re-reads desired and actual state (and re-plans routes).</summary>
    public double ReconcilePeriodSeconds { get; init; } = 5;

    /// <summary>Window of observed arrivals the routing uses.</summary>
    public double RoutingWindowSeconds { get; init; } = 10;

    /// <summary>Orchestrator faults to inject; null runs the fault-free path exactly as before.</summary>
    public FaultSettings? Faults { get; init; }

    /// <summary>
    /// Simulated seconds of per-bucket history (timelines, per-site windows, stopped instances) kept for a long-running
    /// controller; null keeps everything, as a batch run's report needs. See design note 0017.
    /// </summary>
    public double? HistorySeconds { get; init; }

    /// <summary>
    /// Whether policies and routing see the live network (<see cref="Engine.EdgeSimulator.Network"/>); false is the
    /// network-blind ablation (<c>network.observed: false</c>), which places and routes by static distance.
    /// </summary>
    public bool ObserveNetwork { get; init; } = true;
}

/// <summary>Runs one policy over one simulated scenario from the shared initial state.</summary>
public static class SimulationRunner
{
    public static PolicyResult Run(EngineSetup setup, RunSettings settings, IScalingPolicy policy, IProgress<double>? progress = null)
    {
        var wall = Stopwatch.StartNew(); // measures the simulator's own speed, not simulated time
        var session = new SimulationSession(setup, settings, policy);
        long totalSteps = (long)Math.Ceiling(settings.DurationSeconds / setup.StepSeconds);
        long progressEvery = Math.Max(1, totalSteps / 200);
        for (long step = 0; step < totalSteps; step++)
        {
            session.Step();
            if (progress is not null && step % progressEvery == 0)
            {
                progress.Report((double)step / totalSteps);
            }
        }

        progress?.Report(1);
        PolicyResult result = Summarize(policy.Name, session.Simulator, session.Timeline, session.Migrations, session.ScaleEvents, wall.Elapsed.TotalSeconds)
            with { SiteStats = session.Simulator.SiteStats };
        if (session.Injector is { } injector)
        {
            result = result with
            {
                Faults = injector.Total,
                Retries = session.Resilient!.Retries,
                SpinUpFailures = session.SpinUpFailures,
                StartupTimeouts = session.StartupTimeouts,
                FailedCommands = session.FailedCommands,
            };
        }

        if (policy is Control.Policies.Predictive.PredictivePolicy predictive)
        {
            result = result with
            {
                ForecastTrace = predictive.BuildForecastTrace(session.Context),
                PredictiveMigrations = predictive.Migrations?.Build(),
            };
            if (predictive.ForecastAccuracy is { } accuracy)
            {
                result = result with { ForecastMase = accuracy.Mase, ForecastCoverage90 = accuracy.Coverage90, Feedback = predictive.FeedbackStatus };
            }
        }

        return result;
    }

    internal static TimelineSample Sample(EdgeSimulator sim, double now)
    {
        var bySite = new int[sim.Topology.SiteCount];
        int total = 0;
        foreach (InstanceInfo inst in sim.Snapshot().Instances)
        {
            bySite[sim.Topology.SiteIndex(inst.SiteId)]++;
            total++;
        }

        return new TimelineSample(now, 0, 0, total, bySite);
    }

    private static PolicyResult Summarize(string name, EdgeSimulator sim, IReadOnlyList<TimelineSample> samples, int migrations, int scaleEvents, double wallSeconds)
    {
        SimulationMetrics m = sim.Metrics;
        var appResults = new List<AppResult>();
        for (int a = 0; a < sim.Apps.Count; a++)
        {
            LatencyHistogram h = m.Latency[a];
            appResults.Add(new AppResult(
                sim.Apps[a].Name,
                h.Quantile(0.5),
                h.Quantile(0.95),
                h.Quantile(0.99),
                Rate(m.SloViolations[a] + m.Dropped[a], m.Requests[a]),
                m.Dropped[a],
                m.Requests[a],
                m.InstanceSeconds[a]));
        }

        LatencyHistogram all = m.CombinedLatency();
        var timeline = new List<TimelineSample>(samples.Count);
        foreach (TimelineSample s in samples)
        {
            int bucket = (int)(s.TimeSeconds / m.TimelineBucketSeconds) - m.TimelineOffset;
            TimelinePoint? point = bucket >= 0 && bucket < m.Timeline.Count ? m.Timeline[bucket] : null;
            timeline.Add(s with { Requests = point?.Requests ?? 0, SloViolations = point?.SloViolations ?? 0, Dropped = point?.Dropped ?? 0 });
        }

        return new PolicyResult
        {
            Name = name,
            LatencyP50Ms = all.Quantile(0.5),
            LatencyP95Ms = all.Quantile(0.95),
            LatencyP99Ms = all.Quantile(0.99),
            LatencyMeanMs = all.MeanMs,
            SloViolationRate = Rate(m.TotalViolations + m.TotalDropped, m.TotalRequests),
            DroppedRequests = m.TotalDropped,
            Requests = m.TotalRequests,
            InstanceSeconds = m.TotalInstanceSeconds,
            Migrations = migrations,
            ScaleEvents = scaleEvents,
            FailoverRequests = m.FailoverRequests.Sum(),
            LinkDroppedRequests = m.LinkDropped.Sum(),
            WallSeconds = wallSeconds,
            SimulatedSeconds = sim.Now,
            Apps = appResults,
            Timeline = timeline,
            LatencyCdf = all.Cdf().Select(p => new[] { p.LatencyMs, p.Fraction }).ToList(),
        };
    }

    private static double Rate(double part, double whole) => whole > 0 ? Math.Min(1, part / whole) : 0;
}

/// <summary>The state every policy starts from: each site sized for the demand entering there at time zero.</summary>
public static class InitialPlacement
{
    public static DesiredPlacement Compute(EngineSetup setup, double targetUtilization)
    {
        int sites = setup.Topology.SiteCount;
        var placement = new DesiredPlacement(setup.Apps.Count, sites);
        var rates = new double[setup.Topology.Sources.Count];
        for (int a = 0; a < setup.Apps.Count; a++)
        {
            setup.Demand.FillRates(a, 0, rates);
            var ingress = new double[sites];
            for (int s = 0; s < rates.Length; s++)
            {
                ingress[setup.Topology.IngressSite[s]] += rates[s];
            }

            double perInstance = setup.Apps[a].InstanceCapacityRps * targetUtilization;
            int total = 0;
            for (int s = 0; s < sites; s++)
            {
                placement[a, s] = (int)Math.Ceiling(ingress[s] / perInstance);
                total += placement[a, s];
            }

            int busiest = Array.IndexOf(ingress, ingress.Max());
            for (; total < setup.Apps[a].MinInstances; total++)
            {
                placement[a, busiest]++;
            }
        }

        return placement;
    }
}
