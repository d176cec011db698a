using Foresight.Core.Topology;

namespace Foresight.Orchestration;

public readonly record struct InstanceId(string Value)
{
    public override string ToString() => Value;
}

public enum InstanceState
{
    /// <summary>Accepted, waiting for a server with enough free CPU.</summary>
    Pending,

    /// <summary>Cold start: scheduled and booting; no capacity yet.</summary>
    Starting,

    /// <summary>Serving with capacity ramping up to full.</summary>
    Warming,

    /// <summary>Serving at full capacity.</summary>
    Ready,

    /// <summary>No new traffic; finishing in-flight work.</summary>
    Draining,

    Stopped,

    Failed,
}

public static class InstanceStates
{
    /// <summary>Whether traffic may be sent to an instance in this state.</summary>
    public static bool IsRoutable(this InstanceState state) => state is InstanceState.Warming or InstanceState.Ready;

    /// <summary>Whether the instance still reserves resources and costs money.</summary>
    public static bool IsLive(this InstanceState state) => state is not (InstanceState.Stopped or InstanceState.Failed);
}

/// <param name="RequestId">Idempotency key: repeating a request with the same id returns the same instance.</param>
public sealed record SpinUpRequest(string RequestId, string App, string SiteId);

/// <param name="CapacityFraction">Share of full serving capacity available now (0 while starting, ramps during warm-up).</param>
/// <param name="StateSince">When the instance entered its current state.</param>
/// <param name="InFlight">Requests accepted and not yet finished (queued or in service).</param>
public sealed record InstanceInfo(
    InstanceId Id,
    string App,
    string SiteId,
    string? ServerId,
    InstanceState State,
    double CapacityFraction,
    DateTimeOffset CreatedAt,
    DateTimeOffset StateSince,
    DateTimeOffset? ReadyAt,
    double InFlight,
    string? FailureReason = null);

/// <summary>A weighted destination of a route.</summary>
public readonly record struct SiteWeight(string SiteId, double Weight);

/// <summary>Where an app's traffic that enters at <see cref="IngressSiteId"/> goes, by relative weight.</summary>
public sealed record Route(string App, string IngressSiteId, IReadOnlyList<SiteWeight> Weights);

public sealed record ServerInfo(string Id, string SiteId, double CpuCores, double CpuAllocated, bool Up);

public sealed record ClusterSnapshot(
    DateTimeOffset Time,
    IReadOnlyList<InstanceInfo> Instances,
    IReadOnlyList<Route> Routes,
    IReadOnlyList<ServerInfo> Servers)
{
    /// <summary>
    /// Live per-path network conditions, when the orchestrator measures them (the simulator does once its scenario
    /// degrades a link); null means the topology's static RTTs and no bandwidth caps.
    /// </summary>
    public NetworkView? Network { get; init; }

    /// <summary>
    /// The (app, site) workloads whose replica count an autoscaler owns (a Kubernetes HPA). There the controller never
    /// adds or removes instances itself: it states "at least N here" through <see cref="IOrchestrator.SetFloorAsync"/>,
    /// and the autoscaler stays the reactive path. Empty for the simulated cluster.
    /// </summary>
    public IReadOnlyList<AutoscaledSite> Autoscaled { get; init; } = [];
}

/// <summary>An (app, site) workload scaled by an autoscaler.</summary>
/// <param name="UserMinReplicas">The autoscaler's own minimum, as its owner set it.</param>
/// <param name="Floor">The minimum in force now: <paramref name="UserMinReplicas"/>, or higher while the controller raised it.</param>
/// <param name="MaxReplicas">The autoscaler's maximum; a floor never exceeds it.</param>
public sealed record AutoscaledSite(string App, string SiteId, int UserMinReplicas, int Floor, int MaxReplicas);

/// <summary>An orchestrator operation failed. Transient failures (API timeouts, conflicts) may be retried.</summary>
public class OrchestratorException : Exception
{
    public OrchestratorException(string message, bool isTransient, Exception? inner = null)
        : base(message, inner)
    {
        IsTransient = isTransient;
    }

    public bool IsTransient { get; }
}

public sealed class InstanceNotFoundException : OrchestratorException
{
    public InstanceNotFoundException(InstanceId id)
        : base($"Instance '{id}' does not exist.", isTransient: false)
    {
        Id = id;
    }

    public InstanceId Id { get; }
}
