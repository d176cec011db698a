using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Simulation.Engine;

/// <summary>What the simulator needs to run: the cluster, the apps and the demand to replay.</summary>
public sealed record EngineSetup(
    EdgeTopology Topology,
    IReadOnlyList<AppProfile> Apps,
    IDemand Demand,
    double StepSeconds,
    int Seed,
    DateTimeOffset Epoch)
{
    /// <summary>Seconds of per-instance CPU history kept for HPA-style metrics (metrics-server's window).</summary>
    public double MetricsWindowSeconds { get; init; } = 15;

    /// <summary>Seconds of per-site arrival-rate history kept for routing and placement.</summary>
    public double RateHistorySeconds { get; init; } = 120;

    /// <summary>Latency samples drawn per (flow, instance) group and step; more is smoother and slower.</summary>
    public int LatencySamplesPerGroup { get; init; } = 3;

    /// <summary>Scheduled link degradations (the scenario's <c>network:</c> section); none keeps every link at its base RTT, uncapped.</summary>
    public IReadOnlyList<NetworkEvent> NetworkEvents { get; init; } = [];

    /// <summary>Bucket of the per-site latency statistics (<see cref="EdgeSimulator.SiteStats"/>).</summary>
    public double SiteStatsBucketSeconds { get; init; } = 10;
}

/// <summary>
/// The embedded simulated edge cluster: a fluid, step-based model of instances serving Poisson arrivals.
/// Each instance is an M/M/c queue; overload builds a backlog that drains at full service rate, and
/// past the queue limit requests are dropped. It implements <see cref="IOrchestrator"/>, the only way
/// policies act on it. Calls complete synchronously in simulated time.
/// </summary>
public sealed partial class EdgeSimulator : IOrchestrator
{
    private readonly EngineSetup _setup;
    private readonly EdgeTopology _topology;
    private readonly IReadOnlyList<AppProfile> _apps;
    private readonly Dictionary<string, int> _appIndex = new(StringComparer.Ordinal);
    private readonly List<SimInstance> _instances = [];
    private readonly Dictionary<string, SimInstance> _byId = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimInstance> _byRequest = new(StringComparer.Ordinal);
    private readonly SimServer[] _servers;
    private readonly double[][][] _routeWeights; // [app][ingress][dest], empty = no route set
    private readonly Route?[][] _routes;
    private readonly int[][] _sitesByRtt; // [site] -> sites ordered by RTT from it
    private readonly RateHistory[] _arrivalHistory; // [app], per ingress site
    private readonly List<ReadyWaiter> _waiters = [];
    private readonly double[] _rates;
    private readonly double[] _ingressRate;
    private readonly double[] _ingressAccessMs;
    private readonly double[] _siteArrivals;
    private readonly double[] _siteIntensity;
    private readonly double[] _ingressArrivals;
    private readonly List<Flow> _flows = [];
    private readonly List<SimInstance>[] _routableAtSite;
    private readonly double[] _appConcurrency;
    private readonly double[] _appArrivals;
    private readonly LiveNetwork? _network;
    private DeterministicRandom _latencyRandom;
    private long _step;
    private long _nextInstance;
    private long _forgotten;

