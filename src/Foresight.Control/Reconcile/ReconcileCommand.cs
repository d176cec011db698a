using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

/// <summary>One step the reconciler asks the orchestrator to take.</summary>
public abstract record ReconcileCommand(string App)
{
    public sealed record SpinUp(SpinUpRequest Request) : ReconcileCommand(Request.App);

    public sealed record Drain(string InstanceApp, InstanceId Instance, string Reason) : ReconcileCommand(InstanceApp);

    public sealed record Stop(string InstanceApp, InstanceId Instance, StopReason Reason, string Detail = "") : ReconcileCommand(InstanceApp);

    public sealed record SetRoute(Route Route) : ReconcileCommand(Route.App);

    /// <summary>At least <paramref name="MinReplicas"/> at an autoscaled site; the autoscaler adds and removes the instances.</summary>
    public sealed record SetFloor(string FloorApp, string SiteId, int MinReplicas, int Was) : ReconcileCommand(FloorApp);
}

public enum StopReason
{
    /// <summary>A surplus instance that carries no traffic yet (Pending or Starting).</summary>
    NotServing,

    /// <summary>Drained: no new traffic, nothing in flight, drain period over.</summary>
    Drained,

    /// <summary>Still had work in flight when the drain grace period ran out.</summary>
    DrainTimeout,

    /// <summary>Clean-up of an instance the orchestrator reports as failed.</summary>
    Failed,

    /// <summary>Stuck in cold start or warm-up past its timeout; a replacement is created.</summary>
    StartupTimeout,
}

public sealed record ReconcilePlan(IReadOnlyList<ReconcileCommand> Commands)
{
    public static ReconcilePlan Empty { get; } = new([]);

    /// <summary>
    /// What the pass would do for apps in dry-run (<see cref="AppReconcileOverrides.DryRun"/>, a MigrationPolicy's
    /// <c>dryRun</c>): planned and reported, never issued.
    /// </summary>
    public IReadOnlyList<ReconcileCommand> DryRun { get; init; } = [];
}
