
namespace Foresight.Orchestration;

/// <summary>
/// The port through which the controller and every policy drive a cluster. Implementations: the embedded
/// simulated edge cluster (default) and Kubernetes.
/// <para>
/// Contract, shared by all implementations and pinned by the orchestrator contract test suite:
/// <list type="bullet">
/// <item>Spin-up is idempotent by <see cref="SpinUpRequest.RequestId"/>: repeating a request returns the same instance.</item>
/// <item>An instance moves Pending → Starting → Warming → Ready → Draining → Stopped, or to Failed; never backwards.</item>
/// <item>Routes may only name sites; traffic to a site is split evenly over its routable (Warming or Ready) instances.
/// A route to a site without routable instances fails over to the nearest site that has one.</item>
/// <item>Drain on a draining or stopped instance succeeds. Stop on an already stopped instance succeeds.</item>
/// <item>A failed instance stays visible (with its reason) until it is stopped; stopping it cleans it up.</item>
/// <item>Observe lists every instance that is not Stopped.</item>
/// <item>Where an autoscaler owns a site's replica count (<see cref="ClusterSnapshot.Autoscaled"/>), the controller only sets its floor.</item>
/// <item>Operations on an unknown instance throw <see cref="InstanceNotFoundException"/>.</item>
/// <item>Transient failures throw <see cref="OrchestratorException"/> with <see cref="OrchestratorException.IsTransient"/> set;
/// callers retry them.</item>
/// </list>
/// </para>
/// </summary>
public interface IOrchestrator
{
    /// <summary>Creates an instance of <paramref name="request"/>'s app at its site. Returns once it is accepted (Pending or later).</summary>
    ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Completes when the instance is Ready (fully warm). Throws <see cref="TimeoutException"/> after
    /// <paramref name="timeout"/> (in the orchestrator's clock), and <see cref="OrchestratorException"/> if it failed.
    /// </summary>
    ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken);

    /// <summary>Replaces the traffic weights of one app at one ingress site.</summary>
    ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken);

    /// <summary>Stops sending new traffic to the instance; in-flight work finishes.</summary>
    ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken);

    /// <summary>Stops the instance and releases its resources.</summary>
    ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken);

    /// <summary>Reads the current state of instances, routes and servers.</summary>
    ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Sets the minimum replica count of an autoscaled (app, site) (one listed in <see cref="ClusterSnapshot.Autoscaled"/>)
    /// and returns the floor now in force: never below the autoscaler's own minimum nor above its maximum, and
    /// <paramref name="minReplicas"/> at or below the own minimum restores it. Idempotent. An orchestrator that lists
    /// no autoscaled sites need not implement it.
    /// </summary>
    ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) =>
        throw new OrchestratorException($"No autoscaler manages '{app}' at '{siteId}' in this cluster.", isTransient: false);
}
