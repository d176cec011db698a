using Foresight.Control.Faults;
using Foresight.Control.Journal;
using Foresight.Control.Loop;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Faults;
using Foresight.Control.Policies;

namespace Foresight.Simulation.Runner;

/// <summary>
/// One policy driving one simulated cluster, advanced a step at a time: observe, decide on the policy's period,
/// reconcile through the orchestrator port. The batch runner and the live controller loop share it, so a live run
/// behaves exactly like the same policy in <c>simulate</c>.
/// </summary>
public sealed class SimulationSession
{
    private readonly ControlLoop _loop;
    private readonly List<TimelineSample> _timeline = [];
    private readonly double? _historySeconds;
    private double _nextTimeline;

    /// <param name="journal">When given, every reconcile command is written to it before it is issued (and a journal
    /// left unfinished by an earlier run is resolved first); otherwise commands go straight to the simulator.</param>
    public SimulationSession(EngineSetup setup, RunSettings settings, IScalingPolicy policy, ReconcileJournal? journal = null)
    {
        Simulator = new EdgeSimulator(setup);
        _historySeconds = settings.HistorySeconds;
        PolicyContext context = SimulatorPolicyContext.For(Simulator, settings.TargetUtilization, settings.ObserveNetwork);
        DesiredPlacement initial = InitialPlacement.Compute(setup, settings.TargetUtilization);
        for (int a = 0; a < setup.Apps.Count; a++)
        {
            for (int s = 0; s < setup.Topology.SiteCount; s++)
            {
                for (int k = 0; k < initial[a, s]; k++)
                {
                    Simulator.CreateReadyInstance(setup.Apps[a].Name, setup.Topology.Sites[s].Id);
                }
            }
        }

        // With faults on, calls go through the injector and a Polly retry (no backoff wait: calls are instantaneous in
        // simulated time), and stuck instances are replaced after three times their expected start-up.
        Injector = settings.Faults is { } faults ? new FaultInjector(Simulator, faults) : null;
        Resilient = Injector is null
            ? null
            : new ResilientOrchestrator(Injector, Simulator.Clock, new OrchestratorRetryOptions { BaseDelay = TimeSpan.Zero, AttemptTimeout = null });
        ReconcilerOptions? options = Injector is null ? null : new ReconcilerOptions { StartupTimeoutFactor = 3 };
        IOrchestrator target = (IOrchestrator?)Resilient ?? Simulator;
        JournaledReconciler? journaled = null;
        JournaledReconciler? journaledDryRun = null;
        if (journal is not null)
        {
            journaled = new JournaledReconciler(setup.Topology, setup.Apps, target, journal, options);
            journaledDryRun = new JournaledReconciler(setup.Topology, setup.Apps, target, journal, options, dryRun: true);
        }

        var loopOptions = new ControlLoopOptions
        {
            ReconcilePeriodSeconds = settings.ReconcilePeriodSeconds,
            RoutingWindowSeconds = settings.RoutingWindowSeconds,
            ObserveNetwork = settings.ObserveNetwork,
            Reconciler = options,
        };
        _loop = new ControlLoop(policy, context, target, initial, loopOptions, journaled, journaledDryRun);
    }

    public EdgeSimulator Simulator { get; }

    public IScalingPolicy Policy => _loop.Policy;

    /// <summary>What the policy sees (for policies that summarise their run at the end).</summary>
    public PolicyContext Context => _loop.Context;

    /// <summary>The controller loop this session drives, the same one <c>foresight run</c> drives.</summary>
    public ControlLoop Loop => _loop;

    /// <summary>The policy's latest desired placement (updated in place).</summary>
    public DesiredPlacement Desired => _loop.Desired;

    public int Migrations => _loop.Migrations;

    public int ScaleEvents => _loop.ScaleEvents;

    public IReadOnlyList<TimelineSample> Timeline => _timeline;

    /// <summary>The fault injector, when the settings ask for faults.</summary>
    public FaultInjector? Injector { get; }

    /// <summary>The retrying orchestrator in front of the injector, when faults are on.</summary>
    public ResilientOrchestrator? Resilient { get; }

    /// <summary>Spin-ups the orchestrator rejected (after retries).</summary>
    public int SpinUpFailures { get; private set; }

    /// <summary>Instances stopped because they were stuck starting or warming.</summary>
    public int StartupTimeouts { get; private set; }

    /// <summary>Commands that still failed after retries; each ended its pass.</summary>
    public int FailedCommands { get; private set; }

    /// <summary>What the loop did in the last step.</summary>
    public ControlTick? LastTick { get; private set; }

    /// <summary>When set, reconcile passes are planned but not applied (the controller's dry-run).</summary>
    public bool DryRun
    {
        get => _loop.DryRun;
        set => _loop.DryRun = value;
    }

    /// <summary>Advances one simulated step. Returns the reconcile plan when a reconcile pass ran in this step.</summary>
    public ReconcilePlan? Step()
    {
        EdgeSimulator sim = Simulator;
        double now = sim.Now;

        // Every call below completes synchronously in simulated time.
        ControlTick tick = _loop.TickAsync(CancellationToken.None).AsTask().GetAwaiter().GetResult();
        LastTick = tick;
        if (tick.Issue is { } issue)
        {
            Count(tick.Plan!, issue);
        }

        if (now >= _nextTimeline - 1e-9)
        {
            _timeline.Add(SimulationRunner.Sample(sim, now));
            _nextTimeline = now + sim.Metrics.TimelineBucketSeconds;
            if (_historySeconds is double keep)
            {
                ForgetBefore(now - keep);
            }
        }

        Injector?.Advance();
        sim.Step();
        return tick.Plan;
    }

    /// <summary>The fault counters, the same for the journaled and the direct path.</summary>
    private void Count(ReconcilePlan issued, IssueOutcome issue)
    {
        StartupTimeouts += issued.Commands.Count(c => c is ReconcileCommand.Stop { Reason: StopReason.StartupTimeout });
        FailedCommands += issue.Failed is null ? 0 : 1;
        SpinUpFailures += issue.SpinUpRefused ? 1 : 0;
    }

    /// <summary>Drops the per-bucket history and stopped instances older than <paramref name="before"/> (simulated seconds).</summary>
    private void ForgetBefore(double before)
    {
        int old = 0;
        while (old < _timeline.Count && _timeline[old].TimeSeconds < before)
        {
            old++;
        }

        _timeline.RemoveRange(0, old);
        Simulator.Metrics.ForgetBefore(before);
        Simulator.SiteStats.ForgetBefore(before);
        Simulator.ForgetStoppedBefore(before);
    }
}
