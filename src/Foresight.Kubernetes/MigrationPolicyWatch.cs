using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// The namespace's MigrationPolicies and Deployment labels through list+watch (informer-style caches), so an edited
/// policy takes effect on the controller's next tick without a list call per tick. While a watch is down the caches are
/// re-listed on read. Without the CRD (404) the listing says so and the watch is tried again after
/// <see cref="CrdRetry"/>.
/// </summary>
public sealed class MigrationPolicyWatch : IAsyncDisposable
{
    /// <summary>How long a missing CRD is taken as missing before the watch is tried again.</summary>
    public static readonly TimeSpan CrdRetry = TimeSpan.FromSeconds(60);

    private readonly IKubernetes _client;
    private readonly string _namespace;
    private readonly TimeProvider _time;
    private readonly KubeApi _api;
    private readonly MigrationPolicyClient _writer;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private ResourceCache<MigrationPolicy>? _policies;
    private ResourceCache<V1Deployment>? _deployments;
    private DateTimeOffset _retryCrdAt = DateTimeOffset.MinValue;

    public MigrationPolicyWatch(IKubernetes client, string ns, TimeProvider time, TimeSpan? requestTimeout = null)
    {
        _client = client;
        _namespace = ns;
        _time = time;
        _api = new KubeApi(requestTimeout ?? TimeSpan.FromSeconds(10));
        _writer = new MigrationPolicyClient(client, ns, requestTimeout);
    }

    /// <summary>The policies and Deployment labels as the watches have them now.</summary>
    public async Task<PolicyListing> ListAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            _deployments ??= await StartAsync(DeploymentCache(), cancellationToken).ConfigureAwait(false);
            if (_policies is null && _time.GetUtcNow() >= _retryCrdAt)
            {
                try
                {
                    _policies = await StartAsync(PolicyCache(), cancellationToken).ConfigureAwait(false);
                }
                catch (KubeStatusException e) when (e.IsNotFound)
                {
                    _retryCrdAt = _time.GetUtcNow() + CrdRetry;
                }
            }

            // While a watch is down, read through to the API server as the adapter's caches do.
            if (!_deployments.Healthy)
            {
                await _deployments.RelistAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_policies is { Healthy: false })
            {
                await _policies.RelistAsync(cancellationToken).ConfigureAwait(false);
            }

            IReadOnlyList<MigrationPolicy> policies = _policies?.List().OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList() ?? [];
            return new PolicyListing(policies, PolicyListing.LabelsOf(_deployments.List()), _policies is not null);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc cref="MigrationPolicyClient.WriteStatusAsync"/>
    public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) =>
        _writer.WriteStatusAsync(name, status, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        if (_policies is not null)
        {
            await _policies.DisposeAsync().ConfigureAwait(false);
        }

        if (_deployments is not null)
        {
            await _deployments.DisposeAsync().ConfigureAwait(false);
        }

        _gate.Dispose();
    }

    private static async Task<ResourceCache<T>> StartAsync<T>(ResourceCache<T> cache, CancellationToken cancellationToken)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        try
        {
            await cache.StartAsync(cancellationToken).ConfigureAwait(false);
            return cache;
        }
        catch
        {
            await cache.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private ResourceCache<V1Deployment> DeploymentCache() => new("deployments (policies)",
        async ct =>
        {
            V1DeploymentList l = await _api.CallAsync("list Deployments", t => _client.AppsV1.ListNamespacedDeploymentAsync(_namespace, cancellationToken: t), ct).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ResourceVersion);
        },
        (rv, onError, ct) => _client.AppsV1.WatchListNamespacedDeploymentAsync(_namespace, allowWatchBookmarks: true, resourceVersion: rv, onError: onError, cancellationToken: ct),
        _time,
        TimeSpan.FromSeconds(30));

    private ResourceCache<MigrationPolicy> PolicyCache() => new("migrationpolicies",
        async ct =>
        {
            MigrationPolicyList l = await _api.CallAsync("list MigrationPolicies", t => _client.CustomObjects.ListNamespacedCustomObjectAsync<MigrationPolicyList>(
                MigrationPolicy.Group, MigrationPolicy.Version, _namespace, MigrationPolicy.Plural, cancellationToken: t), ct).ConfigureAwait(false);
            return (l.Items, l.Metadata?.ResourceVersion);
        },
#pragma warning disable CS0618 // The typed watch of a custom resource has no non-obsolete form yet (WatchListNamespacedCustomObjectAsync yields object).
        (rv, onError, ct) => _client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<MigrationPolicyList>(MigrationPolicy.Group, MigrationPolicy.Version,
            _namespace, MigrationPolicy.Plural, allowWatchBookmarks: true, resourceVersion: rv, watch: true, cancellationToken: ct)
            .WatchAsync<MigrationPolicy, MigrationPolicyList>(onError, ct),
#pragma warning restore CS0618
        _time,
        TimeSpan.FromSeconds(30));
}
