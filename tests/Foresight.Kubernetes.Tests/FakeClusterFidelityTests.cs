using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// The in-test API server and control plane where a real one (kube-apiserver and kube-controller-manager v1.36, Gateway
/// API v1 CRDs) was seen to differ from the earlier fake: the fake is the only cluster CI has.
/// </summary>
public sealed class FakeClusterFidelityTests
{
    [Fact]
    public async Task An_HPA_does_not_scale_a_Deployment_that_has_zero_replicas()
    {
        await using var cluster = new FakeCluster();
        cluster.Server.Create("deployments", Deployment("web", replicas: 0));
        cluster.Server.Create("horizontalpodautoscalers", Hpa("web", min: 2, max: 5));

        cluster.Advance(TimeSpan.FromSeconds(30));

        Assert.Equal(0, cluster.Server.Get("deployments", "web")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Empty(cluster.Server.List("pods"));
        JsonObject condition = cluster.Server.Get("horizontalpodautoscalers", "web")!["status"]!["conditions"]!.AsArray()
            .OfType<JsonObject>().Single(c => c["type"]!.GetValue<string>() == "ScalingActive");
        Assert.Equal("False", condition["status"]!.GetValue<string>());
        Assert.Equal("ScalingDisabled", condition["reason"]!.GetValue<string>());
        Assert.Equal("scaling is disabled since the replica count of the target is zero", condition["message"]!.GetValue<string>());

        // From one replica on, it keeps the target within its bounds.
        cluster.Server.Mutate("deployments", "web", d => d["spec"]!["replicas"] = 1);
        cluster.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, cluster.Server.Get("deployments", "web")!["spec"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_Deployment_scales_its_ReplicaSet_and_the_ReplicaSet_its_pods_on_later_passes_never_inside_a_write()
    {
        await using var cluster = new FakeCluster();
        cluster.Server.Create("deployments", Deployment("web", replicas: 2));
        Assert.Empty(cluster.Server.List("pods"));

        cluster.Reconcile();
        Assert.Equal(2, cluster.Server.Get("replicasets", $"web-{FakeCluster.TemplateHash}")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Empty(cluster.Server.List("pods"));

        cluster.Reconcile();
        Assert.Equal(2, cluster.Server.List("pods").Count);
        Assert.All(cluster.Server.List("pods"), p => Assert.Equal($"web-{FakeCluster.TemplateHash}", p["metadata"]!["ownerReferences"]![0]!["name"]!.GetValue<string>()));

        // Scale down: the ReplicaSet still wants two for one pass.
        cluster.Server.Mutate("deployments", "web", d => d["spec"]!["replicas"] = 1);
        cluster.Reconcile();
        Assert.Equal(2, Live(cluster).Count);
        cluster.Reconcile();
        Assert.Single(Live(cluster));
        JsonObject deployment = cluster.Server.Get("deployments", "web")!;
        Assert.Equal(deployment["metadata"]!["generation"]!.ToJsonString(), deployment["status"]!["observedGeneration"]!.ToJsonString());
        Assert.Equal(1, deployment["status"]!["replicas"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_pod_deleted_while_its_ReplicaSet_still_wants_it_is_replaced()
    {
        await using var cluster = new FakeCluster();
        cluster.Server.Create("deployments", Deployment("web", replicas: 1));
        cluster.Advance(cluster.ReadyWithin);
        string original = FakeCluster.Name(Assert.Single(cluster.Server.List("pods")));

        // The same two writes, in the same order, as a stop that lowers replicas and deletes the pod at once.
        cluster.Server.Mutate("deployments", "web", d => d["spec"]!["replicas"] = 0);
        cluster.Server.Mutate("pods", original, p => p["metadata"]!["deletionTimestamp"] = FakeApiServer.Stamp(cluster.Clock.GetUtcNow() + TimeSpan.FromSeconds(30)));
        cluster.Reconcile();

        string replacement = FakeCluster.Name(Assert.Single(Live(cluster)));
        Assert.NotEqual(original, replacement);
        Assert.Equal(2, cluster.CreatedPods.Count);

        // One pass later the ReplicaSet has seen zero, and the short-lived replacement goes.
        cluster.Reconcile();
        Assert.Empty(Live(cluster));
    }

    [Fact]
    public async Task The_ReplicaSet_removes_unscheduled_then_not_ready_then_cheapest_then_newest_pods_first()
    {
        await using var cluster = new FakeCluster();
        cluster.Server.Create("deployments", Deployment("web", replicas: 3));
        cluster.Advance(cluster.ReadyWithin);
        Assert.Equal(3, cluster.Server.List("pods").Count(FakeCluster.IsReady));
        string[] ready = cluster.Server.List("pods").Select(FakeCluster.Name).ToArray();

        // Two more (the clock stands still, so the scheduler leaves them): one bound to a node but not started, one unscheduled.
        cluster.Server.Mutate("deployments", "web", d => d["spec"]!["replicas"] = 5);
        cluster.Reconcile();
        cluster.Reconcile();
        string[] fresh = Live(cluster).Select(FakeCluster.Name).Except(ready).ToArray();
        Assert.Equal(2, fresh.Length);
        cluster.Server.Mutate("pods", fresh[0], p => p["spec"]!["nodeName"] = "node-x");

        // Deletion cost among the ready ones: the cheap one goes before the older default-cost ones.
        cluster.Server.Mutate("pods", ready[2], p => p["metadata"]!["annotations"] = new JsonObject { [Names.PodDeletionCostAnnotation] = "-5" });
        cluster.Server.Mutate("pods", ready[0], p => p["metadata"]!["annotations"] = new JsonObject { [Names.PodDeletionCostAnnotation] = "10" });

        var order = new List<string>();
        for (int replicas = 4; replicas >= 1; replicas--)
        {
            int r = replicas;
            cluster.Server.Mutate("deployments", "web", d => d["spec"]!["replicas"] = r);
            var before = Live(cluster).Select(FakeCluster.Name).ToHashSet();
            cluster.Reconcile();
            cluster.Reconcile();
            order.Add(Assert.Single(before.Except(Live(cluster).Select(FakeCluster.Name))));
        }

        // Unscheduled, scheduled-not-ready, cost -5, then of ready[0] (cost 10) and ready[1] (cost 0) the cheaper.
        Assert.Equal([fresh[1], fresh[0], ready[2], ready[1]], order);
    }

    [Fact]
    public async Task Watches_get_a_bookmark_only_every_minute_never_on_connecting()
    {
        await using var cluster = new FakeCluster();
        cluster.Server.Create("leases", new JsonObject { ["metadata"] = new JsonObject { ["name"] = "quiet" }, ["spec"] = new JsonObject() });
        using var http = new HttpClient { BaseAddress = cluster.Server.Uri, Timeout = TimeSpan.FromSeconds(10) };
        using var response = await http.GetAsync("apis/coordination.k8s.io/v1/namespaces/edge/leases?watch=true&allowWatchBookmarks=true", HttpCompletionOption.ResponseHeadersRead);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        Assert.Equal("ADDED", JsonNode.Parse((await reader.ReadLineAsync())!)!["type"]!.GetValue<string>());

        Task<string?> next = reader.ReadLineAsync();
        cluster.Advance(TimeSpan.FromSeconds(59));
        if (await Completes(next, TimeSpan.FromMilliseconds(300)))
        {
            Assert.Fail("a bookmark came before a minute had passed: " + (await next ?? "<end of stream>"));
        }


        cluster.Advance(TimeSpan.FromSeconds(1));
        Assert.True(await Completes(next, TimeSpan.FromSeconds(10)));
        Assert.Equal("BOOKMARK", JsonNode.Parse((await next)!)!["type"]!.GetValue<string>());

        next = reader.ReadLineAsync();
        cluster.Advance(TimeSpan.FromSeconds(30));
        Assert.False(await Completes(next, TimeSpan.FromMilliseconds(300)), "bookmarks came more often than every minute");
    }

    [Fact]
    public async Task HTTPRoute_fields_are_defaulted_as_the_Gateway_API_CRD_defaults_them()
    {
        await using var cluster = new FakeCluster();
        using var http = new HttpClient { BaseAddress = cluster.Server.Uri };
        var route = new JsonObject
        {
            ["apiVersion"] = "gateway.networking.k8s.io/v1",
            ["kind"] = "HTTPRoute",
            ["metadata"] = new JsonObject { ["name"] = "r" },
            ["spec"] = new JsonObject
            {
                ["parentRefs"] = new JsonArray(new JsonObject { ["name"] = "gw" }),
                ["rules"] = new JsonArray(new JsonObject
                {
                    ["backendRefs"] = new JsonArray(new JsonObject { ["name"] = "svc", ["port"] = 80 }),
                }),
            },
        };
        using var content = new StringContent(route.ToJsonString(), System.Text.Encoding.UTF8, "application/apply-patch+yaml");
        content.Headers.ContentType!.CharSet = null;
        using HttpResponseMessage applied = await http.PatchAsync("apis/gateway.networking.k8s.io/v1/namespaces/edge/httproutes/r?fieldManager=t", content);
        Assert.True(applied.IsSuccessStatusCode);

        JsonObject read = JsonNode.Parse(await http.GetStringAsync("apis/gateway.networking.k8s.io/v1/namespaces/edge/httproutes/r"))!.AsObject();
        JsonNode spec = read["spec"]!;
        Assert.Equal("gateway.networking.k8s.io", spec["parentRefs"]![0]!["group"]!.GetValue<string>());
        Assert.Equal("Gateway", spec["parentRefs"]![0]!["kind"]!.GetValue<string>());
        Assert.Equal("PathPrefix", spec["rules"]![0]!["matches"]![0]!["path"]!["type"]!.GetValue<string>());
        Assert.Equal("/", spec["rules"]![0]!["matches"]![0]!["path"]!["value"]!.GetValue<string>());
        JsonNode backend = spec["rules"]![0]!["backendRefs"]![0]!;
        Assert.Equal("", backend["group"]!.GetValue<string>());
        Assert.Equal("Service", backend["kind"]!.GetValue<string>());
        Assert.Equal(1, backend["weight"]!.GetValue<int>());
    }

    private static List<JsonObject> Live(FakeCluster cluster) =>
        cluster.Server.List("pods").Where(p => p["metadata"]!["deletionTimestamp"] is null).ToList();

    private static async Task<bool> Completes(Task task, TimeSpan within) =>
        await Task.WhenAny(task, Task.Delay(within)) == task;

    internal static JsonObject Deployment(string name, int replicas, string site = "edge-a") => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject
        {
            ["replicas"] = replicas,
            ["selector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = name } },
            ["template"] = new JsonObject
            {
                ["metadata"] = new JsonObject { ["labels"] = new JsonObject { ["app"] = name } },
                ["spec"] = new JsonObject
                {
                    ["terminationGracePeriodSeconds"] = 10,
                    ["containers"] = new JsonArray(new JsonObject { ["name"] = "main", ["image"] = "registry.example/web:1" }),
                    ["affinity"] = new JsonObject
                    {
                        ["nodeAffinity"] = new JsonObject
                        {
                            ["requiredDuringSchedulingIgnoredDuringExecution"] = new JsonObject
                            {
                                ["nodeSelectorTerms"] = new JsonArray(new JsonObject
                                {
                                    ["matchExpressions"] = new JsonArray(new JsonObject
                                    {
                                        ["key"] = "topology.kubernetes.io/zone",
                                        ["operator"] = "In",
                                        ["values"] = new JsonArray(site),
                                    }),
                                }),
                            },
                        },
                    },
                },
            },
        },
    };

    internal static JsonObject Hpa(string target, int min, int max) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = target },
        ["spec"] = new JsonObject
        {
            ["scaleTargetRef"] = new JsonObject { ["apiVersion"] = "apps/v1", ["kind"] = "Deployment", ["name"] = target },
            ["minReplicas"] = min,
            ["maxReplicas"] = max,
        },
    };
}
