using Foresight.Cli.Controller;
using Foresight.Core.Apps;
using Foresight.Orchestration;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Cli.Tests.Controller;

/// <summary>The observation port over per-site traffic readings (Prometheus in production).</summary>
public sealed class TrafficObservationsTests
{
    private static readonly AppProfile s_shop = new() { Name = "shop", ServiceTimeMs = 20, Concurrency = 2 }; // 100 req/s per pod

    private sealed class ScriptedTraffic : ITrafficObserver
    {
        public Queue<double[]> Next { get; } = new();

        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken) => ValueTask.FromResult(Next.Dequeue());

        public IReadOnlyList<ObservationWarning> Warnings(string app) => [new ObservationWarning("no_series", null, "nothing matched")];
    }

    private static (TrafficObservations Observations, ScriptedTraffic Traffic, FakeTimeProvider Time) Create(Func<ClusterSnapshot?> cluster)
    {
        var config = new KubernetesConfig
        {
            Namespace = "shop",
            Prometheus = new Uri("http://127.0.0.1:9090"),
            Apps = [new KubernetesApp(s_shop, ["b", "a"], "q", "site")],
        };
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        var traffic = new ScriptedTraffic();
        var observations = new TrafficObservations(config.Apps, [s_shop], KubernetesController.Topology(config), traffic, time, 5, cluster);
        return (observations, traffic, time);
    }

    private static InstanceInfo Pod(string id, string site, InstanceState state = InstanceState.Ready) =>
        new(new InstanceId(id), "shop", site, null, state, state == InstanceState.Ready ? 1 : 0, DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch, null, 0);

    [Fact]
    public async Task A_window_is_the_mean_of_the_readings_taken_within_it_in_topology_order()
    {
        (TrafficObservations o, ScriptedTraffic traffic, FakeTimeProvider time) = Create(() => null);
        foreach (double[] r in new[] { new[] { 10.0, 1 }, [20, 2], [30, 3], [40, 4] })
        {
            traffic.Next.Enqueue(r);
            await o.RefreshAsync(CancellationToken.None);
            time.Advance(TimeSpan.FromSeconds(5));
        }

        var rates = new double[2];
        o.IngressRates(0, 5, rates);
        Assert.Equal([40, 4], rates); // the config lists b first, and so does the topology
        o.IngressRates(0, 10, rates);
        Assert.Equal([35, 3.5], rates);
        o.IngressRates(0, 600, rates);
        Assert.Equal([25, 2.5], rates);
        Assert.Equal(40 * 0.02 + 4 * 0.02, o.Concurrency(0), 9);
        Assert.Equal(["app 'shop': nothing matched"], o.Warnings);
    }

    [Fact]
    public async Task A_pods_utilization_is_what_the_routes_bring_to_its_site_shared_over_its_serving_pods()
    {
        ClusterSnapshot? cluster = null;
        (TrafficObservations o, ScriptedTraffic traffic, _) = Create(() => cluster);
        traffic.Next.Enqueue([120, 60]); // b, a
        await o.RefreshAsync(CancellationToken.None);

        // All of b's traffic is routed to a; a keeps its own: a's two pods serve 180 req/s of 200.
        cluster = new ClusterSnapshot(DateTimeOffset.UnixEpoch, [Pod("a1", "a"), Pod("a2", "a"), Pod("b1", "b", InstanceState.Starting)],
            [new Route("shop", "b", [new SiteWeight("a", 1)])], []);

        Assert.Equal(0.9, o.InstanceUtilization(new InstanceId("a1"))!.Value, 9);
        Assert.Null(o.InstanceUtilization(new InstanceId("b1"))); // not serving: no CPU to read
        Assert.Null(o.InstanceUtilization(new InstanceId("nobody")));
    }
}
