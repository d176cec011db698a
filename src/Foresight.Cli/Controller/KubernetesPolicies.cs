using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>The namespace's MigrationPolicies (and Deployment labels to match them), and their status subresource.</summary>
public interface IPolicySource
{
    Task<PolicyListing> ListAsync(CancellationToken cancellationToken);

    /// <returns>False when the policy no longer exists.</returns>
    Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken);

    /// <summary>True when <see cref="ListAsync"/> reads a watch cache: cheap enough to call every tick.</summary>
    bool Watched => false;
}

/// <summary>The MigrationPolicies of <see cref="MigrationPolicyClient"/> behind the engine's port.</summary>
public sealed class KubernetesPolicies(MigrationPolicyClient client) : IPolicySource
{
    public Task<PolicyListing> ListAsync(CancellationToken cancellationToken) => client.ListAsync(cancellationToken);

    public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) =>
        client.WriteStatusAsync(name, status, cancellationToken);
}
