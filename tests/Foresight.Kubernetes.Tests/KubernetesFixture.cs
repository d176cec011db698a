using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;
using Foresight.Orchestration.Tests.Contract;

namespace Foresight.Kubernetes.Tests;

/// <summary>A fake cluster, a KubernetesClient against it, and the orchestrator under test.</summary>
internal sealed class KubernetesFixture : IOrchestratorFixture, IAsyncDisposable
{
    public const string Namespace = "edge";

    public KubernetesFixture(bool gatewayApi = true, double warmupSeconds = 2, TrafficMode mode = TrafficMode.Auto, TimeSpan? requestTimeout = null)
    {
        Cluster = new FakeCluster(gatewayApi, Namespace);
        WarmupSeconds = warmupSeconds;
        Options = new KubernetesOrchestratorOptions
        {
            Namespace = Namespace,
            Sites = ["edge-a", "edge-b", "edge-c"],
            Apps = new Dictionary<string, AppWorkload>
            {
                ["shop"] = new() { Image = "registry.example/shop:1.4.2", WarmupSeconds = warmupSeconds, CpuRequest = "250m", MemoryRequest = "128Mi" },
            },
            Gateway = new GatewayParent("edge-gw-{site}", "gateway-system", "http"),
            TrafficMode = mode,
            DrainGracePeriod = TimeSpan.FromSeconds(10),
            RequestTimeout = requestTimeout ?? TimeSpan.FromSeconds(5),
        };
        Kube = NewOrchestrator();
    }

    public FakeCluster Cluster { get; }

    public FakeApiServer Server => Cluster.Server;

    public KubernetesOrchestratorOptions Options { get; }

    public double WarmupSeconds { get; }

    /// <summary>The orchestrator under test; <see cref="RestartAsync"/> replaces it, as a controller restart does.</summary>
    public KubernetesOrchestrator Kube { get; private set; }

    public IOrchestrator Orchestrator => Kube;

    public string App => "shop";

    public string SiteA => "edge-a";

    public string SiteB => "edge-b";

    public TimeSpan ReadyWithin => Cluster.ReadyWithin + TimeSpan.FromSeconds(WarmupSeconds);

    public KubernetesOrchestrator NewOrchestrator() => new(Server.CreateClient(), Options, Cluster.Clock);

    public async ValueTask AdvanceAsync(TimeSpan by)
    {
        Cluster.Advance(by);
        await SyncAsync();
    }

    /// <summary>
    /// Waits (in real time, bounded) until the orchestrator's caches have seen everything the server did. It forces
    /// bookmarks (a test hook; the server sends them only every minute), again and again, since a watch that is
    /// reconnecting right now would miss a single one.
    /// </summary>
    public async Task SyncAsync()
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        long target = Server.ResourceVersion;
        Task synced = Kube.WaitForResourceVersionAsync(target, guard.Token);
        while (!synced.IsCompleted)
        {
            Server.SendBookmarks();
            await Task.WhenAny(synced, Task.Delay(50, guard.Token));
        }

        await synced;
    }

    /// <summary>Drops the orchestrator without any clean-up and starts a fresh one against the same cluster.</summary>
    public async Task RestartAsync()
    {
        await Kube.DisposeAsync();
        Kube = NewOrchestrator();
        await Kube.StartAsync(CancellationToken.None);
    }

    public async ValueTask DisposeAsync()
    {
        await Kube.DisposeAsync();
        await Cluster.DisposeAsync();
    }
}
