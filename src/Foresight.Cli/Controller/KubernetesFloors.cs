using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>The HPA floors of <see cref="KubernetesOrchestrator"/> behind the engine's port.</summary>
public sealed class KubernetesFloors(KubernetesOrchestrator orchestrator) : IPredictiveFloors
{
    public ValueTask<bool> SetPredictiveFloorAsync(string app, string site, int minReplicas, CancellationToken cancellationToken) =>
        orchestrator.SetPredictiveFloorAsync(app, site, minReplicas, cancellationToken);

    public ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
        orchestrator.RestorePredictiveFloorAsync(app, site, cancellationToken);
}
