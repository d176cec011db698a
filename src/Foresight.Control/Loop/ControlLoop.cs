using Foresight.Control.Placement;
using Foresight.Control.Policies;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;

namespace Foresight.Control.Loop;

/// <summary>Timing of the loop's stages, shared by every cluster so that a policy behaves the same on each.</summary>
public sealed record ControlLoopOptions
{
    /// <summary>How often the reconciler re-reads desired and actual state (and re-plans routes).</summary>
    public double ReconcilePeriodSeconds { get; init; } = 5;

    /// <summary>Window of observed arrivals the routing uses.</summary>
    public double RoutingWindowSeconds { get; init; } = 10;

    /// <summary>Whether routing sees the live network; false is the network-blind ablation.</summary>
    public bool ObserveNetwork { get; init; } = true;

    /// <summary>Reconciler settings (start-up timeouts, strategy, safety limits).</summary>
    public ReconcilerOptions? Reconciler { get; init; }
}

/// <summary>What one tick of the loop did.</summary>
/// <param name="Plan">
/// The reconcile plan issued (or, in dry-run, planned) when a reconcile pass ran, with what it planned only for apps in
/// dry-run (<see cref="ReconcilePlan.DryRun"/>); else null.
/// </param>
/// <param name="Decided">Whether the policy decided this tick.</param>
/// <param name="Error">Why a stage was skipped or a pass ended early (observe failed, a command failed), or null.</param>
/// <param name="Issue">How issuing went, when commands were issued.</param>
public sealed record ControlTick(ReconcilePlan? Plan, bool Decided, string? Error, IssueOutcome? Issue);

/// <summary>
/// The one controller loop: observe, decide on the policy's period, reconcile through the orchestrator port. The
/// batch simulator, <c>run --orchestrator simulated</c> and <c>run --orchestrator kubernetes</c> all drive this class,
/// with the same policy objects and the same (journaled) reconciler; a cluster is only seen through
/// <see cref="IMetricsObserver"/> and <see cref="IOrchestrator"/>.
/// <para>
/// Level-triggered, in the manner of controller-runtime's Reconcile: each pass re-reads the desired placement and the
/// observed cluster, so a failed pass is simply retried by the next one. The loop is not thread-safe; one caller ticks it.
/// </para>
/// </summary>
public sealed class ControlLoop
{
    private readonly IScalingPolicy _policy;
    private readonly PolicyContext _context;
    private readonly IOrchestrator _orchestrator;
    private readonly ControlLoopOptions _options;
    private readonly PlacementReconciler _planner;
    private readonly JournaledReconciler? _journaled;
    private readonly JournaledReconciler? _journaledDryRun;
    private readonly double[][] _routingDemand;
    private double _nextDecision;
    private double _nextReconcile;

    /// <param name="initial">The placement to start from (what the cluster runs now).</param>
    /// <param name="journaled">The crash-safe reconciler; null issues commands directly (batch simulation).</param>
    /// <param name="journaledDryRun">The same journal's dry-run reconciler, used while <see cref="DryRun"/> is set.</param>
    public ControlLoop(
        IScalingPolicy policy,
        PolicyContext context,
        IOrchestrator orchestrator,
        DesiredPlacement initial,
        ControlLoopOptions? options = null,
        JournaledReconciler? journaled = null,
        JournaledReconciler? journaledDryRun = null)
    {
        _policy = policy;
        _context = context;
        _orchestrator = orchestrator;
        _options = options ?? new ControlLoopOptions();
        _journaled = journaled;
        _journaledDryRun = journaledDryRun;
        _planner = new PlacementReconciler(context.Topology, context.Apps, _options.Reconciler);
        Desired = initial;
        _routingDemand = new double[context.Apps.Count][];
        for (int a = 0; a < _routingDemand.Length; a++)
        {
            _routingDemand[a] = new double[context.Topology.SiteCount];
        }
    }

    public IScalingPolicy Policy => _policy;

    public PolicyContext Context => _context;

    /// <summary>The policy's latest desired placement (updated in place).</summary>
    public DesiredPlacement Desired { get; }

    /// <summary>Replicas moved between sites by the policy's decisions.</summary>
    public int Migrations { get; private set; }

    /// <summary>Decisions that changed an app's total.</summary>
    public int ScaleEvents { get; private set; }

    /// <summary>When set, reconcile passes are planned but not applied.</summary>
    public bool DryRun { get; set; }

