using System.Text.Json.Nodes;
using Foresight.Cli.Controller;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;
using Foresight.Control.Decision;
using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Orchestration;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// <c>run --orchestrator kubernetes</c>'s engine (<see cref="KubernetesController.Create"/>): where an HPA scales a
/// site, the reconciler writes the forecast's part of the desired placement as the HPA's minReplicas floor.
/// </summary>
public sealed class KubernetesEngineTests
{
    /// <summary>
    /// One Ready pod per site, both sites HPA-scaled (minReplicas 1, maxReplicas 10): the controller may only set floors
    /// and routes here; a spin-up, drain or stop fails the test.
    /// </summary>
    private sealed class FakeCluster(TimeProvider time) : IOrchestrator
    {
        private readonly Dictionary<string, int> _floor = new() { ["a"] = 1, ["b"] = 1 };
        private readonly Dictionary<string, Route> _routes = [];

        public List<string> Calls { get; } = [];

        /// <summary>When each floor above the user's minimum was written.</summary>
        public List<DateTimeOffset> RaisedAt { get; } = [];

        public Exception? NextFloorError { get; set; }

        public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken)
        {
            InstanceInfo Pod(string id, string site) =>
                new(new InstanceId(id), "shop", site, "node", InstanceState.Ready, 1, time.GetUtcNow(), time.GetUtcNow(), time.GetUtcNow(), 0);
            return ValueTask.FromResult(new ClusterSnapshot(time.GetUtcNow(), [Pod("shop-a-1", "a"), Pod("shop-b-1", "b")], _routes.Values.ToList(), [])
            {
                Autoscaled = _floor.Select(f => new AutoscaledSite("shop", f.Key, 1, f.Value, 10)).ToList(),
            });
        }

