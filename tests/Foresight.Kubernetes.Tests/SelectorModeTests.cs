using System.Text.Json.Nodes;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>Without Gateway API (404 on its group) traffic moves through Service selectors.</summary>
public sealed class SelectorModeTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task Gateway_API_is_detected_by_discovery()
    {
        await using var with = new KubernetesFixture(gatewayApi: true);
        await using var without = new KubernetesFixture(gatewayApi: false);
        await with.Kube.StartAsync(s_none);
        await without.Kube.StartAsync(s_none);

        Assert.Equal(TrafficMode.GatewayApi, with.Kube.EffectiveTrafficMode);
        Assert.Equal(TrafficMode.ServiceSelector, without.Kube.EffectiveTrafficMode);
        Assert.Contains(without.Server.Requests, r => r.ToString() == "list httproutes -> 404");
        Assert.DoesNotContain(without.Server.Requests, r => r.Summary == "watch httproutes");
    }

    [Fact]
    public async Task The_ingress_Service_pins_one_site_or_spans_the_weighted_sites()
    {
        await using var f = new KubernetesFixture(gatewayApi: false);

        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 1)]), s_none);
        JsonObject pinned = f.Server.Get("services", "shop-via-edge-a")!;
        Assert.Equal("edge-b", pinned["spec"]!["selector"]![Names.SiteLabel]!.GetValue<string>());
        Assert.Equal("true", pinned["spec"]!["selector"]![Names.ServingLabel]!.GetValue<string>());

        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 30), new SiteWeight("edge-b", 70)]), s_none);
        JsonObject spanning = f.Server.Get("services", "shop-via-edge-a")!;
        Assert.Null(spanning["spec"]!["selector"]![Names.SiteLabel]);

        Route route = Assert.Single((await f.Kube.ObserveAsync(s_none)).Routes);
        Assert.Equal([new SiteWeight("edge-a", 30), new SiteWeight("edge-b", 70)], route.Weights);
        Assert.All(f.Server.Requests.Where(r => r.IsWrite), r => Assert.Equal("apply", r.Summary.Split(' ')[0]));
    }

    [Fact]
    public async Task The_ingress_Service_selects_exactly_the_weighted_sites()
    {
        await using var f = new KubernetesFixture(gatewayApi: false);
        foreach ((string request, string site) in new[] { ("a1", "edge-a"), ("b1", "edge-b"), ("c1", "edge-c") })
        {
            await f.Kube.SpinUpAsync(new SpinUpRequest(request, "shop", site), s_none);
        }

        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.ObserveAsync(s_none);

        // Weights on edge-a and edge-b: edge-c's serving pod must not take any of this traffic.
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 30), new SiteWeight("edge-b", 70)]), s_none);
        Assert.Equal(["edge-a", "edge-b"], SelectedSites(f, "shop-via-edge-a"));

        // A zero weight is no weight.
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 1), new SiteWeight("edge-c", 0), new SiteWeight("edge-a", 1)]), s_none);
        Assert.Equal(["edge-a", "edge-b"], SelectedSites(f, "shop-via-edge-a"));

        // Pods that start later join if their site is weighted, and only then.
        await f.Kube.SpinUpAsync(new SpinUpRequest("b2", "shop", "edge-b"), s_none);
        await f.Kube.SpinUpAsync(new SpinUpRequest("c2", "shop", "edge-c"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.ObserveAsync(s_none);
        Assert.Equal(["edge-a", "edge-b", "edge-b"], SelectedSites(f, "shop-via-edge-a"));

        // Another ingress with other weights selects its own sites from the same pods.
        await f.Kube.SetRouteAsync(new Route("shop", "edge-c", [new SiteWeight("edge-c", 1), new SiteWeight("edge-a", 1)]), s_none);
        Assert.Equal(["edge-a", "edge-c", "edge-c"], SelectedSites(f, "shop-via-edge-c"));
        Assert.Equal(["edge-a", "edge-b", "edge-b"], SelectedSites(f, "shop-via-edge-a"));

        // An all-zero route sends traffic nowhere.
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 0), new SiteWeight("edge-b", 0)]), s_none);
        Assert.Empty(SelectedSites(f, "shop-via-edge-a"));
    }

    /// <summary>The site of every live pod the Service's selector matches (what kube-proxy would send its traffic to), sorted.</summary>
    private static List<string> SelectedSites(KubernetesFixture f, string service)
    {
        JsonObject selector = f.Server.Get("services", service)!["spec"]!["selector"]!.AsObject();
        return f.Server.List("pods")
            .Where(p => p["metadata"]?["deletionTimestamp"] is null)
            .Where(p => selector.All(kv => p["metadata"]?["labels"]?[kv.Key]?.GetValue<string>() == kv.Value!.GetValue<string>()))
            .Select(p => p["metadata"]!["labels"]![Names.SiteLabel]!.GetValue<string>())
            .Order(StringComparer.Ordinal)
            .ToList();
    }
}
