using System.Text.Json.Nodes;
using Foresight.Cli.Controller;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Orchestration;
using Foresight.Core.Apps;
using Foresight.Kubernetes;
using Foresight.Kubernetes.Tests.Fake;
using Microsoft.Extensions.Time.Testing;
using FakeKubeCluster = Foresight.Kubernetes.Tests.Fake.FakeCluster;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// The kubernetes run mode against the in-test API server: HPAs for app shop at sites a and b, and engines that talk to
/// it through KubernetesClient (floors, policies, lease).
/// </summary>
internal sealed class KubernetesClusterHarness : IAsyncDisposable
{
    public const double Period = 180;
    public const double BurstStart = 120;
    public const string Ns = "shop";

    private readonly List<IAsyncDisposable> _owned = [];

    public KubernetesClusterHarness()
    {
        Cluster = new FakeKubeCluster(gatewayApi: false, ns: Ns);
        Start = Clock.GetUtcNow();
    }

    public FakeKubeCluster Cluster { get; }

    public FakeTimeProvider Clock => Cluster.Clock;

    public DateTimeOffset Start { get; }

    /// <summary>Cold start 10 s, warm-up 20 s: a lead time of 35 s and a hold of 65 s under the default options.</summary>
    public static KubernetesConfig Config { get; } = new()
    {
        Namespace = Ns,
        Prometheus = new Uri("http://127.0.0.1:9/"),
        StepSeconds = 5,
        HorizonSteps = 14,
        WarmupSeconds = 200,
        SeasonSeconds = Period,
        Forecaster = "seasonal-naive",
        Apps = [new KubernetesApp(new AppProfile { Name = "shop", ColdStartSeconds = 10, WarmupSeconds = 20 }, ["a", "b"], "q", "site")],
    };

