using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>Raises and restores an (app, site)'s HPA minReplicas; <see cref="Foresight.Kubernetes.KubernetesOrchestrator"/> implements it.</summary>
public interface IPredictiveFloors
{
    /// <param name="holdUntil">When the floor may be restored; recorded with it so that another leader can restore it.</param>
    /// <returns>
    /// The minReplicas written (below <paramref name="minReplicas"/> when the HPA's maxReplicas caps it); null when no
    /// HPA targets the (app, site) workload.
    /// </returns>
    ValueTask<int?> SetPredictiveFloorAsync(string app, string site, int minReplicas, DateTimeOffset holdUntil, CancellationToken cancellationToken);

    ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken);

    /// <summary>The floor the cluster records for (app, site), whoever raised it; null when no HPA targets the workload.</summary>
    ValueTask<PredictiveFloorState?> ReadPredictiveFloorAsync(string app, string site, CancellationToken cancellationToken);
}

/// <summary>The namespace's MigrationPolicies (and Deployment labels to match them), and their status subresource.</summary>
public interface IPolicySource
{
    Task<PolicyListing> ListAsync(CancellationToken cancellationToken);

    /// <returns>False when the policy no longer exists.</returns>
    Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken);

    /// <summary>True when <see cref="ListAsync"/> reads a watch cache: cheap enough to call every tick.</summary>
    bool Watched => false;
}

/// <summary>The HPA floors of <see cref="KubernetesOrchestrator"/> behind the engine's port.</summary>
public sealed class KubernetesFloors(KubernetesOrchestrator orchestrator) : IPredictiveFloors
{
    public ValueTask<int?> SetPredictiveFloorAsync(string app, string site, int minReplicas, DateTimeOffset holdUntil, CancellationToken cancellationToken) =>
        orchestrator.RaisePredictiveFloorAsync(app, site, minReplicas, holdUntil, cancellationToken);

    public ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
        orchestrator.RestorePredictiveFloorAsync(app, site, cancellationToken);

    public ValueTask<PredictiveFloorState?> ReadPredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
        orchestrator.ReadPredictiveFloorAsync(app, site, cancellationToken);
}

/// <summary>The MigrationPolicies of <see cref="MigrationPolicyClient"/> behind the engine's port.</summary>
public sealed class KubernetesPolicies(MigrationPolicyClient client) : IPolicySource
{
    public Task<PolicyListing> ListAsync(CancellationToken cancellationToken) => client.ListAsync(cancellationToken);

    public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) =>
        client.WriteStatusAsync(name, status, cancellationToken);
}