    public EdgeSimulator(EngineSetup setup)
    {
        ArgumentNullException.ThrowIfNull(setup);
        if (!(setup.StepSeconds > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(setup), "StepSeconds must be positive.");
        }

        if (setup.Demand.AppCount != setup.Apps.Count || setup.Demand.SourceCount != setup.Topology.Sources.Count)
        {
            throw new ArgumentException("Demand does not match the apps and sources of the topology.", nameof(setup));
        }

        _setup = setup;
        _topology = setup.Topology;
        _apps = setup.Apps;
        for (int a = 0; a < _apps.Count; a++)
        {
            _appIndex.Add(_apps[a].Name, a);
        }

        Clock = new SimulatedClock(setup.Epoch);
        _servers = new SimServer[_topology.Servers.Count];
        for (int i = 0; i < _servers.Length; i++)
        {
            Server s = _topology.Servers[i];
            _servers[i] = new SimServer(s.Id, _topology.SiteIndex(s.SiteId), s.CpuCores);
        }

        int sites = _topology.SiteCount;
        _routeWeights = new double[_apps.Count][][];
        _routes = new Route?[_apps.Count][];
        _arrivalHistory = new RateHistory[_apps.Count];
        int historySteps = Math.Max(1, (int)Math.Ceiling(setup.RateHistorySeconds / setup.StepSeconds));
        for (int a = 0; a < _apps.Count; a++)
        {
            _routeWeights[a] = new double[sites][];
            _routes[a] = new Route?[sites];
            for (int i = 0; i < sites; i++)
            {
                _routeWeights[a][i] = [];
            }

            _arrivalHistory[a] = new RateHistory(sites, historySteps);
        }

        _sitesByRtt = new int[sites][];
        for (int i = 0; i < sites; i++)
        {
            int from = i;
            _sitesByRtt[i] = Enumerable.Range(0, sites).OrderBy(j => _topology.SiteRttMs(from, j)).ThenBy(j => j).ToArray();
        }

        _rates = new double[_topology.Sources.Count];
        _ingressRate = new double[sites];
        _ingressAccessMs = new double[sites];
        _siteArrivals = new double[sites];
        _siteIntensity = new double[sites];
        _ingressArrivals = new double[sites];
        _routableAtSite = new List<SimInstance>[sites];
        for (int i = 0; i < sites; i++)
        {
            _routableAtSite[i] = [];
        }

        _appConcurrency = new double[_apps.Count];
        _appArrivals = new double[_apps.Count];
        _latencyRandom = DeterministicRandom.For(setup.Seed, 0x1A7E, 7);
        _network = setup.NetworkEvents.Count > 0 ? new LiveNetwork(_topology, setup.NetworkEvents) : null;
        Metrics = new SimulationMetrics(_apps.Count);
        SiteStats = new SiteWindowStats(_apps.Count, sites, setup.SiteStatsBucketSeconds);
    }

    /// <summary>What the users entering at each site saw, per app and time bucket (for per-migration comparisons).</summary>
    public SiteWindowStats SiteStats { get; }

    public SimulatedClock Clock { get; }

    public EdgeTopology Topology => _topology;

    public IReadOnlyList<AppProfile> Apps => _apps;

    public double StepSeconds => _setup.StepSeconds;

    /// <summary>Simulated seconds since the start.</summary>
    public double Now => Clock.Seconds;

    public long StepIndex => _step;

    public SimulationMetrics Metrics { get; }

    /// <summary>Latest per-step concurrency (requests in the system, Little's law) per app: Knative's scaling metric.</summary>
    public ReadOnlySpan<double> AppConcurrency => _appConcurrency;

    /// <summary>Requests that arrived per app in the last step.</summary>
    public ReadOnlySpan<double> AppArrivals => _appArrivals;

    /// <summary>
    /// The network as a controller would measure it now (live RTT per path, link bandwidth and utilisation), or null
    /// while no scheduled degradation is in force (the topology's base RTTs, no caps).
    /// </summary>
    public NetworkView? Network => _network is { AnyActive: true } network ? network.View() : null;

    public int AppIndex(string app) =>
        _appIndex.TryGetValue(app, out int a) ? a : throw new OrchestratorException($"Unknown app '{app}'.", isTransient: false);

    /// <summary>Mean observed arrival rate (req/s) of an app entering at each site over the last <paramref name="windowSeconds"/>.</summary>
    public void ObservedIngressRates(int app, double windowSeconds, Span<double> ratesBySite)
    {
        int steps = Math.Max(1, (int)Math.Round(windowSeconds / _setup.StepSeconds));
        _arrivalHistory[app].Average(steps, ratesBySite, _setup.StepSeconds);
    }

    /// <summary>Average CPU utilization (fraction of the instance's CPU request) over the metrics window, or null before any sample.</summary>
    public double? InstanceUtilization(InstanceId id) =>
        _byId.TryGetValue(id.Value, out SimInstance? inst) ? inst.Cpu.Average() : null;

