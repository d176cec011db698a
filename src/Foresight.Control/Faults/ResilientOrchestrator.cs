using Foresight.Orchestration;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Foresight.Control.Faults;

public sealed record OrchestratorRetryOptions
{
    /// <summary>Retries after the first attempt; then the call fails and the next reconcile pass re-plans.</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>First backoff; doubles per retry (no jitter: runs stay reproducible) up to <see cref="MaxDelay"/>.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>An attempt that has not answered after this long is abandoned and retried. Null: no per-attempt timeout.</summary>
    public TimeSpan? AttemptTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public string? Validate() =>
        MaxRetries < 0 ? nameof(MaxRetries)
        : BaseDelay < TimeSpan.Zero ? nameof(BaseDelay)
        : MaxDelay < BaseDelay ? nameof(MaxDelay)
        : AttemptTimeout is { } t && t <= TimeSpan.Zero ? nameof(AttemptTimeout)
        : null;
}

/// <summary>
/// Retries transient orchestrator errors and timed-out calls with bounded exponential backoff on the given
/// <see cref="TimeProvider"/> (Polly). Retrying is safe because every call of the port is idempotent: spin-up by
/// request id, drain and stop on a draining or stopped instance succeed, and a route is replaced whole.
/// After the last retry the error surfaces as an <see cref="OrchestratorException"/>, so the reconciler records it
/// and leaves it to its next pass. <see cref="IOrchestrator.WaitUntilReadyAsync"/> keeps its own timeout semantics.
/// </summary>
public sealed class ResilientOrchestrator : IOrchestrator
{
    private readonly IOrchestrator _inner;
    private readonly ResiliencePipeline _pipeline;
    private long _retries;
    private long _gaveUp;

    public ResilientOrchestrator(IOrchestrator inner, TimeProvider time, OrchestratorRetryOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        ArgumentNullException.ThrowIfNull(time);
        options ??= new OrchestratorRetryOptions();
        if (options.Validate() is string bad)
        {
            throw new ArgumentException($"Invalid retry option {bad}.", nameof(options));
        }

        _inner = inner;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time };
        if (options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder()
                    .Handle<OrchestratorException>(e => e.IsTransient)
                    .Handle<TimeoutRejectedException>(),
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                OnRetry = _ =>
                {
                    Interlocked.Increment(ref _retries);
                    return default;
                },
            });
        }

        if (options.AttemptTimeout is TimeSpan timeout)
        {
            builder.AddTimeout(timeout);
        }

        _pipeline = builder.Build();
    }

    /// <summary>Retries made so far (each is one repeated call).</summary>
    public long Retries => Interlocked.Read(ref _retries);

    /// <summary>Calls that still failed after the last retry.</summary>
    public long GaveUp => Interlocked.Read(ref _gaveUp);

    public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) =>
        Execute(ct => _inner.SpinUpAsync(request, ct), $"spin-up {request.RequestId}", cancellationToken);

    public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) =>
        _inner.WaitUntilReadyAsync(id, timeout, cancellationToken);

    public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) =>
        Execute(ct => _inner.SetRouteAsync(route, ct), $"route {route.App}@{route.IngressSiteId}", cancellationToken);

    public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) =>
        Execute(ct => _inner.DrainAsync(id, ct), $"drain {id}", cancellationToken);

    public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) =>
        Execute(ct => _inner.StopAsync(id, ct), $"stop {id}", cancellationToken);

    public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) =>
        Execute(ct => _inner.ObserveAsync(ct), "observe", cancellationToken);

    public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) =>
        Execute(ct => _inner.SetFloorAsync(app, siteId, minReplicas, ct), $"floor {app}@{siteId}", cancellationToken);

    private async ValueTask Execute(Func<CancellationToken, ValueTask> call, string what, CancellationToken cancellationToken) =>
        await Execute(
            async ct =>
            {
                await call(ct).ConfigureAwait(false);
                return true;
            },
            what,
            cancellationToken).ConfigureAwait(false);

    private async ValueTask<T> Execute<T>(Func<CancellationToken, ValueTask<T>> call, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await _pipeline.ExecuteAsync(static (call, ct) => call(ct), call, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutRejectedException e)
        {
            Interlocked.Increment(ref _gaveUp);
            throw new OrchestratorException($"{what} timed out (gave up after its retries): {e.Message}", isTransient: true, e);
        }
        catch (OrchestratorException e) when (e.IsTransient)
        {
            Interlocked.Increment(ref _gaveUp);
            throw;
        }
    }
}
