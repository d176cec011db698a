using Foresight.Orchestration;

namespace Foresight.Simulation.Engine;

// The IOrchestrator port. Every call completes synchronously in simulated time.
public sealed partial class EdgeSimulator
{
    private int _stallNext;

    /// <summary>Test hook: the next <paramref name="count"/> new instances hang in cold start forever (never Ready).</summary>
    public void StallNextSpinUps(int count) => _stallNext = count;

    /// <summary>Takes a server down: its instances fail and their queued requests are lost.</summary>
    public void FailServer(string serverId)
    {
        int index = Array.FindIndex(_servers, s => s.Id == serverId);
        if (index < 0)
        {
            throw new OrchestratorException($"Unknown server '{serverId}'.", isTransient: false);
        }

        _servers[index].Up = false;
        foreach (SimInstance inst in _instances)
        {
            if (inst.Server == index && inst.State.IsLive())
            {
                Metrics.AddDropped(inst.App, inst.Backlog, Now);
                inst.Backlog = 0;
                Fail(inst, $"server {serverId} went down");
            }
        }
    }

    public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return ValueTask.FromResult(SpinUpCore(request));
    }

    public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        SimInstance inst = Find(id);
        if (inst.State == InstanceState.Ready)
        {
            return ValueTask.FromResult(ToInfo(inst));
        }

        if (!inst.State.IsLive() || inst.State == InstanceState.Draining)
        {
            return ValueTask.FromException<InstanceInfo>(
                new OrchestratorException($"Instance '{id}' is {inst.State} and will not become ready.", isTransient: false));
        }

        var completion = new TaskCompletionSource<InstanceInfo>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiters.Add(new ReadyWaiter(inst, Now + timeout.TotalSeconds, completion));
        cancellationToken.Register(() => completion.TrySetCanceled(cancellationToken));
        return new ValueTask<InstanceInfo>(completion.Task);
    }

    public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(route);
        int a = AppIndex(route.App);
        if (!_topology.TryGetSiteIndex(route.IngressSiteId, out int ingress))
        {
            throw new OrchestratorException($"Unknown ingress site '{route.IngressSiteId}'.", isTransient: false);
        }

        var weights = new double[_topology.SiteCount];
        double total = 0;
        foreach (SiteWeight w in route.Weights)
        {
            if (!_topology.TryGetSiteIndex(w.SiteId, out int d))
            {
                throw new OrchestratorException($"Route names unknown site '{w.SiteId}'.", isTransient: false);
            }

            if (!(w.Weight >= 0) || double.IsInfinity(w.Weight))
            {
                throw new OrchestratorException($"Route weight for '{w.SiteId}' must be a finite non-negative number.", isTransient: false);
            }

            weights[d] += w.Weight;
            total += w.Weight;
        }

        _routeWeights[a][ingress] = total > 0 ? weights : [];
        _routes[a][ingress] = route;
        return ValueTask.CompletedTask;
    }

    public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken)
    {
        if (WasForgotten(id))
        {
            return ValueTask.CompletedTask;
        }

        SimInstance inst = Find(id);
        switch (inst.State)
        {
            case InstanceState.Draining or InstanceState.Stopped or InstanceState.Failed:
                break;
            case InstanceState.Pending:
                Stop(inst);
                break;
            default:
                inst.Enter(InstanceState.Draining, Now);
                break;
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken)
    {
        if (WasForgotten(id))
        {
            return ValueTask.CompletedTask;
        }

        SimInstance inst = Find(id);
        if (inst.State != InstanceState.Stopped)
        {
            // Anything still queued is lost; the reconciler stops only drained instances.
            Metrics.AddDropped(inst.App, inst.Backlog, Now);
            inst.Backlog = 0;
            Stop(inst);
        }

        return ValueTask.CompletedTask;
    }

    public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken)
    {
        return ValueTask.FromResult(Snapshot());
    }

    /// <summary>The current state without going through the port's fault injection (for the runner's own bookkeeping).</summary>
    public ClusterSnapshot Snapshot()
    {
        var instances = new List<InstanceInfo>(_instances.Count);
        foreach (SimInstance inst in _instances)
        {
            if (inst.State != InstanceState.Stopped)
            {
                instances.Add(ToInfo(inst));
            }
        }

        var routes = new List<Route>();
        foreach (Route?[] perApp in _routes)
        {
            foreach (Route? r in perApp)
            {
                if (r is not null)
                {
                    routes.Add(r);
                }
            }
        }

        var servers = new List<ServerInfo>(_servers.Length);
        foreach (SimServer s in _servers)
        {
            servers.Add(new ServerInfo(s.Id, _topology.Sites[s.Site].Id, s.Capacity, s.Allocated, s.Up));
        }

        return new ClusterSnapshot(Clock.GetUtcNow(), instances, routes, servers) { Network = Network };
    }

    /// <summary>Looks up any instance ever created, including stopped ones.</summary>
    public InstanceInfo Describe(InstanceId id) => ToInfo(Find(id));

    private InstanceInfo SpinUpCore(SpinUpRequest request)
    {
        if (_byRequest.TryGetValue(request.RequestId, out SimInstance? existing))
        {
            return ToInfo(existing);
        }

        int a = AppIndex(request.App);
        if (!_topology.TryGetSiteIndex(request.SiteId, out int site))
        {
            throw new OrchestratorException($"Unknown site '{request.SiteId}'.", isTransient: false);
        }

        int windowSteps = Math.Max(1, (int)Math.Round(_setup.MetricsWindowSeconds / _setup.StepSeconds));
        var inst = new SimInstance($"{request.App}-{request.SiteId}-{_nextInstance++}", request.RequestId, a, site, Now, windowSteps);
        if (_stallNext > 0)
        {
            inst.Stalled = true;
            _stallNext--;
        }

        _instances.Add(inst);
        _byId.Add(inst.Id, inst);
        _byRequest.Add(request.RequestId, inst);
        TrySchedule(inst, Now);
        return ToInfo(inst);
    }

    private void Stop(SimInstance inst)
    {
        ReleaseServer(inst);
        inst.Enter(InstanceState.Stopped, Now);
        inst.CapacityFraction = 0;
    }

    private void Fail(SimInstance inst, string reason)
    {
        ReleaseServer(inst);
        inst.FailureReason = reason;
        inst.Enter(InstanceState.Failed, Now);
        inst.CapacityFraction = 0;
    }

    private void ReleaseServer(SimInstance inst)
    {
        if (inst.Server >= 0)
        {
            _servers[inst.Server].Allocated -= _apps[inst.App].Concurrency;
            inst.Server = -1;
        }
    }

    private void CompleteWaiters()
    {
        if (_waiters.Count == 0)
        {
            return;
        }

        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            ReadyWaiter w = _waiters[i];
            SimInstance inst = w.Instance;
            if (inst.State == InstanceState.Ready)
            {
                w.Completion.TrySetResult(ToInfo(inst));
            }
            else if (!inst.State.IsLive() || inst.State == InstanceState.Draining)
            {
                w.Completion.TrySetException(new OrchestratorException(
                    $"Instance '{inst.Id}' is {inst.State} and will not become ready.", isTransient: false));
            }
            else if (Now >= w.Deadline)
            {
                w.Completion.TrySetException(new TimeoutException($"Instance '{inst.Id}' was not ready in time (still {inst.State})."));
            }
            else
            {
                continue;
            }

            _waiters.RemoveAt(i);
        }
    }

    private SimInstance Find(InstanceId id) =>
        _byId.TryGetValue(id.Value, out SimInstance? inst) ? inst : throw new InstanceNotFoundException(id);

    /// <summary>
    /// Forgets instances stopped before <paramref name="before"/> (a long-running controller's bound on memory). A drain
    /// or stop of a forgotten id still succeeds, as on any stopped instance; <see cref="Describe"/> no longer finds it,
    /// and a spin-up that reuses its request id starts a new instance.
    /// </summary>
    public void ForgetStoppedBefore(double before)
    {
        List<string>? gone = null;
        foreach (SimInstance inst in _byId.Values)
        {
            if (inst.State == InstanceState.Stopped && inst.StateSince < before)
            {
                (gone ??= []).Add(inst.Id);
            }
        }

        if (gone is null)
        {
            return;
        }

        foreach (string id in gone)
        {
            SimInstance inst = _byId[id];
            _byId.Remove(id);
            _byRequest.Remove(inst.RequestId);
            _forgotten++;
        }

        _instances.RemoveAll(i => i.State == InstanceState.Stopped && i.StateSince < before);
    }

    /// <summary>An id this simulator issued (<c>app-site-n</c> with n below the next number) that it has since forgotten.</summary>
    private bool WasForgotten(InstanceId id)
    {
        int dash = id.Value.LastIndexOf('-');
        return _forgotten > 0 && !_byId.ContainsKey(id.Value) && dash > 0
            && long.TryParse(id.Value.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long n)
            && n < _nextInstance;
    }

    private InstanceInfo ToInfo(SimInstance inst)
    {
        DateTimeOffset epoch = Clock.Epoch;
        return new InstanceInfo(
            new InstanceId(inst.Id),
            _apps[inst.App].Name,
            _topology.Sites[inst.Site].Id,
            inst.Server >= 0 ? _servers[inst.Server].Id : null,
            inst.State,
            inst.State.IsRoutable() ? inst.CapacityFraction : 0,
            epoch.AddSeconds(inst.CreatedAt),
            epoch.AddSeconds(inst.StateSince),
            inst.ReadyAt is double r ? epoch.AddSeconds(r) : null,
            inst.Backlog,
            inst.FailureReason);
    }
}