    /// <summary>Creates an instance that is Ready at once (the shared initial state of every policy).</summary>
    public InstanceInfo CreateReadyInstance(string app, string siteId)
    {
        InstanceInfo info = SpinUpCore(new SpinUpRequest($"initial/{app}/{siteId}/{_nextInstance}", app, siteId));
        SimInstance inst = _byId[info.Id.Value];
        if (inst.State == InstanceState.Starting)
        {
            inst.Enter(InstanceState.Ready, Now);
            inst.CapacityFraction = 1;
            inst.ReadyAt = Now;
        }

        return ToInfo(inst);
    }

    /// <summary>Advances the simulation by one step: lifecycle, arrivals, routing, queueing and metrics.</summary>
    public void Step()
    {
        double dt = _setup.StepSeconds;
        double t = Now;
        _network?.Update(t);
        AdvanceLifecycle(t);
        for (int a = 0; a < _apps.Count; a++)
        {
            ServeApp(a, t, dt);
        }

        AccountCost(dt);
        _network?.EndStep();
        Clock.Advance(dt);
        _step++;
        CompleteWaiters();
    }

    private void AccountCost(double dt)
    {
        foreach (SimInstance inst in _instances)
        {
            // Cost runs from Starting (scheduled) to Stopped, as a cloud bill would.
            if (inst.State is InstanceState.Starting or InstanceState.Warming or InstanceState.Ready or InstanceState.Draining)
            {
                Metrics.InstanceSeconds[inst.App] += dt;
            }
        }
    }

    private void AdvanceLifecycle(double t)
    {
        bool removed = false;
        foreach (SimInstance inst in _instances)
        {
            AppProfile app = _apps[inst.App];
            switch (inst.State)
            {
                case InstanceState.Pending:
                    TrySchedule(inst, t);
                    break;
                case InstanceState.Starting when !inst.Stalled && t - inst.StateSince >= app.ColdStartSeconds - 1e-9:
                    inst.Enter(app.WarmupSeconds > 0 ? InstanceState.Warming : InstanceState.Ready, t);
                    inst.CapacityFraction = app.WarmupSeconds > 0 ? app.WarmupStartCapacity : 1;
                    if (inst.State == InstanceState.Ready)
                    {
                        inst.ReadyAt = t;
                    }

                    break;
                case InstanceState.Warming:
                    double progress = (t - inst.StateSince) / app.WarmupSeconds;
                    if (progress >= 1 - 1e-9)
                    {
                        inst.Enter(InstanceState.Ready, t);
                        inst.CapacityFraction = 1;
                        inst.ReadyAt = t;
                    }
                    else
                    {
                        inst.CapacityFraction = app.WarmupStartCapacity + ((1 - app.WarmupStartCapacity) * progress);
                    }

                    break;
                case InstanceState.Stopped:
                    removed = true;
                    break;
            }
        }

        if (removed && _instances.Count > 64)
        {
            // Keep the hot loop short; stopped instances stay findable through _byId.
            _instances.RemoveAll(i => i.State == InstanceState.Stopped);
        }
    }

    private void TrySchedule(SimInstance inst, double t)
    {
        double cpu = _apps[inst.App].Concurrency;
        int best = -1;
        for (int s = 0; s < _servers.Length; s++)
        {
            SimServer server = _servers[s];
            if (server.Site != inst.Site || !server.Up || server.Capacity - server.Allocated < cpu - 1e-9)
            {
                continue;
            }

            // Least-allocated first, like the default kube-scheduler scoring.
            if (best < 0 || server.Allocated < _servers[best].Allocated)
            {
                best = s;
            }
        }

        if (best < 0)
        {
            return;
        }

        _servers[best].Allocated += cpu;
        inst.Server = best;
        inst.Enter(InstanceState.Starting, t);
    }

