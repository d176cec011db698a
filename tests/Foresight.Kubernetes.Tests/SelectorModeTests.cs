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
}
