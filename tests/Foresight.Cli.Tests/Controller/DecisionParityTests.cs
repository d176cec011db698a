using System.Globalization;
using Foresight.Control.Decision;
using Foresight.Control.Loop;
using Foresight.Control.Placement;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Predictive;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Kubernetes;
using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// One controller, two clusters: the same scripted observations (demand moving from site a to site b at
/// <see cref="Shift"/>) and the same <see cref="PredictivePolicy"/> with a forecaster that knows the script drive a
/// <see cref="ControlLoop"/> over the simulator and one over <see cref="KubernetesOrchestrator"/> on the in-test API
/// server, ticked in step. After every tick, the desired placement (with its forecast part) and the commands issued
/// (instance ids replaced by their site) must be the same, and so must the instances' states by site.
/// </summary>
public sealed class DecisionParityTests
{
    private const double Tick = 5;
    private const double Shift = 200;
    private const int Ticks = 72;
    private const double Rate = 120;

    private static readonly AppProfile s_app = new() { Name = "shop", ColdStartSeconds = 10, WarmupSeconds = 20, MinInstances = 1, MaxInstances = 10 };

    [Fact]
    public async Task The_same_observations_give_the_same_placements_and_commands_on_the_simulator_and_on_Kubernetes()
    {
        IReadOnlyList<string> sim = await RunSimulatorAsync();
        IReadOnlyList<string> kube = await RunKubernetesAsync(kubeletLagSeconds: 0);

        // The script really is a migration ahead of the shift, so the comparison is not between two idle loops.
        // B is started a lead time ahead and is Ready before the shift; b's traffic is routed to b, a's pods are drained
        // and then stopped, and a's traffic goes to b.
        Assert.Contains(sim, l => Time(l) < Shift - 30 && l.Contains("spin-up shop@b", StringComparison.Ordinal));
        Assert.Contains(sim, l => Time(l) < Shift && l.EndsWith("a:Readyx2 b:Readyx2", StringComparison.Ordinal));
        Assert.Contains(sim, l => Time(l) < Shift && l.Contains("route shop@b -> b:1000", StringComparison.Ordinal));
        Assert.Contains(sim, l => l.Contains("route shop@a -> b:1000; drain shop@a surplus; drain shop@a surplus", StringComparison.Ordinal));
        Assert.Contains(sim, l => l.Contains("stop shop@a Drained; stop shop@a Drained", StringComparison.Ordinal));
        Assert.EndsWith("| b:Readyx2", sim[^1], StringComparison.Ordinal);
        AssertSameTrace(sim, kube);
    }

    [Fact]
    public async Task A_kubelet_slower_than_the_apps_cold_start_breaks_parity()
    {
        // The check above can fail: pods that become Ready 10 s later than the app's cold start move every step after.
        IReadOnlyList<string> sim = await RunSimulatorAsync();
        IReadOnlyList<string> kube = await RunKubernetesAsync(kubeletLagSeconds: 10);

        Assert.NotEqual(sim.Select(Commands), kube.Select(Commands));
    }

    private static EdgeTopology Topology() => new(
        [new Site("a", 0, 0), new Site("b", 0, 0)],
        [new Server("srv-a", "a", 64), new Server("srv-b", "b", 64)],
        [new Source("a", 0, 0), new Source("b", 0, 0)],
        [0, 1],
        new RttModel());

    private static async Task<IReadOnlyList<string>> RunSimulatorAsync()
    {
        EdgeTopology topology = Topology();

        // The simulator serves no traffic of its own here: the policy and the routes see only the script.
        var sim = new EdgeSimulator(new EngineSetup(topology, [s_app], new ConstantDemand(1, 2, (_, _, _) => 0), 1, 1, FakeCluster.Epoch));
        sim.CreateReadyInstance("shop", "a");
        sim.CreateReadyInstance("shop", "a");
        DateTimeOffset start = sim.Clock.GetUtcNow();
        ControlLoop loop = Loop(topology, sim, sim.Clock, start);
        loop.Adopt(sim.Snapshot());
        var trace = new List<string>();
        for (int i = 1; i <= Ticks; i++)
        {
            for (int s = 0; s < Tick; s++)
            {
                sim.Step();
            }

            ControlTick tick = await loop.TickAsync(CancellationToken.None);
            trace.Add(Describe(loop, start, sim.Clock, tick, await sim.ObserveAsync(CancellationToken.None)));
        }

        return trace;
    }

