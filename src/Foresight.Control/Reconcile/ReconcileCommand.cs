using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

/// <summary>One step the reconciler asks the orchestrator to take.</summary>
public abstract record ReconcileCommand(string App)
{
    public sealed record SpinUp(SpinUpRequest Request) : ReconcileCommand(Request.App);

    public sealed record Drain(string InstanceApp, InstanceId Instance, string Reason) : ReconcileCommand(InstanceApp);

    public sealed record Stop(string InstanceApp, InstanceId Instance, string Reason) : ReconcileCommand(InstanceApp);

    public sealed record SetRoute(Route Route) : ReconcileCommand(Route.App);
}

public sealed record ReconcilePlan(IReadOnlyList<ReconcileCommand> Commands)
{
    public static ReconcilePlan Empty { get; } = new([]);
}
