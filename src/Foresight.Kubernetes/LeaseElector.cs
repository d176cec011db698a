using Foresight.Orchestration;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// Leader election on a coordination.k8s.io/v1 Lease, on the given clock (the client library's elector uses the wall
/// clock). One replica of <c>foresight run</c> leads; the others wait. Same protocol as client-go: the holder renews
/// <c>renewTime</c> every <see cref="RetryPeriod"/>; anyone may take a lease whose renewTime + leaseDurationSeconds
/// has passed; every write is a replace with the read resourceVersion, so two candidates cannot both win.
/// </summary>
public sealed class LeaseElector
{
    private readonly IKubernetes _client;
    private readonly TimeProvider _time;
    private readonly KubeApi _api;

    public LeaseElector(
        IKubernetes client, string @namespace, string leaseName, string identity, TimeProvider? timeProvider = null,
        TimeSpan? leaseDuration = null, TimeSpan? renewDeadline = null, TimeSpan? retryPeriod = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentException.ThrowIfNullOrWhiteSpace(@namespace);
        ArgumentException.ThrowIfNullOrWhiteSpace(leaseName);
        ArgumentException.ThrowIfNullOrWhiteSpace(identity);
        _client = client;
        Namespace = @namespace;
        LeaseName = leaseName;
        Identity = identity;
        _time = timeProvider ?? TimeProvider.System;
        LeaseDuration = leaseDuration ?? TimeSpan.FromSeconds(15);
        RenewDeadline = renewDeadline ?? TimeSpan.FromSeconds(10);
        RetryPeriod = retryPeriod ?? TimeSpan.FromSeconds(2);
        if (!(RetryPeriod < RenewDeadline && RenewDeadline < LeaseDuration))
        {
            throw new ArgumentException("Need retryPeriod < renewDeadline < leaseDuration.");
        }

        _api = new KubeApi(TimeSpan.FromSeconds(10));
    }

    public string Namespace { get; }

    public string LeaseName { get; }

    public string Identity { get; }

    public TimeSpan LeaseDuration { get; }

    /// <summary>A leader that could not renew for this long gives up leadership (before others may take it).</summary>
    public TimeSpan RenewDeadline { get; }

    public TimeSpan RetryPeriod { get; }

    public bool IsLeader { get; private set; }

    /// <summary>One election round: acquire a free or expired lease, renew our own, or report that someone else holds it.</summary>
    public async Task<bool> TryAcquireOrRenewAsync(CancellationToken cancellationToken)
    {
        DateTimeOffset now = _time.GetUtcNow();
        try
        {
            V1Lease? lease = await _api.GetOrNullAsync($"get Lease {LeaseName}",
                ct => _client.CoordinationV1.ReadNamespacedLeaseAsync(LeaseName, Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (lease is null)
            {
                var created = new V1Lease
                {
                    ApiVersion = "coordination.k8s.io/v1",
                    Kind = "Lease",
                    Metadata = new V1ObjectMeta { Name = LeaseName, NamespaceProperty = Namespace },
                    Spec = new V1LeaseSpec
                    {
                        HolderIdentity = Identity,
                        LeaseDurationSeconds = (int)LeaseDuration.TotalSeconds,
                        AcquireTime = now.UtcDateTime,
                        RenewTime = now.UtcDateTime,
                        LeaseTransitions = 0,
                    },
                };
                await _api.CallAsync($"create Lease {LeaseName}",
                    ct => _client.CoordinationV1.CreateNamespacedLeaseAsync(created, Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
                return IsLeader = true;
            }

            V1LeaseSpec spec = lease.Spec ??= new V1LeaseSpec();
            bool ours = spec.HolderIdentity == Identity;
            DateTimeOffset renewed = spec.RenewTime is { } r ? new DateTimeOffset(DateTime.SpecifyKind(r, DateTimeKind.Utc)) : DateTimeOffset.MinValue;
            TimeSpan duration = TimeSpan.FromSeconds(spec.LeaseDurationSeconds ?? (int)LeaseDuration.TotalSeconds);
            bool free = string.IsNullOrEmpty(spec.HolderIdentity) || renewed + duration <= now;
            if (!ours && !free)
            {
                return IsLeader = false;
            }

            if (!ours)
            {
                spec.HolderIdentity = Identity;
                spec.AcquireTime = now.UtcDateTime;
                spec.LeaseTransitions = (spec.LeaseTransitions ?? 0) + 1;
            }

            spec.RenewTime = now.UtcDateTime;
            spec.LeaseDurationSeconds = (int)LeaseDuration.TotalSeconds;
            await _api.CallAsync($"update Lease {LeaseName}",
                ct => _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, LeaseName, Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            return IsLeader = true;
        }
        catch (KubeStatusException e) when (e.IsConflict)
        {
            // Someone else wrote the lease since we read it: they won this round.
            return IsLeader = false;
        }
    }

    /// <summary>
    /// Campaigns until elected, runs <paramref name="lead"/> while leading, and returns when leadership is lost (renewals
    /// failing for <see cref="RenewDeadline"/>) or <paramref name="cancellationToken"/> fires; <paramref name="lead"/>'s
    /// token is cancelled then. The caller should exit after a lost leadership, as client-go's users do.
    /// </summary>
    public async Task RunAsync(Func<CancellationToken, Task> lead, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(lead);
        while (!await TryRoundAsync(cancellationToken).ConfigureAwait(false))
        {
            await Task.Delay(RetryPeriod, _time, cancellationToken).ConfigureAwait(false);
        }

        using var leading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task work = Task.Run(() => lead(leading.Token), CancellationToken.None);
        DateTimeOffset lastRenew = _time.GetUtcNow();
        try
        {
            while (!work.IsCompleted)
            {
                Task tick = Task.Delay(RetryPeriod, _time, leading.Token);
                await Task.WhenAny(tick, work).ConfigureAwait(false);
                if (work.IsCompleted || leading.IsCancellationRequested)
                {
                    break;
                }

                if (await TryRoundAsync(leading.Token).ConfigureAwait(false))
                {
                    lastRenew = _time.GetUtcNow();
                }
                else if (!IsLeader || _time.GetUtcNow() - lastRenew >= RenewDeadline)
                {
                    IsLeader = false;
                    break;
                }
            }
        }
        finally
        {
            await leading.CancelAsync().ConfigureAwait(false);
            try
            {
                await work.ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (leading.IsCancellationRequested)
            {
            }
        }
    }

    /// <summary>Gives the lease up (holder cleared) so another replica need not wait for it to expire.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        V1Lease? lease = await _api.GetOrNullAsync($"get Lease {LeaseName}",
            ct => _client.CoordinationV1.ReadNamespacedLeaseAsync(LeaseName, Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        if (lease?.Spec?.HolderIdentity != Identity)
        {
            IsLeader = false;
            return;
        }

        lease.Spec.HolderIdentity = null;
        lease.Spec.LeaseDurationSeconds = 1;
        try
        {
            await _api.CallAsync($"release Lease {LeaseName}",
                ct => _client.CoordinationV1.ReplaceNamespacedLeaseAsync(lease, LeaseName, Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (KubeStatusException e) when (e.IsConflict || e.IsNotFound)
        {
        }

        IsLeader = false;
    }

    private async Task<bool> TryRoundAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await TryAcquireOrRenewAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestratorException e) when (e.IsTransient)
        {
            // An API hiccup is not a lost election; RenewDeadline decides.
            return false;
        }
    }
}