    public void AddHpa(string site, int min, int max) => Cluster.Server.Create("horizontalpodautoscalers", new JsonObject
    {
        ["metadata"] = new JsonObject { ["name"] = Names.Workload("shop", site) },
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = Names.Workload("shop", site) },
            ["minReplicas"] = min,
            ["maxReplicas"] = max,
            ["metrics"] = new JsonArray(new JsonObject
            {
                ["type"] = "Resource",
                ["resource"] = new JsonObject { ["name"] = "cpu", ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = 70 } },
            }),
        },
    });

    /// <summary>A user's Deployment of (shop, site) with these labels (the policies select by them).</summary>
    public void AddDeployment(string site, params (string Key, string Value)[] labels)
    {
        var l = new JsonObject();
        foreach ((string k, string v) in labels)
        {
            l[k] = v;
        }

        Cluster.Server.Create("deployments", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = Names.Workload("shop", site), ["labels"] = l },
            ["spec"] = new JsonObject { ["replicas"] = 0, ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "shop" } } },
        });
    }

    /// <summary>A user's runnable Deployment of (shop, site) as the README has them: their own labels, pinned to the site's nodes.</summary>
    public void AddUserDeployment(string site, int replicas) =>
        Cluster.Server.Create("deployments", UserWorkloads.Deployment(Names.Workload("shop", site), site, replicas, ("app", "shop")));

    public void AddPolicy(string name, JsonObject spec) => Cluster.Server.Create("migrationpolicies", new JsonObject
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = spec,
    });

    public int MinReplicas(string site = "a") =>
        Cluster.Server.Get("horizontalpodautoscalers", Names.Workload("shop", site))!["spec"]!["minReplicas"]!.GetValue<int>();

    public JsonObject? HpaAnnotations(string site = "a") =>
        Cluster.Server.Get("horizontalpodautoscalers", Names.Workload("shop", site))!["metadata"]!["annotations"] as JsonObject;

    public async Task<KubernetesOrchestrator> OrchestratorAsync()
    {
        var options = new KubernetesOrchestratorOptions
        {
            Namespace = Ns,
            Sites = ["a", "b"],
            Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "registry.example/shop:1" } },
            TrafficMode = TrafficMode.ServiceSelector,
        };
        var kube = new KubernetesOrchestrator(Cluster.Server.CreateClient(), options, Clock);
        _owned.Add(kube);
        await kube.StartAsync(CancellationToken.None);
        return kube;
    }

    /// <summary>
    /// The engine <c>run --orchestrator kubernetes</c> builds (<see cref="KubernetesController.Create"/>) over a real
    /// <see cref="KubernetesOrchestrator"/> on the in-test API server, without Prometheus.
    /// </summary>
    /// <param name="orchestrator">Wraps the adapter (to inject faults); null: the adapter itself.</param>
    public async Task<ControllerEngine> EngineAsync(
        ITrafficObserver? traffic = null, ILeadership? leadership = null, ReconcileJournal? journal = null,
        Func<IOrchestrator, IOrchestrator>? orchestrator = null, bool policies = false, double policyResyncSeconds = 30,
        PredictiveOptions? options = null)
    {
        KubernetesOrchestrator kube = await OrchestratorAsync();
        return KubernetesController.Create(
            Config with { PolicyResyncSeconds = policyResyncSeconds }, options ?? new PredictiveOptions(), 5,
            orchestrator?.Invoke(kube) ?? kube, traffic ?? new PeriodicTraffic(Clock, Start), Clock, journal, leadership,
            policies ? new KubernetesPolicies(new MigrationPolicyClient(Cluster.Server.CreateClient(), Ns)) : null);
    }

    /// <summary>Advances the cluster (its controllers run every second) by 5 s, then runs one engine tick; repeated.</summary>
    public async Task<List<EngineCommand>> TickAsync(IControllerEngine engine, int ticks = 1, bool dryRun = false)
    {
        var commands = new List<EngineCommand>();
        for (int i = 0; i < ticks; i++)
        {
            commands.AddRange((await TickOnceAsync(engine, dryRun)).Commands);
        }

        return commands;
    }

    /// <summary>
    /// One 5 s step of the cluster and one engine tick. The adapters' watch caches catch up with the server first, so the
    /// tick sees what the cluster did in those 5 s however the threads were scheduled.
    /// </summary>
    public async Task<EngineTick> TickOnceAsync(IControllerEngine engine, bool dryRun = false)
    {
        Cluster.Advance(TimeSpan.FromSeconds(5));
        foreach (KubernetesOrchestrator kube in _owned.OfType<KubernetesOrchestrator>())
        {
            await CacheSync.SyncAsync(kube, Cluster.Server);
        }

        return await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun, CancellationToken.None);
    }

    /// <summary>Ticks (5 s each, at most <paramref name="max"/>) until <paramref name="done"/> holds.</summary>
    public async Task<List<EngineCommand>> TickUntilAsync(IControllerEngine engine, Func<List<EngineCommand>, bool> done, int max = 80, bool dryRun = false)
    {
        var commands = new List<EngineCommand>();
        for (int i = 0; i < max && !done(commands); i++)
        {
            commands.AddRange(await TickAsync(engine, 1, dryRun));
        }

        Assert.True(done(commands), $"not reached within {max} ticks; commands: {string.Join(", ", commands)}");
        return commands;
    }

    /// <summary>The floor a set-floor command wrote (its detail is "minReplicas W -> N").</summary>
    public static int FloorOf(EngineCommand c) => FloorOf(c.Detail);

    public static int FloorOf(string detail) =>
        int.Parse(detail[(detail.LastIndexOf("-> ", StringComparison.Ordinal) + 3)..], System.Globalization.CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        foreach (IAsyncDisposable d in _owned)
        {
            await d.DisposeAsync();
        }

        await Cluster.DisposeAsync();
    }

    /// <summary>Site a has a 400 req/s burst in seconds 120-135 of every three minutes; site b stays flat at 20 req/s.</summary>
    public sealed class PeriodicTraffic(TimeProvider time, DateTimeOffset start) : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
        {
            double t = (time.GetUtcNow() - start).TotalSeconds % Period;
            return ValueTask.FromResult(new[] { t is >= BurstStart and < BurstStart + 15 ? 400.0 : 10.0, 20.0 });
        }
    }

    public sealed class SwitchableLeadership(string identity) : ILeadership
    {
        public bool Leading { get; set; } = true;

        public string Identity => identity;

        public Task<bool> TryLeadAsync(CancellationToken cancellationToken) => Task.FromResult(Leading);
    }

    public sealed class LeaseLeadership(LeaseElector lease) : ILeadership
    {
        public string Identity => lease.Identity;

        public Task<bool> TryLeadAsync(CancellationToken cancellationToken) => lease.TryAcquireOrRenewAsync(cancellationToken);
    }
}