        public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken)
        {
            if (NextFloorError is { } e)
            {
                NextFloorError = null;
                throw e;
            }

            Calls.Add($"set {app}@{siteId} {minReplicas}");
            if (minReplicas > 1)
            {
                RaisedAt.Add(time.GetUtcNow());
            }

            _floor[siteId] = Math.Clamp(minReplicas, 1, 10);
            return ValueTask.FromResult(_floor[siteId]);
        }

        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => throw new NotSupportedException("floors only");

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException("floors only");

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken)
        {
            _routes[route.IngressSiteId] = route;
            return ValueTask.CompletedTask;
        }

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException("floors only");

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException("floors only");
    }

    /// <summary>Site a has a 400 req/s burst in seconds 120-135 of every three minutes; site b stays flat at 20 req/s.</summary>
    private sealed class PeriodicTraffic(FakeTimeProvider time, DateTimeOffset start) : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
        {
            double t = (time.GetUtcNow() - start).TotalSeconds % Period;
            return ValueTask.FromResult(new[] { t is >= BurstStart and < BurstStart + 15 ? 400.0 : 10.0, 20.0 });
        }
    }

    private const double Period = 180;
    private const double BurstStart = 120;

    private static readonly KubernetesConfig Config = new()
    {
        Namespace = "shop",
        Prometheus = new Uri("http://127.0.0.1:9/"),
        StepSeconds = 5,
        HorizonSteps = 14,
        WarmupSeconds = 200,
        SeasonSeconds = Period,
        Forecaster = "seasonal-naive",
        Apps = [new KubernetesApp(new AppProfile { Name = "shop", ColdStartSeconds = 10, WarmupSeconds = 20 }, ["a", "b"], "q", "site")],
    };

    private static ControllerEngine Engine(FakeCluster cluster, FakeTimeProvider time, ILeadership? leadership = null) =>
        KubernetesController.Create(Config, new PredictiveOptions(), 5, cluster, new PeriodicTraffic(time, time.GetUtcNow()), time, leadership: leadership);

    private static async Task<List<EngineCommand>> Run(IControllerEngine engine, FakeTimeProvider time, bool dryRun, int ticks)
    {
        var commands = new List<EngineCommand>();
        for (int i = 0; i < ticks; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            commands.AddRange((await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun, CancellationToken.None)).Commands);
        }

        return commands;
    }

    [Fact]
    public async Task A_predicted_burst_raises_the_hpa_floor_ahead_of_it_and_restores_it_after()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cluster = new FakeCluster(time);
        await using ControllerEngine engine = Engine(cluster, time);

        DateTimeOffset start = time.GetUtcNow();
        List<EngineCommand> commands = await Run(engine, time, dryRun: false, ticks: 120); // ten minutes

        // 400 req/s at 70 req/s per replica (100 req/s at 70% target) needs 6; only the bursty site gets a floor, and
        // once the predicted peak has passed the floor goes back down to the HPA's own minReplicas (1).
        Assert.Contains("set shop@a 6", cluster.Calls);
        Assert.Contains("set shop@a 1", cluster.Calls);
        Assert.True(cluster.Calls.IndexOf("set shop@a 1") > cluster.Calls.IndexOf("set shop@a 6"));
        Assert.DoesNotContain(cluster.Calls, c => c.Contains("@b", StringComparison.Ordinal));
        Assert.All(commands, c => Assert.Equal("applied", c.Outcome));
        Assert.All(commands, c => Assert.Contains(c.Kind, new[] { "set-floor", "set-route" }));
        Assert.Contains(commands, c => c is { Target: "shop@a", Detail: "minReplicas 1 -> 6" });
        Assert.Contains(commands, c => c is { Target: "shop@a", Detail: "minReplicas 6 -> 1" });

        // Each raise comes before its burst, once the burst enters the window the floor looks at: from the lead time
        // (cold start 10 + warm-up 20 + margin 5 s) to the lead time plus the 30 s hold, give or take two 5 s buckets.
        Assert.NotEmpty(cluster.RaisedAt);
        Assert.All(cluster.RaisedAt, at =>
        {
            double phase = (at - start).TotalSeconds % Period;
            Assert.InRange(phase, BurstStart - 35 - 30 - 10, BurstStart - 1);
        });
    }

    [Fact]
    public async Task A_replica_that_does_not_hold_the_lease_forecasts_but_never_writes_floors()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cluster = new FakeCluster(time);
        var lease = new SwitchableLeadership { Leading = false };
        await using ControllerEngine engine = Engine(cluster, time, lease);

        List<EngineCommand> standby = await Run(engine, time, dryRun: false, ticks: 120);
        time.Advance(TimeSpan.FromSeconds(5));
        EngineTick tick = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);

        Assert.Empty(standby);
        Assert.Empty(cluster.Calls);
        Assert.Contains("standby", tick.Message, StringComparison.Ordinal);
        Assert.NotEmpty(tick.Apps[0].Forecasts); // the follower's models are warm

        lease.Leading = true; // the leader is gone and this replica takes the lease over
        List<EngineCommand> leading = await Run(engine, time, dryRun: false, ticks: 120);

        Assert.Contains("set shop@a 6", cluster.Calls);
        Assert.NotEmpty(leading);
    }

    private sealed class SwitchableLeadership : ILeadership
    {
        public bool Leading { get; set; }

        public string Identity => "replica-b";

        public Task<bool> TryLeadAsync(CancellationToken cancellationToken) => Task.FromResult(Leading);
    }

    [Fact]
    public async Task Dry_run_plans_floor_changes_without_touching_the_cluster()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cluster = new FakeCluster(time);
        await using ControllerEngine engine = Engine(cluster, time);

        List<EngineCommand> commands = await Run(engine, time, dryRun: true, ticks: 120);

        Assert.Empty(cluster.Calls);
        Assert.All(commands, c => Assert.Equal("planned", c.Outcome));
        Assert.Contains(commands, c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "planned", Detail: "minReplicas 1 -> 6" });
    }

    [Fact]
    public async Task A_failing_floor_write_is_reported_and_retried_next_tick()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cluster = new FakeCluster(time) { NextFloorError = new OrchestratorException("conflict", isTransient: true) };
        await using ControllerEngine engine = Engine(cluster, time);

        List<EngineCommand> commands = await Run(engine, time, dryRun: false, ticks: 120);

        List<EngineCommand> floors = commands.Where(c => c.Kind == "set-floor").ToList();
        EngineCommand failed = Assert.Single(floors, c => c.Outcome == "failed");
        Assert.Equal(("shop@a", "conflict"), (failed.Target, failed.Error));
        int retried = floors.IndexOf(failed) + 1;
        Assert.True(retried < floors.Count, "the failed floor was not retried");
        Assert.Equal((failed.Target, failed.Detail, "applied"), (floors[retried].Target, floors[retried].Detail, floors[retried].Outcome));
        Assert.Contains("set shop@a 6", cluster.Calls);
    }

    [Fact]
    public async Task Against_the_in_test_api_server_dry_run_plans_and_a_real_tick_raises_the_hpa_min_replicas()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);

        // Floors rounded per site, so that site b's own small need is its own (pooled, it may be met at a).
        await using ControllerEngine engine = await h.EngineAsync(options: new PredictiveOptions { PoolRounding = false });

        // Dry-run until the first floor above the HPA's own minReplicas is planned (site a's HPA has no Deployment to
        // scale, so it runs no pods; the flat 10 req/s needs one replica, which the HPA's minimum already holds).
        var planned = new List<EngineCommand>();
        for (int i = 0; i < 60 && planned.Count == 0; i++)
        {
            planned.AddRange((await h.TickOnceAsync(engine, dryRun: true)).Commands.Where(c => c is { Kind: "set-floor", Target: "shop@a" }));
        }

        EngineCommand plannedFloor = Assert.Single(planned);
        Assert.Equal(("planned", "minReplicas 1 -> 6"), (plannedFloor.Outcome, plannedFloor.Detail));
        Assert.Equal(1, h.MinReplicas());
        Assert.Null(h.HpaAnnotations()?[Foresight.Kubernetes.Names.OriginalMinReplicasAnnotation]);
        Assert.DoesNotContain(h.Cluster.Server.Requests, r => r.IsWrite && r.Plural is "horizontalpodautoscalers" or "deployments");

        // Applied: site a's HPA gets the floor and keeps its own minimum to restore. Site b has no HPA: the controller
        // scales it itself (spin-ups, never a floor).
        EngineTick applied = await h.TickOnceAsync(engine);
        Assert.Contains(applied.Commands, c => c is { Kind: "spin-up", Target: "shop@b", Outcome: "applied" });
        EngineCommand floor = Assert.Single(applied.Commands, c => c is { Kind: "set-floor", Target: "shop@a" });
        Assert.Equal("applied", floor.Outcome);
        Assert.DoesNotContain(applied.Commands, c => c is { Kind: "set-floor", Target: "shop@b" });
        Assert.Equal(FloorOf(floor), h.MinReplicas());
        Assert.Equal("1", h.HpaAnnotations()![Foresight.Kubernetes.Names.OriginalMinReplicasAnnotation]!.GetValue<string>());

        // Ahead of the burst (400 req/s at 70 req/s per replica) the floor goes to 6.
        DateTimeOffset start = h.Start;
        for (int i = 0; i < 60 && h.MinReplicas() < 6; i++)
        {
            await h.TickOnceAsync(engine);
        }

        Assert.Equal(6, h.MinReplicas());
        double phase = (h.Clock.GetUtcNow() - start).TotalSeconds % Period;
        Assert.InRange(phase, BurstStart - 35 - 30 - 10, BurstStart - 1);
        Assert.DoesNotContain(h.Cluster.Server.Requests, r => r.IsWrite && r.Plural == "horizontalpodautoscalers" && r.Name == "shop-b");
    }

    [Fact]
    public async Task The_prometheus_observer_reads_an_instant_vector_per_site()
    {
        string body = """
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"site":"a","app":"shop"},"value":[1764460800.123,"42.5"]},
              {"metric":{"site":"b","app":"shop"},"value":[1764460800.123,"NaN"]},
              {"metric":{"site":"elsewhere","app":"shop"},"value":[1764460800.123,"7"]}]}}
            """;
        string? seenQuery = null;
        await using WebApplication server = await StartPrometheus(ctx =>
        {
            seenQuery = ctx.Request.HasFormContentType ? ctx.Request.Form["query"] : ctx.Request.Query["query"];
            return ctx.Response.WriteAsync(body);
        });
        using var http = new HttpClient();
        var observer = new PrometheusTrafficObserver(http, Address(server));

        double[] rates = await observer.ObserveAsync(Config.Apps[0] with { Query = "sum by (site) (rate(x[1m]))" }, CancellationToken.None);

        Assert.Equal([42.5, 0], rates);
        Assert.Equal("sum by (site) (rate(x[1m]))", seenQuery);
    }

    [Fact]
    public async Task A_site_whose_sample_goes_missing_keeps_its_last_reading_and_duplicate_sites_are_an_error()
    {
        string[] bodies =
        [
            """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"site":"a"},"value":[1,"40"]},{"metric":{"site":"b"},"value":[1,"3"]}]}}""",
            """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"site":"a"},"value":[2,"NaN"]}]}}""",
            """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"site":"a"},"value":[3,"1"]},{"metric":{"site":"a","pod":"x"},"value":[3,"2"]}]}}""",
        ];
        int call = 0;
        await using WebApplication server = await StartPrometheus(ctx => ctx.Response.WriteAsync(bodies[Math.Min(call++, bodies.Length - 1)]));
        using var http = new HttpClient();
        var observer = new PrometheusTrafficObserver(http, Address(server));

        double[] first = await observer.ObserveAsync(Config.Apps[0], CancellationToken.None);
        double[] second = await observer.ObserveAsync(Config.Apps[0], CancellationToken.None);

        Assert.Equal(new double[] { 40, 3 }, first);
        Assert.Equal(new double[] { 40, 3 }, second);
        Assert.Equal(2, observer.LastMissing.Count);

        var e = await Assert.ThrowsAsync<InvalidInputException>(async () => await observer.ObserveAsync(Config.Apps[0], CancellationToken.None));
        Assert.Contains("app 'shop'", e.Message);
    }

    [Fact]
    public async Task A_prometheus_error_names_the_app_and_its_message()
    {
        await using WebApplication server = await StartPrometheus(ctx =>
        {
            ctx.Response.StatusCode = 400;
            return ctx.Response.WriteAsync("""{"status":"error","errorType":"bad_data","error":"parse error at char 4"}""");
        });
        using var http = new HttpClient();
        var observer = new PrometheusTrafficObserver(http, Address(server));

        var e = await Assert.ThrowsAsync<InvalidInputException>(async () => await observer.ObserveAsync(Config.Apps[0], CancellationToken.None));

        Assert.Contains("app 'shop'", e.Message);
        Assert.Contains("parse error at char 4", e.Message);
    }

    private static async Task<WebApplication> StartPrometheus(RequestDelegate handler)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapMethods("/api/v1/query", ["GET", "POST"], handler);
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");
}