    private void ServeApp(int a, double t, double dt)
    {
        AppProfile app = _apps[a];
        int sites = _topology.SiteCount;
        _setup.Demand.FillRates(a, t, _rates);
        Array.Clear(_ingressRate);
        Array.Clear(_ingressAccessMs);
        Array.Clear(_siteArrivals);
        Array.Clear(_siteIntensity);
        Array.Clear(_ingressArrivals);
        IReadOnlyList<int> ingressOf = _topology.IngressSite;
        IReadOnlyList<double> access = _topology.AccessMs;
        for (int s = 0; s < _rates.Length; s++)
        {
            double r = _rates[s];
            if (r > 0)
            {
                int i = ingressOf[s];
                _ingressRate[i] += r;
                _ingressAccessMs[i] += r * access[s];
            }
        }

        for (int d = 0; d < sites; d++)
        {
            _routableAtSite[d].Clear();
        }

        foreach (SimInstance inst in _instances)
        {
            if (inst.App == a && inst.State.IsRoutable())
            {
                _routableAtSite[inst.Site].Add(inst);
            }
        }

        _flows.Clear();
        double arrivalsTotal = 0;
        RateHistory history = _arrivalHistory[a];
        history.BeginStep();
        for (int i = 0; i < sites; i++)
        {
            double rate = _ingressRate[i];
            if (!(rate > 0))
            {
                continue;
            }

            // Counts are Poisson draws (what monitoring sees and what is billed as requests); the queues use the
            // intensity itself, because the M/M/c formulas already account for Poisson arrivals.
            DeterministicRandom rng = DeterministicRandom.For(_setup.Seed, _step, a, i);
            double n = rng.NextPoisson(rate * dt);
            _ingressArrivals[i] = n;
            history.Add(i, n);
            arrivalsTotal += n;
            double accessMs = _ingressAccessMs[i] / rate;
            RouteFlows(a, i, n, rate, accessMs);
        }

        _appArrivals[a] = arrivalsTotal;
        Metrics.Requests[a] += arrivalsTotal;

        // Instances: split each site's arrivals evenly, then queue.
        double concurrency = 0;
        foreach (SimInstance inst in _instances)
        {
            if (inst.App != a)
            {
                continue;
            }

            double intensity = 0;
            if (inst.State.IsRoutable())
            {
                intensity = _siteIntensity[inst.Site] / _routableAtSite[inst.Site].Count;
            }

            if (inst.State.IsRoutable() || inst.State == InstanceState.Draining)
            {
                concurrency += ServeInstance(inst, app, intensity, dt);
            }
        }

        _appConcurrency[a] = concurrency;

        // Latency of every flow, through each instance of its destination site.
        double slo = app.LatencySloMs;
        LatencyHistogram histogram = Metrics.Latency[a];
        int samples = _setup.LatencySamplesPerGroup;
        double violations = 0;
        foreach (Flow flow in _flows)
        {
            List<SimInstance> targets = _routableAtSite[flow.Destination];
            double perInstance = flow.Requests / targets.Count;
            foreach (SimInstance inst in targets)
            {
                double served = perInstance * inst.AcceptedFraction;
                if (served <= 0)
                {
                    SiteStats.Add(a, flow.Ingress, t, new SiteWindow(0, perInstance, 0, 0));
                    continue;
                }

                double over = served * inst.SurvivalBeyond(slo - flow.RttMs);
                violations += over;
                int k = (int)Math.Min(samples, Math.Ceiling(served));
                double weight = served / k;
                double latencySum = 0;
                for (int j = 0; j < k; j++)
                {
                    double ms = flow.RttMs + (inst.SampleResponseSeconds(ref _latencyRandom) * 1000);
                    histogram.Add(ms, weight);
                    latencySum += ms * weight;
                }

                // Requests this instance turned away count against the site they entered at.
                SiteStats.Add(a, flow.Ingress, t, new SiteWindow(0, over + (perInstance - served), served, latencySum));
            }
        }

        for (int i = 0; i < sites; i++)
        {
            if (_ingressArrivals[i] > 0)
            {
                SiteStats.Add(a, i, t, new SiteWindow(_ingressArrivals[i], 0, 0, 0));
            }
        }

        Metrics.SloViolations[a] += violations;
        Metrics.RecordStep(a, arrivalsTotal, violations, _step, t);
    }

