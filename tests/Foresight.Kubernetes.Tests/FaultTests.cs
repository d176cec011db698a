using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>API errors injected at the fake server, and what the port's callers see.</summary>
public sealed class FaultTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task A_409_on_the_claim_is_retried_from_a_fresh_read_and_adds_one_replica_only()
    {
        await using var f = new KubernetesFixture();
        await f.Kube.StartAsync(s_none);
        f.Server.FailNext(r => r.Summary == "merge deployments/shop-edge-a", 409);

        InstanceInfo created = await f.Kube.SpinUpAsync(new SpinUpRequest("c-1", "shop", "edge-a"), s_none);

        Assert.Equal(
            ["merge deployments/shop-edge-a -> 409", "get deployments/shop-edge-a -> 200", "merge deployments/shop-edge-a -> 200"],
            f.Server.Requests.Where(r => r.Plural == "deployments" && r.Name is not null).Select(r => r.ToString()).ToArray()[^3..]);
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(InstanceState.Pending, created.State);
    }

    [Fact]
    public async Task A_real_concurrent_write_conflicts_on_resourceVersion_and_the_retry_keeps_both_changes()
    {
        await using var f = new KubernetesFixture();
        await f.Kube.SpinUpAsync(new SpinUpRequest("c-1", "shop", "edge-a"), s_none);
        await f.SyncAsync();

        // Another writer changes the Deployment; our next read-modify-write starts from the stale cached copy.
        f.Server.FailNext(r => r.Summary == "watch deployments", 500, times: 100);
        f.Server.DropWatches();
        f.Server.Mutate("deployments", "shop-edge-a", d => d["metadata"]!["labels"]!["team"] = "checkout");
        await f.Kube.SpinUpAsync(new SpinUpRequest("c-2", "shop", "edge-a"), s_none);

        Assert.Contains(f.Server.Requests, r => r.ToString() == "merge deployments/shop-edge-a -> 409");
        var deployment = f.Server.Get("deployments", "shop-edge-a")!;
        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal("checkout", deployment["metadata"]!["labels"]!["team"]!.GetValue<string>());
    }

    [Fact]
    public async Task Conflicts_that_never_end_surface_as_a_transient_error()
    {
        await using var f = new KubernetesFixture();
        await f.Kube.StartAsync(s_none);
        f.Server.FailNext(r => r.Summary == "merge deployments/shop-edge-a", 409, times: 100);

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(
            async () => await f.Kube.SpinUpAsync(new SpinUpRequest("c-1", "shop", "edge-a"), s_none));

        Assert.True(e.IsTransient);
        Assert.Equal(f.Options.ConflictRetries, f.Server.Requests.Count(r => r.ToString() == "merge deployments/shop-edge-a -> 409"));
    }

    [Fact]
    public async Task A_409_outside_a_read_modify_write_is_a_transient_orchestrator_error()
    {
        // An apply has no resourceVersion to retry from: the command fails, and the next reconcile pass re-plans. (It
        // escaped as a plain exception, which the reconciler did not catch.)
        await using var f = new KubernetesFixture();
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 1)]), s_none);
        f.Server.FailNext(r => r.Summary == "apply httproutes/shop-via-edge-a", 409);

        OrchestratorException e = await Assert.ThrowsAnyAsync<OrchestratorException>(
            async () => await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 1)]), s_none));

        Assert.True(e.IsTransient);
        Assert.Contains("409", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(500, true)]
    [InlineData(503, true)]
    [InlineData(429, true)]
    [InlineData(403, false)]
    [InlineData(422, false)]
    public async Task API_errors_map_to_transient_or_permanent(int status, bool transient)
    {
        await using var f = new KubernetesFixture();
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 1)]), s_none);
        f.Server.FailNext(r => r.Summary == "apply httproutes/shop-via-edge-a", status);

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(
            async () => await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 1)]), s_none));

        Assert.Equal(transient, e.IsTransient);
        Assert.Contains(status.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.Equal([("shop-edge-a", 1)], MigrationTests.BackendWeights(f.Server.Get("httproutes", "shop-via-edge-a")!));
    }

    [Fact]
    public async Task A_request_without_answer_times_out_as_transient()
    {
        await using var f = new KubernetesFixture(requestTimeout: TimeSpan.FromMilliseconds(300));
        await f.Kube.StartAsync(s_none);
        f.Server.FailNext(r => r.Summary == "apply services/shop-edge-a", status: 0);

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(
            async () => await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 1)]), s_none));

        Assert.True(e.IsTransient);
        Assert.Contains("no answer", e.Message);
    }

    [Fact]
    public async Task A_pod_deleted_behind_our_back_makes_its_instance_Failed_until_stopped()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("x", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(a.Id, TimeSpan.FromSeconds(1), s_none);

        string pod = f.Server.List("pods").Select(FakeCluster.Name).Single();
        f.Server.Remove("pods", pod);
        await f.SyncAsync();

        InstanceInfo failed = (await f.Kube.ObserveAsync(s_none)).Instances.Single(i => i.Id == a.Id);
        Assert.Equal(InstanceState.Failed, failed.State);
        Assert.Contains(pod, failed.FailureReason);

        await f.Kube.StopAsync(a.Id, s_none);
        Assert.DoesNotContain((await f.Kube.ObserveAsync(s_none)).Instances, i => i.Id == a.Id);
    }

    [Fact]
    public async Task An_image_that_cannot_be_pulled_fails_the_instance_and_WaitUntilReady()
    {
        await using var f = new KubernetesFixture();
        f.Cluster.BadImages.Add(f.Options.Apps["shop"].Image);
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("bad", "shop", "edge-a"), s_none);
        Task<InstanceInfo> wait = f.Kube.WaitUntilReadyAsync(a.Id, TimeSpan.FromMinutes(5), s_none).AsTask();

        await f.AdvanceAsync(f.ReadyWithin);

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(() => wait.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.False(e.IsTransient);
        Assert.Contains("ImagePullBackOff", e.Message);
    }

    [Fact]
    public async Task Unknown_apps_and_sites_are_rejected_before_any_write()
    {
        await using var f = new KubernetesFixture();
        await Assert.ThrowsAsync<OrchestratorException>(async () => await f.Kube.SpinUpAsync(new SpinUpRequest("r", "nope", "edge-a"), s_none));
        await Assert.ThrowsAsync<OrchestratorException>(async () => await f.Kube.SpinUpAsync(new SpinUpRequest("r", "shop", "atlantis"), s_none));
        await Assert.ThrowsAsync<OrchestratorException>(
            async () => await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", double.NaN)]), s_none));
        Assert.Empty(f.Server.Writes);
    }
}
