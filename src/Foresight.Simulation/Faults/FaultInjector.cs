using Foresight.Orchestration;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Faults;

/// <summary>
/// Sits between the reconciler and the simulator and injects <see cref="FaultSettings"/>' faults. A failing call
/// changes nothing, as a rejected API request would not.
/// </summary>
public sealed class FaultInjector : IOrchestrator
{
    private readonly EdgeSimulator _sim;
    private readonly FaultSettings _settings;
    private readonly Random _random;
    private int _nextServerFailure;

    public FaultInjector(EdgeSimulator sim, FaultSettings settings)
    {
        ArgumentNullException.ThrowIfNull(sim);
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is string bad)
        {
            throw new ArgumentException($"Invalid fault setting {bad}.", nameof(settings));
        }

        _sim = sim;
        _settings = settings;
        _random = new Random(settings.Seed);
    }

    public int ApiErrors { get; private set; }

    public int SpinUpRejections { get; private set; }

    public int Stalls { get; private set; }

    public int ServersLost { get; private set; }

    public int Total => ApiErrors + SpinUpRejections + Stalls + ServersLost;

    /// <summary>Takes down the servers whose failure time has come.</summary>
    public void Advance()
    {
        IReadOnlyList<ServerFailure> failures = _settings.ServerFailures;
        while (_nextServerFailure < failures.Count && failures[_nextServerFailure].AtSeconds <= _sim.Now + 1e-9)
        {
            _sim.FailServer(failures[_nextServerFailure++].ServerId);
            ServersLost++;
        }
    }

    public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken)
    {
        MaybeApiError("spin-up");
        if (_settings.SpinUpFailureRate > 0 && _random.NextDouble() < _settings.SpinUpFailureRate)
        {
            SpinUpRejections++;
            throw new OrchestratorException($"injected: spin-up {request.RequestId} rejected", isTransient: false);
        }

        if (_settings.StallRate > 0 && _random.NextDouble() < _settings.StallRate)
        {
            Stalls++;
            _sim.StallNextSpinUps(1);
        }

        return _sim.SpinUpAsync(request, cancellationToken);
    }

    public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) =>
        _sim.WaitUntilReadyAsync(id, timeout, cancellationToken);

    public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken)
    {
        MaybeApiError("route");
        return _sim.SetRouteAsync(route, cancellationToken);
    }

    public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken)
    {
        MaybeApiError("drain");
        return _sim.DrainAsync(id, cancellationToken);
    }

    public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken)
    {
        MaybeApiError("stop");
        return _sim.StopAsync(id, cancellationToken);
    }

    public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) => _sim.ObserveAsync(cancellationToken);

    public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) =>
        ((IOrchestrator)_sim).SetFloorAsync(app, siteId, minReplicas, cancellationToken);

    private void MaybeApiError(string operation)
    {
        if (_settings.ApiErrorRate > 0 && _random.NextDouble() < _settings.ApiErrorRate)
        {
            ApiErrors++;
            throw new OrchestratorException($"injected: {operation} API error", isTransient: true);
        }
    }
}
