using System.Diagnostics;
using Foresight.Control.Faults;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Faults;
using Foresight.Simulation.Policies;

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
}

/// <summary>Runs one policy over one simulated scenario from the shared initial state.</summary>
public static class SimulationRunner
{
    public static PolicyResult Run(EngineSetup setup, RunSettings settings, IScalingPolicy policy, IProgress<double>? progress = null)
    {
        var wall = Stopwatch.StartNew(); // measures the simulator's own speed, not simulated time
        var sim = new EdgeSimulator(setup);
        var context = new PolicyContext(sim, settings.TargetUtilization);
        int apps = setup.Apps.Count;
        int sites = setup.Topology.SiteCount;

        DesiredPlacement desired = InitialPlacement.Compute(setup, settings.TargetUtilization);
        for (int a = 0; a < apps; a++)
        {
            for (int s = 0; s < sites; s++)
            {
                for (int k = 0; k < desired[a, s]; k++)
                {
                    sim.CreateReadyInstance(setup.Apps[a].Name, setup.Topology.Sites[s].Id);
                }
            }
        }

        // With faults on, calls go through the injector and a Polly retry (no backoff wait: calls are instantaneous in
        // simulated time), and stuck instances are replaced after three times their expected start-up.
        FaultInjector? injector = settings.Faults is { } faults ? new FaultInjector(sim, faults) : null;
        ResilientOrchestrator? resilient = injector is null
            ? null
            : new ResilientOrchestrator(injector, sim.Clock, new OrchestratorRetryOptions { BaseDelay = TimeSpan.Zero, AttemptTimeout = null });
        var reconciler = new PlacementReconciler(
            setup.Topology,
            setup.Apps,
            injector is null ? null : new ReconcilerOptions { StartupTimeoutFactor = 3 });
        var faultCounts = new FaultCounts();
        var routingDemand = new double[apps][];
        for (int a = 0; a < apps; a++)
        {
            routingDemand[a] = new double[sites];
        }

        long totalSteps = (long)Math.Ceiling(settings.DurationSeconds / setup.StepSeconds);
        double nextDecision = 0;
        double nextReconcile = 0;
        double nextTimeline = 0;
        int migrations = 0;
        int scaleEvents = 0;
        var timeline = new List<TimelineSample>();
        long progressEvery = Math.Max(1, totalSteps / 200);
        for (long step = 0; step < totalSteps; step++)
        {
            double now = sim.Now;
            policy.OnStep(context);
            bool decided = false;
            if (now >= nextDecision - 1e-9)
            {
                DesiredPlacement before = desired.Clone();
                policy.Decide(context, desired);
                (int moved, int scaled) = PlacementDiff.Count(before, desired);
                migrations += moved;
                scaleEvents += scaled;
                nextDecision = now + policy.DecisionPeriodSeconds;
                decided = true;
            }

            if (decided || now >= nextReconcile - 1e-9)
            {
                for (int a = 0; a < apps; a++)
                {
                    sim.ObservedIngressRates(a, settings.RoutingWindowSeconds, routingDemand[a]);
                }

                ReconcilePlan plan = reconciler.Plan(desired, sim.Snapshot(), routingDemand);
                if (resilient is null)
                {
                    PlacementReconciler.ApplyAsync(plan, sim, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                }
                else
                {
                    ApplyTolerant(plan, resilient, faultCounts);
                }
                nextReconcile = now + settings.ReconcilePeriodSeconds;
            }

            if (now >= nextTimeline - 1e-9)
            {
                timeline.Add(Sample(sim, now));
                nextTimeline = now + sim.Metrics.TimelineBucketSeconds;
            }

            injector?.Advance();
            sim.Step();
            if (progress is not null && step % progressEvery == 0)
            {
                progress.Report((double)step / totalSteps);
            }
        }

        progress?.Report(1);
        PolicyResult result = Summarize(policy.Name, sim, timeline, migrations, scaleEvents, wall.Elapsed.TotalSeconds);
        if (injector is not null)
        {
            result = result with
            {
                Faults = injector.Total,
                Retries = resilient!.Retries,
                SpinUpFailures = faultCounts.SpinUpFailures,
                StartupTimeouts = faultCounts.StartupTimeouts,
                FailedCommands = faultCounts.FailedCommands,
            };
        }

        return policy is Policies.Predictive.PredictivePolicy { ForecastAccuracy: { } accuracy } predictive
            ? result with { ForecastMase = accuracy.Mase, ForecastCoverage90 = accuracy.Coverage90, Feedback = predictive.FeedbackStatus }
            : result;
    }

    private sealed class FaultCounts
    {
        public int SpinUpFailures;
        public int StartupTimeouts;
        public int FailedCommands;
    }

    /// <summary>
    /// Issues the plan in order and ends the pass at the first command that still fails after retries: any prefix of
    /// a plan is safe (create, route, drain, stop), and the next pass re-plans from the observed state.
    /// </summary>
    private static void ApplyTolerant(ReconcilePlan plan, IOrchestrator orchestrator, FaultCounts counts)
    {
        foreach (ReconcileCommand command in plan.Commands)
        {
            try
            {
                PlacementReconciler.ApplyAsync(new ReconcilePlan([command]), orchestrator, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                counts.StartupTimeouts += command is ReconcileCommand.Stop { Reason: StopReason.StartupTimeout } ? 1 : 0;
            }
            catch (OrchestratorException e)
            {
                counts.FailedCommands++;
                counts.SpinUpFailures += command is ReconcileCommand.SpinUp && !e.IsTransient ? 1 : 0;
                return;
            }
        }
    }

    private static TimelineSample Sample(EdgeSimulator sim, double now)
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

    private static PolicyResult Summarize(string name, EdgeSimulator sim, List<TimelineSample> samples, int migrations, int scaleEvents, double wallSeconds)
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
            int bucket = (int)(s.TimeSeconds / m.TimelineBucketSeconds);
            TimelinePoint? point = bucket < m.Timeline.Count ? m.Timeline[bucket] : null;
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

/// <summary>Counts what changed between two desired placements.</summary>
public static class PlacementDiff
{
    /// <returns>Migrations (replicas moved between sites) and scale events (apps whose total changed).</returns>
    public static (int Migrations, int ScaleEvents) Count(DesiredPlacement before, DesiredPlacement after)
    {
        int migrations = 0;
        int scaleEvents = 0;
        for (int a = 0; a < before.AppCount; a++)
        {
            int up = 0;
            int down = 0;
            for (int s = 0; s < before.SiteCount; s++)
            {
                int d = after[a, s] - before[a, s];
                if (d > 0)
                {
                    up += d;
                }
                else
                {
                    down -= d;
                }
            }

            migrations += Math.Min(up, down);
            scaleEvents += up != down ? 1 : 0;
        }

        return (migrations, scaleEvents);
    }
}
