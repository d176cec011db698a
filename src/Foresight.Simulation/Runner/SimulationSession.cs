using Foresight.Control.Faults;
using Foresight.Control.Journal;
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
    private readonly RunSettings _settings;
    private readonly IScalingPolicy _policy;
    private readonly PolicyContext _context;
    private readonly PlacementReconciler _reconciler;
    private readonly JournaledReconciler? _journaled;
    private readonly JournaledReconciler? _journaledDryRun;
    private readonly double[][] _routingDemand;
    private readonly List<TimelineSample> _timeline = [];
    private double _nextDecision;
    private double _nextReconcile;
    private double _nextTimeline;

    /// <param name="journal">When given, every reconcile command is written to it before it is issued (and a journal
    /// left unfinished by an earlier run is resolved first); otherwise commands go straight to the simulator.</param>
    public SimulationSession(EngineSetup setup, RunSettings settings, IScalingPolicy policy, ReconcileJournal? journal = null)
    {
        _settings = settings;
        _policy = policy;
        Simulator = new EdgeSimulator(setup);
        _context = SimulatorPolicyContext.For(Simulator, settings.TargetUtilization, settings.ObserveNetwork);
        int apps = setup.Apps.Count;
        int sites = setup.Topology.SiteCount;

        Desired = InitialPlacement.Compute(setup, settings.TargetUtilization);
        for (int a = 0; a < apps; a++)
        {
            for (int s = 0; s < sites; s++)
            {
                for (int k = 0; k < Desired[a, s]; k++)
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
        _reconciler = new PlacementReconciler(setup.Topology, setup.Apps, options);
        if (journal is not null)
        {
            IOrchestrator target = (IOrchestrator?)Resilient ?? Simulator;
            _journaled = new JournaledReconciler(setup.Topology, setup.Apps, target, journal, options);
            _journaledDryRun = new JournaledReconciler(setup.Topology, setup.Apps, target, journal, options, dryRun: true);
        }
        _routingDemand = new double[apps][];
        for (int a = 0; a < apps; a++)
        {
            _routingDemand[a] = new double[sites];
        }
    }

    public EdgeSimulator Simulator { get; }

    public IScalingPolicy Policy => _policy;

    /// <summary>What the policy sees (for policies that summarise their run at the end).</summary>
    public PolicyContext Context => _context;

    /// <summary>The policy's latest desired placement (updated in place).</summary>
    public DesiredPlacement Desired { get; }

    public int Migrations { get; private set; }

    public int ScaleEvents { get; private set; }

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

    /// <summary>When set, reconcile passes are planned but not applied (the controller's dry-run).</summary>
    public bool DryRun { get; set; }

    /// <summary>Advances one simulated step. Returns the reconcile plan when a reconcile pass ran in this step.</summary>
    public ReconcilePlan? Step()
    {
        EdgeSimulator sim = Simulator;
        double now = sim.Now;
        _policy.OnStep(_context);
        bool decided = false;
        if (now >= _nextDecision - 1e-9)
        {
            DesiredPlacement before = Desired.Clone();
            _policy.Decide(_context, sim.Snapshot(), Desired);
            (int moved, int scaled) = PlacementDiff.Count(before, Desired);
            Migrations += moved;
            ScaleEvents += scaled;
            _nextDecision = now + _policy.DecisionPeriodSeconds;
            decided = true;
        }

        ReconcilePlan? plan = null;
        if (decided || now >= _nextReconcile - 1e-9)
        {
            for (int a = 0; a < _routingDemand.Length; a++)
            {
                sim.ObservedIngressRates(a, _settings.RoutingWindowSeconds, _routingDemand[a]);
            }

            if (_journaled is not null)
            {
                // Intent first: each command is in the journal before it reaches the simulator.
                JournaledReconciler reconciler = DryRun ? _journaledDryRun! : _journaled;
                ReconcileOutcome outcome = reconciler.ReconcileAsync(Desired, _routingDemand, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                plan = new ReconcilePlan(outcome.DryRun ? outcome.Commands : outcome.Commands.Take(outcome.Issued).ToList());
                if (outcome.Issue is { } issue)
                {
                    Count(plan, issue);
                }
            }
            else
            {
                // In dry-run the plan is only shown, never issued.
                ClusterSnapshot snapshot = sim.Snapshot();
                plan = _reconciler.Plan(Desired, _settings.ObserveNetwork ? snapshot : snapshot with { Network = null }, _routingDemand);
                if (!DryRun && Resilient is null)
                {
                    PlacementReconciler.ApplyAsync(plan, sim, CancellationToken.None).AsTask().GetAwaiter().GetResult();
                }
                else if (!DryRun)
                {
                    ApplyTolerant(plan, Resilient!);
                }
            }

            _nextReconcile = now + _settings.ReconcilePeriodSeconds;
        }

        if (now >= _nextTimeline - 1e-9)
        {
            _timeline.Add(SimulationRunner.Sample(sim, now));
            _nextTimeline = now + sim.Metrics.TimelineBucketSeconds;
        }

        Injector?.Advance();
        sim.Step();
        return plan;
    }

    /// <summary>
    /// Issues the plan in order and ends the pass at the first command that still fails after retries: any prefix of
    /// a plan is safe (create, route, drain, stop), and the next pass re-plans from the observed state.
    /// </summary>
    private void ApplyTolerant(ReconcilePlan plan, IOrchestrator orchestrator)
    {
        IssueOutcome issue = CommandIssuer.IssueInOrderAsync(plan.Commands, orchestrator, CancellationToken.None).AsTask().GetAwaiter().GetResult();
        Count(new ReconcilePlan(plan.Commands.Take(issue.Issued).ToList()), issue);
    }

    /// <summary>The fault counters, the same for the journaled and the direct path.</summary>
    private void Count(ReconcilePlan issued, IssueOutcome issue)
    {
        StartupTimeouts += issued.Commands.Count(c => c is ReconcileCommand.Stop { Reason: StopReason.StartupTimeout });
        FailedCommands += issue.Failed is null ? 0 : 1;
        SpinUpFailures += issue.SpinUpRefused ? 1 : 0;
    }
}
