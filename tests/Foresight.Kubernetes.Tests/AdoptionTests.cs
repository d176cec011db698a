using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// A user's own Deployment named <c>&lt;app&gt;-&lt;site&gt;</c> is the workload of (app, site), whatever its labels:
/// its pods are the instances there (the setup the README describes, with the user's own HPAs).
/// </summary>
public sealed class AdoptionTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task A_users_own_Deployment_named_app_site_is_adopted_without_our_labels()
    {
        await using var f = new KubernetesFixture();
        f.Server.Create("deployments", UserWorkloads.Deployment("shop-edge-a", "edge-a", replicas: 2, ("app", "shop")));
        f.Server.Create("deployments", UserWorkloads.Deployment("billing", "edge-a", replicas: 1, ("app", "billing")));
        await f.AdvanceAsync(f.ReadyWithin);

        ClusterSnapshot snapshot = await f.Kube.ObserveAsync(s_none);

        Assert.Equal(2, snapshot.Instances.Count);
        Assert.All(snapshot.Instances, i =>
        {
            Assert.Equal("shop", i.App);
            Assert.Equal("edge-a", i.SiteId);
            Assert.Equal(InstanceState.Ready, i.State);
            Assert.StartsWith("shop-edge-a-", i.Id.Value, StringComparison.Ordinal);
        });
        Assert.All(snapshot.Servers, s => Assert.Equal("edge-a", s.SiteId));
    }

    [Fact]
    public async Task Without_an_image_the_adapter_scales_only_the_users_Deployments_and_says_why_it_cannot_create_one()
    {
        await using var f = new KubernetesFixture();
        f.Server.Create("deployments", UserWorkloads.Deployment("shop-edge-a", "edge-a", replicas: 1, ("app", "shop")));
        await f.AdvanceAsync(f.ReadyWithin);
        var options = f.Options with { Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "", AdoptOnly = true } } };
        await using var kube = new KubernetesOrchestrator(f.Server.CreateClient(), options, f.Cluster.Clock);

        InstanceInfo adopted = await kube.SpinUpAsync(new SpinUpRequest("r1", "shop", "edge-a"), s_none);
        var refused = await Assert.ThrowsAsync<OrchestratorException>(async () => await kube.SpinUpAsync(new SpinUpRequest("r2", "shop", "edge-b"), s_none));

        Assert.Equal("edge-a", adopted.SiteId);
        Assert.False(refused.IsTransient);
        Assert.Contains("no Deployment 'shop-edge-b'", refused.Message, StringComparison.Ordinal);
        Assert.Contains("kubernetes.apps[].image", refused.Message, StringComparison.Ordinal);
        Assert.Null(f.Server.Get("deployments", "shop-edge-b"));
    }

    [Fact]
    public async Task A_spin_up_at_an_adopted_Deployment_keeps_the_users_template()
    {
        await using var f = new KubernetesFixture();
        f.Server.Create("deployments", UserWorkloads.Deployment("shop-edge-a", "edge-a", replicas: 1, ("app", "shop")));
        await f.AdvanceAsync(f.ReadyWithin);

        await f.Kube.SpinUpAsync(new SpinUpRequest("r1", "shop", "edge-a"), s_none);

        JsonObject deployment = f.Server.Get("deployments", "shop-edge-a")!;
        Assert.Equal("registry.example/shop:2.1", deployment["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Assert.Equal(2, deployment["spec"]!["replicas"]!.GetValue<int>());
        Assert.Null(deployment["metadata"]!["labels"]![Names.ManagedByLabel]);
    }
}
