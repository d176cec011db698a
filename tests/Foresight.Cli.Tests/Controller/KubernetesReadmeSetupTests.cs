using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Cli.Commands;
using Foresight.Cli.Controller;
using Foresight.Cli.Serve;
using Foresight.Kubernetes;
using Foresight.Kubernetes.Tests.Fake;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using FakeKubeCluster = Foresight.Kubernetes.Tests.Fake.FakeCluster;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// The README's Kubernetes setup followed literally, through the engine that <c>run --orchestrator kubernetes</c>
/// builds (<see cref="EngineFactory"/>: a kubeconfig, Prometheus, the Lease): the user's own <c>shop-&lt;site&gt;</c>
/// Deployments and HPAs, labelled as users label them (<c>app: shop</c>), none of Foresight's labels.
/// </summary>
public sealed class KubernetesReadmeSetupTests : IDisposable
{
    private const double Period = 180;
    private const double BurstStart = 120;
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task The_users_own_shop_deployments_and_hpas_give_correct_live_counts_and_floors()
    {
        await using var cluster = new FakeKubeCluster(gatewayApi: true, ns: "shop");
        DateTimeOffset start = cluster.Clock.GetUtcNow();
        foreach (string site in new[] { "a", "b" })
        {
            cluster.Server.Create("deployments", UserWorkloads.Deployment($"shop-{site}", site, replicas: 1, ("app", "shop")));
        }

        cluster.Server.Create("horizontalpodautoscalers", UserWorkloads.Hpa("shop-a", min: 2, max: 10));
        cluster.Server.Create("horizontalpodautoscalers", UserWorkloads.Hpa("shop-b", min: 1, max: 10));
        cluster.Advance(TimeSpan.FromSeconds(10)); // the user's pods run before Foresight is installed

        // Site a: 10 req/s with a 400 req/s burst in seconds 120-135 of every three minutes; site b: a flat 20 req/s.
        await using WebApplication prometheus = await StartPrometheus(_ =>
        {
            double t = (cluster.Clock.GetUtcNow() - start).TotalSeconds % Period;
            return Vector(cluster.Clock.GetUtcNow(), ("a", t is >= BurstStart and < BurstStart + 15 ? 400 : 10), ("b", 20));
        });
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, Address(prometheus)), "kubernetes");
        IControllerEngine engine = await EngineFactory.CreateAsync(config, cluster.Clock, CancellationToken.None);
        var commands = new List<CommandRecord>();
        var loop = new ControllerLoop(engine, TimeSpan.FromSeconds(5), dryRun: false, cluster.Clock, onCommand: commands.Add);
        var statuses = new List<ControllerStatus>();
        try
        {
            for (int i = 0; i < 100; i++)
            {
                cluster.Advance(TimeSpan.FromSeconds(5));
                await loop.TickAsync(CancellationToken.None);
                statuses.Add(loop.Status);
            }
        }
        finally
        {
            await engine.DisposeAsync();
        }

        Assert.All(statuses, s => Assert.DoesNotContain("failed", s.Message ?? "", StringComparison.Ordinal));

        // Live counts: the user's pods (two at a under minReplicas 2, one at b), seen from the first ticks on.
        CommandRecord raise = commands.First(c => c.Kind == "set-floor" && FloorOf(c) > 2);
        ControllerStatus before = statuses.Last(s => s.Tick < raise.Tick);
        Assert.Equal([2, 1], before.Apps[0].Placements.Select(p => p.Live));
        Assert.All(statuses.Skip(3).Where(s => s.Tick < raise.Tick), s => Assert.Equal([2, 1], s.Apps[0].Placements.Select(p => p.Live)));

        // Floors: only the burst at a raises one, sized from the two pods it has, and it is restored to the user's 2.
        Assert.Equal("shop@a", raise.Target);
        Assert.Equal("applied", raise.Outcome);
        Decision decided = statuses.SelectMany(s => s.Apps[0].Decisions).First(d => d.Kind == "raise-floor");
        Assert.Equal("a", decided.Site);
        Assert.Contains("(have 2)", decided.Reason, StringComparison.Ordinal);
        Assert.DoesNotContain(commands, c => c is { Kind: "set-floor", Target: "shop@b" });
        Assert.DoesNotContain(commands, c => c.Kind is "spin-up" or "drain" or "stop");
        Assert.Contains(commands, c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "applied" } && c.Tick > raise.Tick && FloorOf(c) == 2);
        Assert.Equal(2, cluster.Server.Get("horizontalpodautoscalers", "shop-a")!["spec"]!["minReplicas"]!.GetValue<int>());
        Assert.Equal(1, cluster.Server.Get("horizontalpodautoscalers", "shop-b")!["spec"]!["minReplicas"]!.GetValue<int>());

        // The floor's pods are counted too: the HPA scaled the user's Deployment up to it.
        int floor = commands.Where(c => c.Kind == "set-floor").Max(FloorOf);
        Assert.True(floor > 2);
        Assert.Contains(statuses.Where(s => s.Tick > raise.Tick), s => s.Apps[0].Placements[0].Live >= floor);

        // Foresight wrote nothing to the user's Deployments, and labelled none of them.
        Assert.DoesNotContain(cluster.Server.Requests, r => r.IsWrite && r.Plural == "deployments");
    }

    [Fact]
    public async Task Disposing_the_run_engine_releases_its_lease_so_another_replica_takes_over_at_once()
    {
        await using var cluster = new FakeKubeCluster(gatewayApi: true, ns: "shop");
        await using WebApplication prometheus = await StartPrometheus(_ => Vector(cluster.Clock.GetUtcNow(), ("a", 10), ("b", 20)));
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, Address(prometheus)), "kubernetes");
        IControllerEngine engine = await EngineFactory.CreateAsync(config, cluster.Clock, CancellationToken.None);
        var loop = new ControllerLoop(engine, TimeSpan.FromSeconds(5), dryRun: false, cluster.Clock);
        await loop.TickAsync(CancellationToken.None);
        Assert.False(string.IsNullOrEmpty(Holder(cluster)));

        await engine.DisposeAsync(); // what run and serve do on SIGTERM or Ctrl+C

        Assert.True(string.IsNullOrEmpty(Holder(cluster)), $"the lease is still held by '{Holder(cluster)}'");
        var successor = new LeaseElector(cluster.Server.CreateClient(), "shop", "foresight-controller", "replica-b", cluster.Clock);
        Assert.True(await successor.TryAcquireOrRenewAsync(CancellationToken.None));
    }

    [Fact]
    public async Task A_query_that_matches_no_series_is_a_warning_in_status_and_metrics()
    {
        await using var cluster = new FakeKubeCluster(gatewayApi: true, ns: "shop");
        await using WebApplication prometheus = await StartPrometheus(_ => """{"status":"success","data":{"resultType":"vector","result":[]}}""");
        ControllerConfig config = RunCommand.LoadConfig(WriteConfig(cluster, Address(prometheus), tickMs: 100), "kubernetes");
        await using ControllerServer server = await ControllerServer.StartAsync(config, "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, "x");
        using var http = new HttpClient { BaseAddress = server.Address };
        for (int i = 0; i < 200 && server.Loop.Status.Tick < 2; i++)
        {
            await Task.Delay(25);
        }

        using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync("api/status"));
        JsonElement app = status.RootElement.GetProperty("apps")[0];
        Assert.True(app.TryGetProperty("warnings", out JsonElement warnings), "the app status has no warnings");
        JsonElement warning = Assert.Single(warnings.EnumerateArray());
        Assert.Equal("no_series", warning.GetProperty("reason").GetString());
        Assert.Contains("no series", warning.GetProperty("message").GetString(), StringComparison.Ordinal);

        string metrics = await http.GetStringAsync("metrics");
        string line = Assert.Single(metrics.Split('\n'), l => l.StartsWith("foresight_observation_warnings_total{", StringComparison.Ordinal) && !l.EndsWith(" 0", StringComparison.Ordinal));
        Assert.Contains("app=\"shop\"", line, StringComparison.Ordinal);
        Assert.Contains("reason=\"no_series\"", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_exits_non_zero_when_every_tick_failed()
    {
        await using var cluster = new FakeKubeCluster(gatewayApi: true, ns: "shop");

        // Nothing listens on port 9: Prometheus is down, so every tick fails (an unreachable Prometheus is bad input, 2).
        string config = WriteConfig(cluster, new Uri("http://127.0.0.1:9/"), tickMs: 20);
        var output = new StringWriter();
        int code = await RunCommand.ExecuteAsync("kubernetes", config, dryRun: false, ticks: 2, "text", output, CancellationToken.None);

        Assert.Equal(2, code);
        Assert.Contains("every tick failed", output.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The floor a set-floor command wrote ("minReplicas 2 -> 5").</summary>
    private static int FloorOf(CommandRecord c) => int.Parse(c.Detail[(c.Detail.LastIndexOf("-> ", StringComparison.Ordinal) + 3)..], CultureInfo.InvariantCulture);

    private string WriteConfig(FakeKubeCluster cluster, Uri prometheus, int tickMs = 5000)
    {
        string kubeconfig = _workspace.Write("kubeconfig", UserWorkloads.Kubeconfig(cluster.Server.Uri, "shop"));

        // examples/controller.yaml's kubernetes section, with a three-minute season so that the test sees a burst.
        return _workspace.Write("controller.yaml", $"""
            orchestrator: kubernetes
            tickMs: {tickMs}
            kubernetes:
              kubeconfig: {kubeconfig}
              namespace: shop
              prometheus: {prometheus}
              stepSeconds: 5
              horizonSteps: 14
              warmupSeconds: 200
              seasonSeconds: 180
              forecaster: seasonal-naive
              apps:
                - name: shop
                  sites: [a, b]
                  query: sum by (site) (rate(http_requests_total{"{"}app="shop"{"}"}[1m]))
                  siteLabel: site
                  coldStartSeconds: 10
                  warmupSeconds: 20
            """);
    }

    private static string? Holder(FakeKubeCluster cluster) =>
        cluster.Server.Get("leases", "foresight-controller")?["spec"]?["holderIdentity"]?.GetValue<string>();

    private static string Vector(DateTimeOffset at, params (string Site, double Rate)[] series)
    {
        string ts = (at.ToUnixTimeMilliseconds() / 1000.0).ToString(CultureInfo.InvariantCulture);
        string result = string.Join(",", series.Select(s =>
            $$$"""{"metric":{"site":"{{{s.Site}}}"},"value":[{{{ts}}},"{{{s.Rate.ToString(CultureInfo.InvariantCulture)}}}"]}"""));
        return $$$"""{"status":"success","data":{"resultType":"vector","result":[{{{result}}}]}}""";
    }

    private static async Task<WebApplication> StartPrometheus(Func<HttpContext, string> body)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapMethods("/api/v1/query", ["GET", "POST"], ctx => ctx.Response.WriteAsync(body(ctx)));
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
}
