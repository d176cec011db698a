using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>The watch caches' health after an API server outage, with bookmarks only once a minute as a real server sends them.</summary>
public sealed class CacheHealthTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task After_the_API_server_returns_the_caches_are_healthy_again_without_waiting_for_a_bookmark()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("h", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);

        // The API server goes away: every watch breaks and cannot be re-established.
        f.Server.FailNext(r => r.Summary.StartsWith("watch ", StringComparison.Ordinal), 503, times: 1000);
        f.Server.DropWatches();
        await WatchCacheTests.EventuallyAsync(async () =>
            (await f.Kube.ObserveAsync(s_none)).Instances.Count > 0 && f.Server.Requests.Count(r => r.Summary == "list pods") > 1 ? (object?)true : null);

        // It comes back. Within the caches' back-off every watch is re-established; nothing changes in the namespace,
        // so no event arrives, and the next bookmark is a minute away.
        f.Server.ClearFaults();
        f.Cluster.Advance(TimeSpan.FromSeconds(2));
        await WatchCacheTests.EventuallyAsync(() => Task.FromResult(f.Server.OpenWatches >= 5 ? (object?)true : null));
        f.Cluster.Advance(TimeSpan.FromSeconds(2));
        await WatchCacheTests.EventuallyAsync(() => Task.FromResult(f.Server.OpenWatches >= 5 ? (object?)true : null));

        int lists = f.Server.Requests.Count(r => r.Summary.StartsWith("list ", StringComparison.Ordinal));
        for (int i = 0; i < 3; i++)
        {
            ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);
            Assert.Equal(InstanceState.Ready, snapshot.Instances.Single(x => x.Id == a.Id).State);
        }

        Assert.Equal(
            [],
            f.Server.Requests.Where(r => r.Summary.StartsWith("list ", StringComparison.Ordinal)).Skip(lists).Select(r => r.Summary).ToArray());
    }
}