    private static async Task<IReadOnlyList<string>> RunKubernetesAsync(double kubeletLagSeconds)
    {
        EdgeTopology topology = Topology();
        await using var cluster = new FakeCluster(gatewayApi: true, ns: "edge");

        // The kubelet stand-in: the scale-up reaches the ReplicaSet one pass later, the pod exists one pass after that
        // and is bound a second later (3 s); it runs 6 s on and is Ready 2 s after that, 11 s after the spin-up, and
        // the adapter reports it Ready once the app's warm-up that follows is over. The simulator's instance is Warming
        // from 10 s and Ready from 30 s after its spin-up: the ticks every 5 s see the same states at the same times.
        cluster.StartDelay = TimeSpan.FromSeconds(s_app.ColdStartSeconds - 4 + kubeletLagSeconds);
        cluster.ReadyDelay = TimeSpan.FromSeconds(2);
        var options = new KubernetesOrchestratorOptions
        {
            Namespace = "edge",
            Sites = ["a", "b"],
            Apps = new Dictionary<string, AppWorkload>
            {
                ["shop"] = new() { Image = "registry.example/shop:1", WarmupSeconds = s_app.WarmupSeconds, WarmupStartCapacity = s_app.WarmupStartCapacity },
            },
            Gateway = new GatewayParent("edge-gw-{site}", "gateway-system", "http"),
            TrafficMode = TrafficMode.GatewayApi,
            DrainGracePeriod = TimeSpan.FromSeconds(10),
        };
        await using var kube = new KubernetesOrchestrator(cluster.Server.CreateClient(), options, cluster.Clock);
        await kube.StartAsync(CancellationToken.None);

        // The same starting point as the simulator's: two warm instances at a (made through the port before the run).
        await kube.SpinUpAsync(new SpinUpRequest("initial-1", "shop", "a"), CancellationToken.None);
        await kube.SpinUpAsync(new SpinUpRequest("initial-2", "shop", "a"), CancellationToken.None);
        cluster.Advance(TimeSpan.FromSeconds(60 + kubeletLagSeconds));
        await CacheSync.SyncAsync(kube, cluster.Server);
        ClusterSnapshot initial = await kube.ObserveAsync(CancellationToken.None);
        Assert.Equal([InstanceState.Ready, InstanceState.Ready], initial.Instances.Select(i => i.State));

        DateTimeOffset start = cluster.Clock.GetUtcNow();
        ControlLoop loop = Loop(topology, kube, cluster.Clock, start);
        loop.Adopt(initial);
        var trace = new List<string>();
        for (int i = 1; i <= Ticks; i++)
        {
            cluster.Advance(TimeSpan.FromSeconds(Tick));
            await CacheSync.SyncAsync(kube, cluster.Server);
            ControlTick tick = await loop.TickAsync(CancellationToken.None);
            await CacheSync.SyncAsync(kube, cluster.Server);
            trace.Add(Describe(loop, start, cluster.Clock, tick, await kube.ObserveAsync(CancellationToken.None)));
        }

        return trace;
    }

    private static ControlLoop Loop(EdgeTopology topology, IOrchestrator orchestrator, TimeProvider clock, DateTimeOffset start)
    {
        double Now() => (clock.GetUtcNow() - start).TotalSeconds;
        var context = new PolicyContext(topology, [s_app], new ScriptedObservations(Now), clock, start, targetUtilization: 0.7);
        var policy = new PredictivePolicy("predictive", new ScriptedForecaster(start));
        return new ControlLoop(policy, context, orchestrator, new DesiredPlacement(1, topology.SiteCount));
    }

    /// <summary>One line per tick: the desired placement (and its forecast part), the commands issued, the live states.</summary>
    private static string Describe(ControlLoop loop, DateTimeOffset start, TimeProvider clock, ControlTick tick, ClusterSnapshot after)
    {
        double t = (clock.GetUtcNow() - start).TotalSeconds;
        DesiredPlacement d = loop.Desired;
        string commands = string.Join("; ", (tick.Plan?.Commands ?? []).Select(c => Command(c, after)));
        string states = string.Join(" ", after.Instances
            // Pending (no pod yet) and Starting are one state here: a simulated instance has a server at once, a pod two
            // controller passes after the scale-up; both are in cold start and neither serves.
            .GroupBy(i => (i.SiteId, State: i.State == InstanceState.Pending ? InstanceState.Starting : i.State))
            .OrderBy(g => g.Key.SiteId, StringComparer.Ordinal).ThenBy(g => g.Key.State)
            .Select(g => $"{g.Key.SiteId}:{g.Key.State}x{g.Count()}"));
        return string.Create(CultureInfo.InvariantCulture,
            $"t={t:0} desired a={d[0, 0]} b={d[0, 1]} anticipated a={d.Anticipated(0, 0)} b={d.Anticipated(0, 1)} decided={tick.Decided} error={tick.Error ?? "-"} | {commands} | {states}");
    }

