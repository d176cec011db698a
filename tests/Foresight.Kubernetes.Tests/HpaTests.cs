using System.Text.Json.Nodes;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// Coexistence with a user's HPA: the predictive floor; spec.replicas written only where the HPA does not act (a spin-up
/// at zero) and to give a stopped instance's replica back.
/// </summary>
public sealed class HpaTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task The_floor_raises_minReplicas_remembers_the_original_and_restores_it()
    {
        await using var f = new KubernetesFixture();
        AddHpa(f, "shop-edge-a", min: 2, max: 6);

        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-a", 4, s_none));
        Assert.Equal((4, "2"), Floor(f));

        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-a", 9, s_none));
        Assert.Equal((6, "2"), Floor(f)); // capped at maxReplicas

        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-a", 1, s_none));
        Assert.Equal((2, "2"), Floor(f)); // never below the HPA's own minimum

        Assert.True(await f.Kube.RestorePredictiveFloorAsync("shop", "edge-a", s_none));
        Assert.Equal((2, null), Floor(f));
        Assert.False(await f.Kube.RestorePredictiveFloorAsync("shop", "edge-a", s_none));
        Assert.False(await f.Kube.SetPredictiveFloorAsync("shop", "edge-b", 3, s_none)); // no HPA there
        Assert.All(f.Server.Requests.Where(r => r.Plural == "horizontalpodautoscalers" && r.IsWrite), r =>
        {
            Assert.StartsWith("application/merge-patch+json", r.ContentType);
            Assert.NotNull(MigrationTests.Body(r)["metadata"]!["resourceVersion"]);
        });
    }

    [Fact]
    public async Task Under_an_HPA_spin_up_raises_the_floor_and_leaves_spec_replicas_to_the_HPA_and_stop_gives_the_replica_back()
    {
        await using var f = new KubernetesFixture();
        InstanceInfo first = await f.Kube.SpinUpAsync(new SpinUpRequest("a1", "shop", "edge-a"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        AddHpa(f, "shop-edge-a", min: 1, max: 5);
        await f.SyncAsync();
        f.Server.ClearRequests();

        InstanceInfo second = await f.Kube.SpinUpAsync(new SpinUpRequest("a2", "shop", "edge-a"), s_none);

        // The first registry write that knows a2 is its claim (a later one binds a1's pod).
        JsonObject claim = MigrationTests.Body(f.Server.Requests.First(r => r.Summary == "merge deployments/shop-edge-a"
            && MigrationTests.Body(r)["metadata"]!["annotations"]![Names.RegistryAnnotation]!.GetValue<string>().Contains("\"req\":\"a2\"", StringComparison.Ordinal)));
        Assert.Null(claim["spec"]);
        Assert.Equal((2, "1"), Floor(f));

        // The HPA controller, not us, scales to the floor; the new pod binds to the claim and gets ready.
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(second.Id, TimeSpan.FromSeconds(1), s_none);
        Assert.Equal(2, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());

        // Stop: one replica less in the tombstone's patch (deleting the pod alone would have the ReplicaSet replace it, as
        // the HPA's count stands), then the floor back to the HPA's own minimum; the ReplicaSet removes the stopped pod.
        f.Server.ClearRequests();
        await f.Kube.StopAsync(second.Id, s_none);
        Assert.Equal((1, null), Floor(f));
        Assert.Equal(
            [1],
            f.Server.Requests.Where(r => r.Summary == "merge deployments/shop-edge-a" && MigrationTests.Body(r)["spec"] is not null)
                .Select(r => MigrationTests.Body(r)["spec"]!["replicas"]!.GetValue<int>()));
        await f.AdvanceAsync(TimeSpan.FromSeconds(15));
        Assert.Equal([first.Id], (await f.Kube.ObserveAsync(s_none)).Instances.Select(i => i.Id));
        Assert.Single(f.Server.List("pods"));
        Assert.Equal(1, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task Restore_never_goes_below_a_minimum_the_user_re_applied_while_a_floor_was_raised()
    {
        await using var f = new KubernetesFixture();
        AddHpa(f, "shop-edge-a", min: 1, max: 10);
        AddHpa(f, "shop-edge-b", min: 1, max: 10);
        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-a", 3, s_none));
        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-b", 3, s_none));

        // The user re-applies their HPAs with minReplicas 2: a client-side apply keeps annotations it does not know,
        // so the HPAs still say original 1, floor 3.
        foreach (string hpa in new[] { "shop-edge-a", "shop-edge-b" })
        {
            f.Server.Mutate("horizontalpodautoscalers", hpa, h => h["spec"]!["minReplicas"] = 2);
        }

        await f.SyncAsync();
        Assert.Equal((2, "1"), Floor(f, "shop-edge-a"));

        // Restored at once: the user's 2 stays.
        Assert.True(await f.Kube.RestorePredictiveFloorAsync("shop", "edge-a", s_none));
        Assert.Equal((2, null), Floor(f, "shop-edge-a"));

        // Raised again first: the user's 2 is the minimum to keep, and to restore.
        Assert.True(await f.Kube.SetPredictiveFloorAsync("shop", "edge-b", 5, s_none));
        Assert.Equal((5, "2"), Floor(f, "shop-edge-b"));
        Assert.True(await f.Kube.RestorePredictiveFloorAsync("shop", "edge-b", s_none));
        Assert.Equal((2, null), Floor(f, "shop-edge-b"));
    }

    [Fact]
    public async Task A_floor_above_maxReplicas_reports_the_value_written()
    {
        await using var f = new KubernetesFixture();
        AddHpa(f, "shop-edge-a", min: 2, max: 6);

        Assert.Equal(6, await f.Kube.RaisePredictiveFloorAsync("shop", "edge-a", 9, holdUntil: null, s_none));
        Assert.Equal(2, await f.Kube.RaisePredictiveFloorAsync("shop", "edge-a", 1, holdUntil: null, s_none));
        Assert.Null(await f.Kube.RaisePredictiveFloorAsync("shop", "edge-b", 3, holdUntil: null, s_none));
    }

    private static void AddHpa(KubernetesFixture f, string deployment, int min, int max) =>
        f.Server.Create("horizontalpodautoscalers", new JsonObject
        {
            ["metadata"] = new JsonObject { ["name"] = deployment },
            ["spec"] = new JsonObject
            {
                ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = deployment },
                ["minReplicas"] = min,
                ["maxReplicas"] = max,
                ["metrics"] = new JsonArray(new JsonObject
                {
                    ["type"] = "Resource",
                    ["resource"] = new JsonObject
                    {
                        ["name"] = "cpu",
                        ["target"] = new JsonObject { ["type"] = "Utilization", ["averageUtilization"] = 70 },
                    },
                }),
            },
        });

    private static (int Min, string? Original) Floor(KubernetesFixture f, string name = "shop-edge-a")
    {
        JsonObject hpa = f.Server.Get("horizontalpodautoscalers", name)!;
        return (hpa["spec"]!["minReplicas"]!.GetValue<int>(), hpa["metadata"]!["annotations"]?[Names.OriginalMinReplicasAnnotation]?.GetValue<string>());
    }
}
