using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// Spin-up and stop against a control plane that behaves as a real one does: an HPA that will not scale a target at zero
/// replicas, and a ReplicaSet that acts a pass after its Deployment and replaces a pod deleted while it still wants it.
/// </summary>
public sealed class SpinUpAndStopTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public async Task A_spin_up_at_a_site_with_zero_replicas_gets_a_ready_pod_with_or_without_an_HPA(bool hpa, int hpaMin)
    {
        await using var f = new KubernetesFixture();
        if (hpa)
        {
            // The user's HPA is there before Foresight has created the Deployment (which it creates at zero replicas).
            f.Server.Create("horizontalpodautoscalers", FakeClusterFidelityTests.Hpa("shop-edge-a", min: hpaMin, max: 5));
        }

        InstanceInfo created = await f.Kube.SpinUpAsync(new SpinUpRequest("from-zero", "shop", "edge-a"), s_none);
        Task<InstanceInfo> ready = f.Kube.WaitUntilReadyAsync(created.Id, f.ReadyWithin * 2, s_none).AsTask();
        await f.AdvanceAsync(f.ReadyWithin + TimeSpan.FromSeconds(4));

        Assert.Equal(InstanceState.Ready, (await f.Kube.ObserveAsync(s_none)).Instances.Single(i => i.Id == created.Id).State);
        InstanceInfo done = await ready.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(InstanceState.Ready, done.State);
        int replicas = f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>();
        Assert.Equal(hpa ? hpaMin : 1, replicas);
        if (hpa)
        {
            JsonObject status = f.Server.Get("horizontalpodautoscalers", "shop-edge-a")!["status"]!.AsObject();
            Assert.DoesNotContain(status["conditions"]!.AsArray().OfType<JsonObject>(), c => c["reason"]?.GetValue<string>() == "ScalingDisabled");
        }
    }

    [Fact]
    public async Task A_repeated_spin_up_from_zero_under_an_HPA_adds_no_second_replica()
    {
        await using var f = new KubernetesFixture();
        f.Server.Create("horizontalpodautoscalers", FakeClusterFidelityTests.Hpa("shop-edge-a", min: 1, max: 5));

        InstanceInfo first = await f.Kube.SpinUpAsync(new SpinUpRequest("same", "shop", "edge-a"), s_none);
        InstanceInfo again = await f.Kube.SpinUpAsync(new SpinUpRequest("same", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);

        Assert.Equal(first.Id, again.Id);
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Single(f.Cluster.CreatedPods);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_stop_never_makes_an_extra_pod_and_Observe_never_shows_one(bool hpa)
    {
        await using var f = new KubernetesFixture();
        InstanceInfo keep = await f.Kube.SpinUpAsync(new SpinUpRequest("keep", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        if (hpa)
        {
            f.Server.Create("horizontalpodautoscalers", FakeClusterFidelityTests.Hpa("shop-edge-a", min: 1, max: 5));
            await f.SyncAsync();
        }

        InstanceInfo gone = await f.Kube.SpinUpAsync(new SpinUpRequest("gone", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(keep.Id, TimeSpan.FromSeconds(1), s_none);
        await f.Kube.WaitUntilReadyAsync(gone.Id, TimeSpan.FromSeconds(1), s_none);
        Assert.Equal(2, f.Cluster.CreatedPods.Count);
        string goneePod = PodOf(f, gone.Id);

        await f.Kube.DrainAsync(gone.Id, s_none);
        await f.Kube.StopAsync(gone.Id, s_none);

        // Every second through the grace period, as a controller observing each tick would.
        for (int second = 0; second < 15; second++)
        {
            ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);
            InstanceInfo only = Assert.Single(snapshot.Instances);
            Assert.Equal(keep.Id, only.Id);
            Assert.Equal(InstanceState.Ready, only.State);
            await f.AdvanceAsync(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(2, f.Cluster.CreatedPods.Count);
        Assert.Null(f.Server.Get("pods", goneePod));
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(keep.Id.Value, Assert.Single(f.Server.List("pods"))["metadata"]!["labels"]![Names.InstanceLabel]!.GetValue<string>());
        await f.Kube.StopAsync(gone.Id, s_none); // idempotent
        Assert.Equal(keep.Id, Assert.Single((await f.Kube.ObserveAsync(s_none)).Instances).Id);
    }

    [Fact]
    public async Task A_stop_waits_to_scale_down_while_the_ReplicaSet_would_pick_another_instances_pod()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo old = await f.Kube.SpinUpAsync(new SpinUpRequest("old", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(old.Id, TimeSpan.FromSeconds(1), s_none);

        // A new instance at the same site, still starting: the ReplicaSet would remove it before any ready pod.
        InstanceInfo young = await f.Kube.SpinUpAsync(new SpinUpRequest("young", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(TimeSpan.FromSeconds(3));
        Assert.Equal(InstanceState.Starting, (await f.Kube.ObserveAsync(s_none)).Instances.Single(i => i.Id == young.Id).State);

        await f.Kube.DrainAsync(old.Id, s_none);
        await f.Kube.StopAsync(old.Id, s_none);
        Assert.DoesNotContain((await f.Kube.ObserveAsync(s_none)).Instances, i => i.Id == old.Id);

        // The young instance becomes ready and stays; the old pod goes once scaling down can only take it.
        Task<InstanceInfo> ready = f.Kube.WaitUntilReadyAsync(young.Id, f.ReadyWithin * 2, s_none).AsTask();
        for (int second = 0; second < 20; second++)
        {
            await f.AdvanceAsync(TimeSpan.FromSeconds(1));
            ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);
            Assert.Equal([young.Id], snapshot.Instances.Select(i => i.Id));
        }

        Assert.Equal(InstanceState.Ready, (await ready.WaitAsync(TimeSpan.FromSeconds(30))).State);
        Assert.Equal(2, f.Cluster.CreatedPods.Count);
        Assert.Equal(young.Id.Value, Assert.Single(f.Server.List("pods"))["metadata"]!["labels"]![Names.InstanceLabel]!.GetValue<string>());
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_claim_stopped_before_its_pod_exists_never_shows_the_pod_its_ReplicaSet_makes_meanwhile()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo early = await f.Kube.SpinUpAsync(new SpinUpRequest("early", "shop", "edge-a"), s_none);

        // One pass: the Deployment controller has scaled the ReplicaSet to one, which has not made the pod yet.
        await f.AdvanceAsync(TimeSpan.FromSeconds(1));
        Assert.Empty(f.Server.List("pods"));
        await f.Kube.StopAsync(early.Id, s_none);

        // The ReplicaSet makes that pod one pass later, and removes it the pass after: it is no instance meanwhile.
        for (int second = 0; second < 15; second++)
        {
            await f.AdvanceAsync(TimeSpan.FromSeconds(1));
            Assert.Empty((await f.Kube.ObserveAsync(s_none)).Instances);
        }

        Assert.Single(f.Cluster.CreatedPods);
        Assert.Empty(f.Server.List("pods"));
        Assert.Equal(0, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_stopped_pod_the_ReplicaSet_passed_over_is_deleted_once_the_ReplicaSet_has_settled()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo keep = await f.Kube.SpinUpAsync(new SpinUpRequest("keep", "shop", "edge-a"), s_none);
        InstanceInfo gone = await f.Kube.SpinUpAsync(new SpinUpRequest("gone", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(gone.Id, TimeSpan.FromSeconds(1), s_none);
        string keepPod = PodOf(f, keep.Id);
        string gonePod = PodOf(f, gone.Id);

        await f.Kube.StopAsync(gone.Id, s_none);
        Assert.DoesNotContain(f.Server.Writes, w => w.StartsWith("delete pods/", StringComparison.Ordinal));

        // After the stop chose its moment, the other pod's node stops reporting: the ReplicaSet now ranks that pod first.
        f.Server.Mutate("pods", keepPod, p => p["status"]!["phase"] = "Unknown");
        await f.AdvanceAsync(TimeSpan.FromSeconds(2));
        Assert.NotNull(f.Server.Get("pods", keepPod)!["metadata"]!["deletionTimestamp"]);
        Assert.Null(f.Server.Get("pods", gonePod)!["metadata"]!["deletionTimestamp"]);

        // The ReplicaSet has settled at one with the stopped pod still there: that pod goes by our hand.
        await f.Kube.ObserveAsync(s_none);
        Assert.Contains($"delete pods/{gonePod}", f.Server.Writes);
        Assert.NotNull(f.Server.Get("pods", gonePod)!["metadata"]!["deletionTimestamp"]);
    }

    private static string PodOf(KubernetesFixture f, InstanceId id) =>
        FakeCluster.Name(f.Server.List("pods").Single(p => p["metadata"]!["labels"]![Names.InstanceLabel]?.GetValue<string>() == id.Value));
}
