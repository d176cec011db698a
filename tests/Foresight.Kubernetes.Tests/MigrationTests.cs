using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// Whole migrations as the reconciler drives them (create, ready, shift weights, drain, stop), asserted on the exact
/// API calls the fake server received and on the cluster state they leave.
/// </summary>
public sealed class MigrationTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task Pre_emptive_migration_creates_at_B_shifts_weights_then_drains_and_removes_exactly_the_old_pod()
    {
        await using var f = new KubernetesFixture();
        (InstanceInfo a, string podA) = await ServingAtAAsync(f);
        f.Server.ClearRequests();

        // 1. create at B
        InstanceInfo b = await f.Kube.SpinUpAsync(new SpinUpRequest("move-1", "shop", "edge-b"), s_none);
        Assert.Equal(InstanceState.Pending, b.State);
        Assert.Equal(["apply services/shop-edge-b", "create deployments", "merge deployments/shop-edge-b"], f.Server.Writes);
        JsonObject claim = Body(f.Server.Requests.Last(r => r.Summary == "merge deployments/shop-edge-b"));
        Assert.Equal(1, claim["spec"]!["replicas"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(claim["metadata"]!["resourceVersion"]!.GetValue<string>()));

        // 2. ready
        Task<InstanceInfo> ready = f.Kube.WaitUntilReadyAsync(b.Id, f.ReadyWithin * 2, s_none).AsTask();
        await f.AdvanceAsync(f.ReadyWithin);
        InstanceInfo readyB = await ready.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(InstanceState.Ready, readyB.State);
        Assert.StartsWith("node-edge-b-", readyB.ServerId);
        string podB = f.Server.List("pods").Select(FakeCluster.Name).Single(n => n.StartsWith("shop-edge-b-", StringComparison.Ordinal));
        Assert.Equal(b.Id.Value, f.Server.Get("pods", podB)!["metadata"]!["labels"]![Names.InstanceLabel]!.GetValue<string>());

        // 3. shift weights (only once B is ready)
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 0), new SiteWeight("edge-b", 100)]), s_none);
        Assert.Equal([("shop-edge-a", 0), ("shop-edge-b", 100)], BackendWeights(f.Server.Get("httproutes", "shop-via-edge-a")!));

        // 4. drain A: out of its Service, lowest deletion cost
        await f.Kube.DrainAsync(a.Id, s_none);
        JsonObject drained = f.Server.Get("pods", podA)!;
        Assert.Equal("false", drained["metadata"]!["labels"]![Names.ServingLabel]!.GetValue<string>());
        Assert.Equal(Names.DrainedDeletionCost, drained["metadata"]!["annotations"]![Names.PodDeletionCostAnnotation]!.GetValue<string>());

        // 5. stop A after in-flight work: the lowest deletion cost, then replicas down with the tombstone; the
        // ReplicaSet, not we, deletes that very pod (a delete of ours would race it into making a replacement).
        await f.AdvanceAsync(TimeSpan.FromSeconds(5));
        await f.Kube.StopAsync(a.Id, s_none);
        Assert.Equal(
            [
                "apply services/shop-edge-b", "create deployments", "merge deployments/shop-edge-b",
                $"merge pods/{podB}", "merge deployments/shop-edge-b",
                "apply httproutes/shop-via-edge-a",
                $"merge pods/{podA}",
                $"merge pods/{podA}", "merge deployments/shop-edge-a",
            ],
            f.Server.Writes);
        Assert.Equal(Names.StoppedDeletionCost, f.Server.Get("pods", podA)!["metadata"]!["annotations"]![Names.PodDeletionCostAnnotation]!.GetValue<string>());
        JsonObject scaleDown = Body(f.Server.Requests.Last(r => r.Summary == "merge deployments/shop-edge-a"));
        Assert.Equal(0, scaleDown["spec"]!["replicas"]!.GetValue<int>());

        // Two controller passes (Deployment, then ReplicaSet) later the pod is terminating: it finishes in-flight
        // requests for its grace period, then goes; B keeps serving.
        await f.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(f.Server.Get("pods", podA)!["metadata"]!["deletionTimestamp"]);
        await f.AdvanceAsync(f.Options.DrainGracePeriod + TimeSpan.FromSeconds(1));
        Assert.Null(f.Server.Get("pods", podA));
        Assert.DoesNotContain(f.Server.Writes, w => w.StartsWith("delete pods/", StringComparison.Ordinal));
        Assert.Equal(2, f.Cluster.CreatedPods.Count);
        Assert.Equal(0, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());

        ClusterSnapshot end = await f.Kube.ObserveAsync(s_none);
        InstanceInfo only = Assert.Single(end.Instances);
        Assert.Equal(b.Id, only.Id);
        Assert.Equal(InstanceState.Ready, only.State);
    }

    [Fact]
    public async Task Hot_swap_moves_the_weights_gradually_through_one_HTTPRoute()
    {
        await using var f = new KubernetesFixture();
        await ServingAtAAsync(f);
        InstanceInfo b = await f.Kube.SpinUpAsync(new SpinUpRequest("swap-1", "shop", "edge-b"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(b.Id, TimeSpan.FromSeconds(1), s_none);
        f.Server.ClearRequests();

        int[] toB = [25, 50, 75, 100];
        foreach (int w in toB)
        {
            await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 100 - w), new SiteWeight("edge-b", w)]), s_none);
            await f.AdvanceAsync(TimeSpan.FromSeconds(5));
        }

        // Exactly one apply per step, each with the full backendRefs list, by our field manager with force.
        RecordedRequest[] applies = f.Server.Requests.Where(r => r.IsWrite).ToArray();
        Assert.All(applies, r =>
        {
            Assert.Equal("apply httproutes/shop-via-edge-a", r.Summary);
            Assert.StartsWith("application/apply-patch+yaml", r.ContentType);
            Assert.Contains("fieldManager=foresight", r.Query);
            Assert.Contains("force=true", r.Query);
        });
        Assert.Equal(
            toB.Select(w => new[] { ("shop-edge-a", 100 - w), ("shop-edge-b", w) }).ToArray(),
            applies.Select(r => BackendWeights(Body(r)).ToArray()).ToArray());

        Route route = Assert.Single((await f.Kube.ObserveAsync(s_none)).Routes);
        Assert.Equal([new SiteWeight("edge-a", 0), new SiteWeight("edge-b", 100)], route.Weights);
    }

    [Fact]
    public async Task A_controller_killed_mid_migration_is_replaced_by_one_that_converges()
    {
        await using var f = new KubernetesFixture();
        (InstanceInfo a, string podA) = await ServingAtAAsync(f);

        // Killed after the spin-up at B was accepted, before it was ready.
        InstanceInfo b = await f.Kube.SpinUpAsync(new SpinUpRequest("move-7", "shop", "edge-b"), s_none);
        await f.RestartAsync();

        // The reconciler resumes from its journal: the repeated request finds the same instance (no second replica).
        InstanceInfo again = await f.Kube.SpinUpAsync(new SpinUpRequest("move-7", "shop", "edge-b"), s_none);
        Assert.Equal(b.Id, again.Id);
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-b")!["spec"]!["replicas"]!.GetValue<int>());
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(b.Id, TimeSpan.FromSeconds(1), s_none);
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 1)]), s_none);
        await f.Kube.DrainAsync(a.Id, s_none);

        // Killed again inside Stop: the pod is marked, then the API server never answers the tombstone-and-scale-down.
        f.Server.FailNext(r => r.Summary == "merge deployments/shop-edge-a", status: 0);
        using (var kill = new CancellationTokenSource(TimeSpan.FromSeconds(2)))
        {
            await Assert.ThrowsAnyAsync<Exception>(async () => await f.Kube.StopAsync(a.Id, kill.Token));
        }

        Assert.NotNull(f.Server.Get("pods", podA)!["metadata"]!["annotations"]![Names.StoppedAnnotation]);
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        await f.RestartAsync();
        await f.SyncAsync();

        // The new controller sees the pod marked, hides the instance, finishes the stop, and Stop stays idempotent.
        ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);
        Assert.DoesNotContain(snapshot.Instances, i => i.Id == a.Id);
        Assert.Contains(f.Server.Requests, r => r.Summary == "merge deployments/shop-edge-a" && r.Status == 200
            && Body(r)["spec"]?["replicas"]?.GetValue<int>() == 0);
        await f.Kube.StopAsync(a.Id, s_none);

        // Two controller passes until the ReplicaSet deletes the pod, then its grace period.
        await f.AdvanceAsync(f.Options.DrainGracePeriod + TimeSpan.FromSeconds(3));

        Assert.Null(f.Server.Get("pods", podA));
        Assert.Equal(0, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        ClusterSnapshot end = await f.Kube.ObserveAsync(s_none);
        Assert.Equal([b.Id], end.Instances.Select(i => i.Id));
        Assert.Equal(InstanceState.Ready, end.Instances[0].State);
        Assert.Equal(new SiteWeight("edge-b", 1), Assert.Single(Assert.Single(end.Routes).Weights));
    }

    [Fact]
    public async Task A_stop_that_died_before_its_replica_change_is_finished_by_the_next_controller()
    {
        await using var f = new KubernetesFixture();
        (InstanceInfo a, string podA) = await ServingAtAAsync(f);
        await f.Kube.DrainAsync(a.Id, s_none);

        // The pod is marked stopped, then the API server fails the tombstone-and-scale-down patch.
        f.Server.FailNext(r => r.Summary == "merge deployments/shop-edge-a", 503, times: 100);
        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(async () => await f.Kube.StopAsync(a.Id, s_none));
        Assert.True(e.IsTransient);
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        f.Server.ClearFaults();

        await f.RestartAsync();
        await f.SyncAsync();
        Assert.DoesNotContain((await f.Kube.ObserveAsync(s_none)).Instances, i => i.Id == a.Id);

        Assert.Equal(0, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        await f.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(f.Server.Get("pods", podA)!["metadata"]!["deletionTimestamp"]);
        await f.Kube.StopAsync(a.Id, s_none); // the reconciler's retry: idempotent
        await f.AdvanceAsync(f.Options.DrainGracePeriod + TimeSpan.FromSeconds(1));
        Assert.Empty(f.Server.List("pods"));
        Assert.Single(f.Server.Requests, r => r.Summary == "merge deployments/shop-edge-a" && r.Status == 200
            && MigrationTests.Body(r)["spec"]?["replicas"]?.GetValue<int>() == 0);
    }

    [Fact]
    public async Task The_ReplicaSet_removes_the_drained_pod_first_by_its_deletion_cost()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo[] created =
        [
            await f.Kube.SpinUpAsync(new SpinUpRequest("r1", "shop", "edge-a"), s_none),
            await f.Kube.SpinUpAsync(new SpinUpRequest("r2", "shop", "edge-a"), s_none),
            await f.Kube.SpinUpAsync(new SpinUpRequest("r3", "shop", "edge-a"), s_none),
        ];
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.ObserveAsync(s_none);
        await f.Kube.DrainAsync(created[1].Id, s_none);
        string drainedPod = f.Server.List("pods").Single(p => p["metadata"]!["labels"]![Names.InstanceLabel]!.GetValue<string>() == created[1].Id.Value)
            ["metadata"]!["name"]!.GetValue<string>();

        // Someone else (kubectl scale) removes one replica: the ReplicaSet ranking picks the drained pod. Two passes:
        // the Deployment controller scales the ReplicaSet, then the ReplicaSet picks its victim.
        f.Server.Mutate("deployments", "shop-edge-a", d => d["spec"]!["replicas"] = 2);
        f.Cluster.Reconcile();
        Assert.Null(f.Server.Get("pods", drainedPod)!["metadata"]!["deletionTimestamp"]);
        f.Cluster.Reconcile();

        Assert.NotNull(f.Server.Get("pods", drainedPod)!["metadata"]!["deletionTimestamp"]);
        Assert.Equal(2, f.Server.List("pods").Count(p => p["metadata"]!["deletionTimestamp"] is null));
    }

    /// <summary>One Ready instance at edge-a with all edge-a traffic on it.</summary>
    internal static async Task<(InstanceInfo Instance, string Pod)> ServingAtAAsync(KubernetesFixture f)
    {
        InstanceInfo a = await f.Kube.SpinUpAsync(new SpinUpRequest("base-a", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        InstanceInfo ready = await f.Kube.WaitUntilReadyAsync(a.Id, TimeSpan.FromSeconds(1), s_none);
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 100)]), s_none);
        string pod = f.Server.List("pods").Select(FakeCluster.Name).Single(n => n.StartsWith("shop-edge-a-", StringComparison.Ordinal));
        return (ready, pod);
    }

    internal static JsonObject Body(RecordedRequest r) => JsonNode.Parse(r.Body)!.AsObject();

    internal static List<(string Name, int Weight)> BackendWeights(JsonObject route) =>
        route["spec"]!["rules"]![0]!["backendRefs"]!.AsArray()
            .Select(b => (b!["name"]!.GetValue<string>(), b["weight"]!.GetValue<int>()))
            .ToList();
}
