using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>The list+watch caches behind ObserveAsync: resuming, relisting on 410, and listing while the watch is down.</summary>
public sealed class WatchCacheTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task Observe_reads_the_watch_cache_and_issues_no_list_after_start()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("w", "shop", "edge-a"), s_none);
        int lists = f.Server.Requests.Count(r => r.Summary.StartsWith("list", StringComparison.Ordinal));

        await f.AdvanceAsync(f.ReadyWithin);
        ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);

        Assert.Equal(InstanceState.Ready, snapshot.Instances.Single(i => i.Id == a.Id).State);
        Assert.Equal(lists, f.Server.Requests.Count(r => r.Summary.StartsWith("list", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_dropped_watch_resumes_from_its_resourceVersion_without_relisting()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("w", "shop", "edge-a"), s_none);
        await f.SyncAsync();
        int lists = f.Server.Requests.Count(r => r.Summary == "list pods");

        f.Server.DropWatches();
        await f.AdvanceAsync(f.ReadyWithin);

        Assert.Equal(InstanceState.Ready, (await f.Kube.ObserveAsync(s_none)).Instances.Single(i => i.Id == a.Id).State);
        Assert.Equal(lists, f.Server.Requests.Count(r => r.Summary == "list pods"));
        RecordedRequestAssert.ResumedWatch(f, "pods");
    }

    [Fact]
    public async Task A_watch_too_old_to_resume_gets_410_and_the_cache_relists()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("w", "shop", "edge-a"), s_none);
        await f.SyncAsync();
        int lists = f.Server.Requests.Count(r => r.Summary == "list pods");

        f.Server.CompactHistory();
        f.Server.DropWatches();
        await f.AdvanceAsync(f.ReadyWithin);

        Assert.Equal(InstanceState.Ready, (await f.Kube.ObserveAsync(s_none)).Instances.Single(i => i.Id == a.Id).State);
        Assert.True(f.Server.Requests.Count(r => r.Summary == "list pods") > lists);
    }

    [Fact]
    public async Task While_the_watch_is_down_Observe_falls_back_to_listing()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("w", "shop", "edge-a"), s_none);
        await f.SyncAsync();

        f.Server.FailNext(r => r.Summary == "watch pods", 500, times: 1000);
        f.Server.DropWatches();
        f.Cluster.Advance(f.ReadyWithin);
        int lists = f.Server.Requests.Count(r => r.Summary == "list pods");

        ClusterSnapshot snapshot = await EventuallyAsync(async () =>
        {
            ClusterSnapshot s = await f.Kube.ObserveAsync(s_none);
            return s.Instances.Single(i => i.Id == a.Id).State == InstanceState.Ready ? s : null;
        });

        Assert.NotNull(snapshot);
        Assert.True(f.Server.Requests.Count(r => r.Summary == "list pods") > lists);

        // Healed: the watch comes back after its back-off (on the orchestrator's clock).
        f.Server.ClearFaults();
        f.Cluster.Advance(TimeSpan.FromSeconds(2));
        await EventuallyAsync(() => Task.FromResult(f.Server.OpenWatches >= 5 ? (object?)true : null));
    }

    /// <summary>Polls in real time (bounded) for effects of background tasks that no clock step can wait for.</summary>
    internal static async Task<T> EventuallyAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        for (int i = 0; i < 300; i++)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException("condition not reached within 6 s");
    }
}

internal static class RecordedRequestAssert
{
    public static void ResumedWatch(KubernetesFixture f, string plural)
    {
        var watches = f.Server.Requests.Where(r => r.Summary == $"watch {plural}").ToList();
        Assert.True(watches.Count >= 2, "the watch was not re-established");
        Assert.Contains("resourceVersion=", watches[^1].Query);
    }
}
