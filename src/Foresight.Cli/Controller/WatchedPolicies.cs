using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>The MigrationPolicies of <see cref="MigrationPolicyWatch"/> (list+watch) behind the engine's policy port.</summary>
public sealed class WatchedPolicies(MigrationPolicyWatch watch) : IPolicySource
{
    public bool Watched => true;

    public Task<PolicyListing> ListAsync(CancellationToken cancellationToken) => watch.ListAsync(cancellationToken);

    public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) =>
        watch.WriteStatusAsync(name, status, cancellationToken);
}
