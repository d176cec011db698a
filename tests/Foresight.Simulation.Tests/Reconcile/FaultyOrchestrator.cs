using Foresight.Orchestration;

namespace Foresight.Simulation.Tests.Reconcile;

/// <summary>Test fake in the Karpenter style: forwards to a real orchestrator, records calls, and lets a test inject errors.</summary>
internal sealed class FaultyOrchestrator(IOrchestrator inner) : IOrchestrator
{
    private readonly Dictionary<string, Queue<Exception>> _next = new(StringComparer.Ordinal);

    public List<string> Calls { get; } = [];

    public int Injected { get; private set; }

    /// <summary>The next <paramref name="times"/> calls of <paramref name="operation"/> (spin-up, route, drain, stop, observe) throw.</summary>
    public void FailNext(string operation, Exception error, int times = 1)
    {
        if (!_next.TryGetValue(operation, out Queue<Exception>? q))
        {
            _next[operation] = q = new Queue<Exception>();
        }

        for (int i = 0; i < times; i++)
        {
            q.Enqueue(error);
        }
    }

    public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken ct)
    {
        Throw("spin-up");
        return inner.SpinUpAsync(request, ct);
    }

    public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken ct) => inner.WaitUntilReadyAsync(id, timeout, ct);

    public ValueTask SetRouteAsync(Route route, CancellationToken ct)
    {
        Throw("route");
        return inner.SetRouteAsync(route, ct);
    }

    public ValueTask DrainAsync(InstanceId id, CancellationToken ct)
    {
        Throw("drain");
        return inner.DrainAsync(id, ct);
    }

    public ValueTask StopAsync(InstanceId id, CancellationToken ct)
    {
        Throw("stop");
        return inner.StopAsync(id, ct);
    }

    public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken ct)
    {
        Throw("observe");
        return inner.ObserveAsync(ct);
    }

    public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken ct)
    {
        Throw("floor");
        return inner.SetFloorAsync(app, siteId, minReplicas, ct);
    }

    private void Throw(string operation)
    {
        Calls.Add(operation);
        if (_next.TryGetValue(operation, out Queue<Exception>? q) && q.TryDequeue(out Exception? e))
        {
            Injected++;
            throw e;
        }
    }
}