    /// <summary>A command with its instance named by its site (ids differ between the clusters).</summary>
    private static string Command(ReconcileCommand command, ClusterSnapshot after) => command switch
    {
        ReconcileCommand.SpinUp s => $"spin-up {s.Request.App}@{s.Request.SiteId} ({s.Request.RequestId})",
        ReconcileCommand.Drain d => $"drain {d.App}@{SiteOf(d.Instance, after)} {d.Reason}",
        ReconcileCommand.Stop s => $"stop {s.App}@{SiteOf(s.Instance, after)} {s.Reason}",
        ReconcileCommand.SetRoute r => $"route {r.Route.App}@{r.Route.IngressSiteId} -> "
            + string.Join(" ", r.Route.Weights.OrderBy(w => w.SiteId, StringComparer.Ordinal).Select(w => string.Create(CultureInfo.InvariantCulture, $"{w.SiteId}:{w.Weight:0.###}"))),
        ReconcileCommand.SetFloor f => $"set-floor {f.App}@{f.SiteId} {f.Was}->{f.MinReplicas}",
        _ => command.ToString(),
    };

    /// <summary>Instances are named "app-site-n" in the simulator and carry their site in Kubernetes; a stopped one is no longer listed.</summary>
    private static string SiteOf(InstanceId id, ClusterSnapshot after) =>
        after.Instances.FirstOrDefault(i => i.Id == id)?.SiteId
        ?? (id.Value.Contains("-a-", StringComparison.Ordinal) || id.Value.Contains("shop-a", StringComparison.Ordinal) ? "a"
            : id.Value.Contains("-b-", StringComparison.Ordinal) || id.Value.Contains("shop-b", StringComparison.Ordinal) ? "b" : $"?{id.Value}");

    /// <summary>Names the first tick that differs, with both lines in full.</summary>
    private static void AssertSameTrace(IReadOnlyList<string> sim, IReadOnlyList<string> kube)
    {
        Assert.Equal(sim.Count, kube.Count);
        for (int i = 0; i < sim.Count; i++)
        {
            Assert.True(sim[i] == kube[i], $"tick {i + 1} differs:\nsimulator:  {sim[i]}\nkubernetes: {kube[i]}");
        }
    }

    private static string Commands(string line) => line.Split(" | ")[1];

    private static double Time(string line) => double.Parse(line[2..line.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);

    /// <summary>The script: <see cref="Rate"/> req/s entering at a until <see cref="Shift"/>, then at b.</summary>
    private static double ScriptRate(int site, double t) => (t < Shift) == (site == 0) ? Rate : 0;

    /// <summary>The observation port replaying the script: what a metrics pipeline would have measured by now.</summary>
    private sealed class ScriptedObservations(Func<double> now) : IMetricsObserver
    {
        public double SampleSeconds => Tick;

        public ValueTask RefreshAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void IngressRates(int app, double windowSeconds, Span<double> ratesBySite)
        {
            // The mean over the window's whole seconds, all in the past.
            double t = now();
            int seconds = Math.Max(1, (int)Math.Round(windowSeconds));
            for (int s = 0; s < ratesBySite.Length; s++)
            {
                double sum = 0;
                for (int k = 1; k <= seconds; k++)
                {
                    sum += ScriptRate(s, t - k);
                }

                ratesBySite[s] = sum / seconds;
            }
        }

        /// <summary>Every pod at the target utilization's level: the HPA algorithm keeps the count as it is.</summary>
        public double? InstanceUtilization(InstanceId id) => 0.7;

        public double Concurrency(int app) => 0;
    }

    /// <summary>Knows the script, as the oracle knows a scenario: the rate of each coming step, at every quantile.</summary>
    private sealed class ScriptedForecaster(DateTimeOffset epoch) : IDemandForecaster
    {
        public double StepSeconds => Tick;

        public int HorizonSteps => 14;

        public void Observe(int app, double time, ReadOnlySpan<double> ratesBySite)
        {
        }

        public Forecast? Predict(int app, int site, double now)
        {
            double[] values = Enumerable.Range(0, HorizonSteps).Select(k => ScriptRate(site, now + ((k + 0.5) * StepSeconds))).ToArray();
            IReadOnlyList<double> levels = Forecast.RequiredLevels;
            return new Forecast($"script/{app}/{site}", epoch.AddSeconds(now + StepSeconds), TimeSpan.FromSeconds(StepSeconds), levels,
                levels.Select(_ => (IReadOnlyList<double>)values).ToList(), values);
        }
    }
}
