using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>The HPA floors of <see cref="KubernetesOrchestrator"/> behind the engine's port.</summary>
public sealed class KubernetesFloors(KubernetesOrchestrator orchestrator) : IPredictiveFloors
{
    public ValueTask<bool> SetPredictiveFloorAsync(string app, string site, int minReplicas, DateTimeOffset holdUntil, CancellationToken cancellationToken) =>
        orchestrator.SetPredictiveFloorAsync(app, site, minReplicas, holdUntil, cancellationToken);

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