    /// <summary>
    /// Starts from what the cluster runs: the desired count per (app, site) becomes its live, non-draining instances,
    /// and an autoscaled site's raised floor (whoever raised it) stays as the anticipated part, so that a controller
    /// joining a running cluster (or a new leader) neither adds nor removes anything, floors included, until its
    /// policy decides.
    /// </summary>
    public void Adopt(ClusterSnapshot cluster)
    {
        for (int a = 0; a < _context.Apps.Count; a++)
        {
            for (int s = 0; s < _context.Topology.SiteCount; s++)
            {
                Desired[a, s] = 0;
                Desired.SetAnticipated(a, s, 0);
            }
        }

        foreach (InstanceInfo inst in cluster.Instances)
        {
            int a = _context.AppIndex(inst.App);
            if (a >= 0 && inst.State.IsLive() && inst.State != InstanceState.Draining && _context.Topology.TryGetSiteIndex(inst.SiteId, out int s))
            {
                Desired[a, s]++;
            }
        }

        foreach (AutoscaledSite site in cluster.Autoscaled)
        {
            int a = _context.AppIndex(site.App);
            if (a >= 0 && site.Floor > site.UserMinReplicas && _context.Topology.TryGetSiteIndex(site.SiteId, out int s))
            {
                // The floor the HPA's pods may still be scaling up to: the reconciler re-expresses it until the policy decides.
                Desired[a, s] = Math.Max(Desired[a, s], site.Floor);
                Desired.SetAnticipated(a, s, site.Floor);
            }
        }
    }

    /// <summary>Runs the stages that are due now. Call once per metrics sample.</summary>
    /// <param name="act">False: observe only (a replica that does not hold the lease keeps its forecasts warm).</param>
    public async ValueTask<ControlTick> TickAsync(CancellationToken cancellationToken, bool act = true)
    {
        await _context.Metrics.RefreshAsync(cancellationToken).ConfigureAwait(false);
        double now = _context.Now;
        _policy.OnStep(_context);
        if (!act)
        {
            return new ControlTick(null, false, null, null);
        }

        bool decided = false;
        string? error = null;
        if (now >= _nextDecision - 1e-9)
        {
            try
            {
                ClusterSnapshot cluster = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
                DesiredPlacement before = Desired.Clone();
                _policy.Decide(_context, cluster, Desired);
                (int moved, int scaled) = PlacementDiff.Count(before, Desired);
                Migrations += moved;
                ScaleEvents += scaled;
                _nextDecision = now + _policy.DecisionPeriodSeconds;
                decided = true;
            }
            catch (OrchestratorException e)
            {
                // Deciding on a stale picture of the cluster could undo what it did since; decide next tick instead.
                error = $"observe failed, decision deferred: {e.Message}";
            }
        }

        if (!decided && now < _nextReconcile - 1e-9)
        {
            return new ControlTick(null, false, error, null);
        }

        for (int a = 0; a < _routingDemand.Length; a++)
        {
            _context.Metrics.IngressRates(a, _options.RoutingWindowSeconds, _routingDemand[a]);
        }

        _nextReconcile = now + _options.ReconcilePeriodSeconds;
        if (_journaled is not null)
        {
            // Intent first: each command is in the journal before it reaches the orchestrator.
            JournaledReconciler reconciler = DryRun ? _journaledDryRun ?? _journaled : _journaled;
            ReconcileOutcome outcome = await reconciler.ReconcileAsync(Desired, _routingDemand, cancellationToken).ConfigureAwait(false);
            var plan = new ReconcilePlan(outcome.DryRun ? outcome.Commands : outcome.Commands.Take(outcome.Issued).ToList()) { DryRun = outcome.DryRunCommands };
            return new ControlTick(plan, decided, Join(error, outcome.Error), outcome.Issue);
        }

        ClusterSnapshot snapshot;
        try
        {
            snapshot = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestratorException e)
        {
            return new ControlTick(null, decided, Join(error, $"observe failed: {e.Message}"), null);
        }

        ReconcilePlan planned = _planner.Plan(Desired, _options.ObserveNetwork ? snapshot : snapshot with { Network = null }, _routingDemand);
        if (DryRun)
        {
            return new ControlTick(planned, decided, error, null);
        }

        // Any prefix of a plan is safe (create, route, drain, stop): the pass ends at the first command that fails.
        IssueOutcome issue = await CommandIssuer.IssueInOrderAsync(planned.Commands, _orchestrator, cancellationToken).ConfigureAwait(false);
        string? failed = issue.Failed is null ? null : $"{issue.Failed.GetType().Name} failed: {issue.Error?.Message}";
        return new ControlTick(new ReconcilePlan(planned.Commands.Take(issue.Issued).ToList()) { DryRun = planned.DryRun }, decided, Join(error, failed), issue);
    }

    private static string? Join(string? a, string? b) => a is null ? b : b is null ? a : $"{a}; {b}";
}