    private void RouteFlows(int a, int ingress, double n, double rate, double accessMs)
    {
        double[] weights = _routeWeights[a][ingress];
        double usable = 0;
        for (int d = 0; d < weights.Length; d++)
        {
            if (weights[d] > 0 && _routableAtSite[d].Count > 0)
            {
                usable += weights[d];
            }
        }

        if (usable > 0)
        {
            for (int d = 0; d < weights.Length; d++)
            {
                if (weights[d] > 0 && _routableAtSite[d].Count > 0)
                {
                    double share = weights[d] / usable;
                    AddFlow(a, ingress, d, n * share, rate * share, accessMs);
                }
            }

            return;
        }

        // No usable route: fail over to the nearest site with a routable instance, as locality failover would.
        foreach (int d in _sitesByRtt[ingress])
        {
            if (_routableAtSite[d].Count > 0)
            {
                if (weights.Length > 0)
                {
                    Metrics.FailoverRequests[a] += n;
                }

                AddFlow(a, ingress, d, n, rate, accessMs);
                return;
            }
        }

        // The app has nothing that can serve: these requests are lost.
        Metrics.AddDropped(a, n, Now);
        Metrics.Unserved[a] += n;
        SiteStats.Add(a, ingress, Now, new SiteWindow(0, n, 0, 0));
    }

    private void AddFlow(int a, int ingress, int destination, double requests, double intensity, double accessMs)
    {
        double rtt = accessMs + _topology.SiteRttMs(ingress, destination);
        if (_network is { AnyActive: true } network)
        {
            (double extraMs, double drop) = network.Flow(ingress, destination, intensity, _ingressRate[ingress], _rates, _apps[a].MegabitsPerRequest);
            rtt += extraMs;
            if (drop > 0)
            {
                // A full link drops before the requests reach an instance.
                Metrics.AddDropped(a, requests * drop, Now);
                Metrics.LinkDropped[a] += requests * drop;
                requests *= 1 - drop;
                intensity *= 1 - drop;
            }
        }

        _siteArrivals[destination] += requests;
        _siteIntensity[destination] += intensity;
        _flows.Add(new Flow(ingress, destination, requests, rtt));
    }

    /// <returns>The instance's mean number of requests in the system this step (Little's law).</returns>
    private double ServeInstance(SimInstance inst, AppProfile app, double lambda, double dt)
    {
        double mu = inst.CapacityFraction * 1000.0 / app.ServiceTimeMs;
        int c = app.Concurrency;
        double capacity = c * mu * dt; // requests the instance can finish this step
        double arrivals = lambda * dt;
        double backlogBefore = inst.Backlog;
        inst.AcceptedFraction = 1;
        if (capacity <= 0)
        {
            inst.Mode = QueueMode.Down;
            return 0;
        }

        if (backlogBefore <= 1e-9 && lambda < c * mu * 0.995)
        {
            inst.Mode = QueueMode.Stationary;
            inst.Queue = new MmcState(c, mu, lambda);
            inst.Backlog = 0;
            double utilization = lambda / (c * mu);
            inst.Cpu.Add(utilization);
            return lambda * inst.Queue.MeanResponseSeconds;
        }

        // Overload or a backlog to work off: fluid queue.
        double backlogAfter = Math.Max(0, backlogBefore + arrivals - capacity);
        double limit = app.QueueLimitPerInstance;
        if (backlogAfter > limit)
        {
            double dropped = backlogAfter - limit;
            Metrics.AddDropped(inst.App, dropped, Now);
            inst.AcceptedFraction = arrivals > 0 ? Math.Max(0, 1 - (dropped / arrivals)) : 1;
            backlogAfter = limit;
        }

        inst.Backlog = backlogAfter;
        inst.Mode = QueueMode.Fluid;
        inst.Queue = new MmcState(c, mu, lambda);
        inst.FluidWaitSeconds = 0.5 * (backlogBefore + backlogAfter) / (c * mu);
        inst.Cpu.Add(1);
        return (0.5 * (backlogBefore + backlogAfter)) + c;
    }

    private readonly record struct Flow(int Ingress, int Destination, double Requests, double RttMs);

    private sealed record ReadyWaiter(SimInstance Instance, double Deadline, TaskCompletionSource<InstanceInfo> Completion);
}
