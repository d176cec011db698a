using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>What the controller reads to resolve policies: the namespace's MigrationPolicies and the labels of its Deployments.</summary>
/// <param name="Installed">False when the API server does not serve the MigrationPolicy CRD (404).</param>
public sealed record PolicyListing(
    IReadOnlyList<MigrationPolicy> Policies,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> DeploymentLabels,
    bool Installed)
{
    /// <summary>Each Deployment's labels by its name (none: empty).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> LabelsOf(IEnumerable<V1Deployment> deployments) =>
        deployments.ToDictionary(
            d => d.Metadata.Name,
            d => (IReadOnlyDictionary<string, string>)new Dictionary<string, string>(d.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            StringComparer.Ordinal);
}

/// <summary>
/// Reads MigrationPolicies (CustomObjects API) and Deployment labels, and writes a policy's status through the status
/// subresource. Errors follow the adapter's vocabulary: transient or permanent <see cref="Foresight.Orchestration.OrchestratorException"/>.
/// </summary>
public sealed class MigrationPolicyClient
{
    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly KubeApi _api;

    public MigrationPolicyClient(IKubernetes client, string ns, TimeSpan? requestTimeout = null)
    {
        _client = client;
        _namespace = ns;
        _api = new KubeApi(requestTimeout ?? TimeSpan.FromSeconds(10));
    }

    public async Task<PolicyListing> ListAsync(CancellationToken cancellationToken)
    {
        MigrationPolicyList? list = await _api.GetOrNullAsync("list MigrationPolicies", ct => _client.CustomObjects.ListNamespacedCustomObjectAsync<MigrationPolicyList>(
            MigrationPolicy.Group, MigrationPolicy.Version, _namespace, MigrationPolicy.Plural, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        V1DeploymentList deployments = await _api.CallAsync("list Deployments",
            ct => _client.AppsV1.ListNamespacedDeploymentAsync(_namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return new PolicyListing(list?.Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList() ?? [], PolicyListing.LabelsOf(deployments.Items), list is not null);
    }

    /// <summary>
    /// Replaces the policy's status (merge patch of the status subresource; the conditions list is replaced whole).
    /// Returns false when the policy is gone.
    /// </summary>
    public async Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken)
    {
        var patch = new JsonObject { ["status"] = JsonNode.Parse(KubernetesJson.Serialize(status)) };
        object? result = await _api.GetOrNullAsync($"patch MigrationPolicy {name} status", ct => _client.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(patch.ToJsonString(), V1Patch.PatchType.MergePatch), MigrationPolicy.Group, MigrationPolicy.Version, _namespace,
            MigrationPolicy.Plural, name, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        return result is not null;
    }
}
