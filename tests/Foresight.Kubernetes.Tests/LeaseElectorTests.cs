using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;

namespace Foresight.Kubernetes.Tests;

public sealed class LeaseElectorTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task One_candidate_leads_and_the_other_takes_over_only_after_the_lease_expires()
    {
        await using var cluster = new FakeCluster();
        LeaseElector a = Elector(cluster, "pod-a");
        LeaseElector b = Elector(cluster, "pod-b");

        Assert.True(await a.TryAcquireOrRenewAsync(s_none));
        Assert.False(await b.TryAcquireOrRenewAsync(s_none));

        cluster.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.True(await a.TryAcquireOrRenewAsync(s_none)); // renewal
        cluster.Clock.Advance(TimeSpan.FromSeconds(10));
        Assert.False(await b.TryAcquireOrRenewAsync(s_none)); // renewed 10 s ago, lease lasts 15 s

        cluster.Clock.Advance(TimeSpan.FromSeconds(6)); // a stopped renewing
        Assert.True(await b.TryAcquireOrRenewAsync(s_none));
        Assert.False(await a.TryAcquireOrRenewAsync(s_none));

        JsonObject lease = cluster.Server.Get("leases", "foresight-controller")!;
        Assert.Equal("pod-b", lease["spec"]!["holderIdentity"]!.GetValue<string>());
        Assert.Equal(1, lease["spec"]!["leaseTransitions"]!.GetValue<int>());
        Assert.Equal(["create leases", "replace leases/foresight-controller", "replace leases/foresight-controller"], cluster.Server.Writes);
    }

    [Fact]
    public async Task A_lost_race_on_the_resourceVersion_is_not_a_win()
    {
        await using var cluster = new FakeCluster();
        LeaseElector a = Elector(cluster, "pod-a");
        Assert.True(await a.TryAcquireOrRenewAsync(s_none));
        cluster.Clock.Advance(TimeSpan.FromSeconds(20));

        cluster.Server.FailNext(r => r.Summary == "replace leases/foresight-controller", 409);
        Assert.False(await Elector(cluster, "pod-b").TryAcquireOrRenewAsync(s_none));
    }

    [Fact]
    public async Task Run_leads_until_cancelled_and_release_frees_the_lease_at_once()
    {
        await using var cluster = new FakeCluster();
        LeaseElector a = Elector(cluster, "pod-a");
        var led = new TaskCompletionSource();
        using var stop = new CancellationTokenSource();

        Task run = a.RunAsync(async ct =>
        {
            led.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
        }, stop.Token);
        await led.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.True(a.IsLeader);

        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await a.ReleaseAsync(s_none);

        Assert.True(await Elector(cluster, "pod-b").TryAcquireOrRenewAsync(s_none));
    }

    [Fact]
    public async Task A_leader_that_cannot_renew_within_the_deadline_steps_down_and_stops_leading()
    {
        await using var cluster = new FakeCluster();
        LeaseElector a = Elector(cluster, "pod-a");
        var led = new TaskCompletionSource();
        var stoppedLeading = new TaskCompletionSource();
        Task run = a.RunAsync(async ct =>
        {
            led.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ct);
            }
            finally
            {
                stoppedLeading.TrySetResult();
            }
        }, s_none);
        await led.Task.WaitAsync(TimeSpan.FromSeconds(10));

        cluster.Server.FailNext(r => r.Summary == "replace leases/foresight-controller", 500, times: 1000);
        // The elector's timers run on the fake clock and its renewals over HTTP: step the clock, give the I/O a moment.
        for (int i = 0; i < 60 && !run.IsCompleted; i++)
        {
            cluster.Clock.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(run, Task.Delay(50));
        }

        await run.WaitAsync(TimeSpan.FromSeconds(10));
        await stoppedLeading.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(a.IsLeader);
        Assert.True(cluster.Clock.GetUtcNow() - FakeCluster.Epoch >= a.RenewDeadline);
    }

    private static LeaseElector Elector(FakeCluster c, string id) =>
        new(c.Server.CreateClient(), "edge", "foresight-controller", id, c.Clock, TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));
}
