using System.Text.Json.Nodes;
using Foresight.Cli.Controller;
using Foresight.Control.Decision;
using Foresight.Core.Apps;
using Foresight.Kubernetes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// MigrationPolicies in <c>run --orchestrator kubernetes</c> (the one <see cref="ControllerEngine"/>), against the
/// in-test API server: a policy's profile replaces the app's in the shared profiles, its thresholds reach the policy
/// (<see cref="Foresight.Control.Policies.Predictive.PredictivePolicy.OptionsForApp"/>), its dry-run, strategy and
/// safety reach the reconciler, and the leader writes its status.
/// </summary>
public sealed class KubernetesPolicyTests
{
    private static JsonObject Spec(string selectorKey, string selectorValue, JsonObject? profile = null, JsonObject? thresholds = null, JsonObject? safety = null, bool dryRun = false)
    {
        var spec = new JsonObject
        {
            ["appSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { [selectorKey] = selectorValue } },
            ["dryRun"] = dryRun,
        };
        if (profile is not null)
        {
            spec["profile"] = profile;
        }

        if (thresholds is not null)
        {
            spec["thresholds"] = thresholds;
        }

        if (safety is not null)
        {
            spec["safety"] = safety;
        }

        return spec;
    }

    private static JsonObject? Condition(KubernetesClusterHarness h, string policy, string type) =>
        h.Cluster.Server.Get("migrationpolicies", policy)!["status"]?["conditions"]?.AsArray().OfType<JsonObject>()
            .FirstOrDefault(c => c["type"]!.GetValue<string>() == type);

    private static void AddShopDeployments(KubernetesClusterHarness h)
    {
        h.AddDeployment("a", ("app.kubernetes.io/name", "shop"), ("tier", "web"), ("foresight.dev/site", "a"));
        h.AddDeployment("b", ("app.kubernetes.io/name", "shop"), ("tier", "web"), ("foresight.dev/site", "b"));
    }

    [Fact]
    public async Task A_policy_selecting_the_apps_deployments_sets_its_profile_and_thresholds_and_reports_ready()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("web", Spec("tier", "web",
            profile: new JsonObject { ["coldStartSeconds"] = 40, ["warmupSeconds"] = 30 },
            thresholds: new JsonObject { ["trafficShift"] = 0.3, ["confidence"] = 0.7 }));
        await using ControllerEngine engine = await h.EngineAsync(policies: true);

        EngineTick tick = await h.TickOnceAsync(engine);

        AppProfile profile = Assert.Single(engine.Apps);
        Assert.Equal((40, 30), (profile.ColdStartSeconds, profile.WarmupSeconds));
        Assert.Equal(100, profile.LatencySloMs); // not in the policy: the config file's
        PredictiveOptions options = engine.Policy.OptionsForApp!(0)!;
        Assert.Equal((0.3, 0.7), (options.TrafficShiftThreshold, options.ConfidenceThreshold));
        Assert.Equal(40 + 30 + 5, tick.Apps[0].LeadTimeSeconds);
        JsonObject status = h.Cluster.Server.Get("migrationpolicies", "web")!["status"]!.AsObject();
        Assert.Equal(1, status["observedGeneration"]!.GetValue<long>());
        Assert.Equal(0, status["activeMigrations"]!.GetValue<int>());
        Assert.Equal(("True", "Applied"), (Condition(h, "web", "Ready")!["status"]!.GetValue<string>(), Condition(h, "web", "Ready")!["reason"]!.GetValue<string>()));
        Assert.Equal("False", Condition(h, "web", "Invalid")!["status"]!.GetValue<string>());
        Assert.Contains("merge migrationpolicies/web/status", h.Cluster.Server.Writes);

        // Unchanged: no more status writes. Edited: picked up at the next resync, with the new generation observed.
        h.Cluster.Server.ClearRequests();
        await h.TickAsync(engine, ticks: 2);
        Assert.DoesNotContain(h.Cluster.Server.Writes, w => w.StartsWith("merge migrationpolicies", StringComparison.Ordinal));
        h.Cluster.Server.Mutate("migrationpolicies", "web", p => p["spec"]!["profile"]!["coldStartSeconds"] = 60);
        string since = Condition(h, "web", "Ready")!["lastTransitionTime"]!.GetValue<string>();
        await h.TickAsync(engine, ticks: 6); // 30 s

        Assert.Equal(60, engine.Apps[0].ColdStartSeconds);
        Assert.Equal(2, h.Cluster.Server.Get("migrationpolicies", "web")!["status"]!["observedGeneration"]!.GetValue<long>());
        Assert.Equal(since, Condition(h, "web", "Ready")!["lastTransitionTime"]!.GetValue<string>()); // still Ready
    }

    [Fact]
    public async Task An_invalid_policy_is_reported_naming_its_fields_and_its_app_keeps_the_config_file()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("broken", Spec("app.kubernetes.io/name", "shop",
            profile: new JsonObject { ["coldStartSeconds"] = -5 },
            thresholds: new JsonObject { ["confidence"] = 1.5 }));
        await using ControllerEngine engine = await h.EngineAsync(policies: true);

        EngineTick tick = await h.TickOnceAsync(engine);

        Assert.Equal(10, engine.Apps[0].ColdStartSeconds);
        Assert.Equal(new PredictiveOptions().ConfidenceThreshold, engine.Policy.OptionsForApp!(0)!.ConfidenceThreshold);
        Assert.Equal(10 + 20 + 5, tick.Apps[0].LeadTimeSeconds);
        JsonObject invalid = Condition(h, "broken", "Invalid")!;
        Assert.Equal(("True", "InvalidSpec"), (invalid["status"]!.GetValue<string>(), invalid["reason"]!.GetValue<string>()));
        Assert.Contains("spec.profile.coldStartSeconds must be >= 0, got -5", invalid["message"]!.GetValue<string>());
        Assert.Contains("spec.thresholds.confidence must be in (0, 1), got 1.5", invalid["message"]!.GetValue<string>());
        Assert.Equal("False", Condition(h, "broken", "Ready")!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Two_policies_selecting_one_app_are_a_conflict_on_both_and_the_app_keeps_the_config_file()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("by-name", Spec("app.kubernetes.io/name", "shop", profile: new JsonObject { ["coldStartSeconds"] = 40 }));
        h.AddPolicy("by-tier", Spec("tier", "web", profile: new JsonObject { ["coldStartSeconds"] = 50 }));
        h.AddPolicy("by-site", Spec("foresight.dev/site", "a")); // only one site's label: selects no app
        await using ControllerEngine engine = await h.EngineAsync(policies: true);

        await h.TickAsync(engine);

        Assert.Equal(10, engine.Apps[0].ColdStartSeconds);
        foreach ((string policy, string other) in new[] { ("by-name", "by-tier"), ("by-tier", "by-name") })
        {
            JsonObject ready = Condition(h, policy, "Ready")!;
            Assert.Equal(("False", "Conflict"), (ready["status"]!.GetValue<string>(), ready["reason"]!.GetValue<string>()));
            Assert.Contains($"app 'shop' is also selected by MigrationPolicy '{other}'", ready["message"]!.GetValue<string>());
        }

        Assert.Equal("NoMatchingApps", Condition(h, "by-site", "Ready")!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_dry_run_policy_only_plans_and_once_lifted_its_floors_apply_and_show_in_status()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddHpa("a", min: 1, max: 10);
        h.AddHpa("b", min: 1, max: 10);
        h.AddPolicy("web", Spec("tier", "web", dryRun: true));
        await using ControllerEngine engine = await h.EngineAsync(policies: true, policyResyncSeconds: 5);

        // Under the dry-run policy the policy still forecasts and decides, and the reconciler plans for the app and
        // reports it (planned, never applied), leaving its floors, instances and routes as they are.
        List<EngineCommand> dry = await h.TickUntilAsync(engine, c => c.Any(x => x is { Kind: "set-floor", Target: "shop@a" } && FloorOf(x) >= 6), max: 80);
        Assert.All(dry, c => Assert.Equal("planned", c.Outcome));
        Assert.Contains(dry, c => c is { Kind: "set-floor", Target: "shop@a", Detail: "minReplicas 1 -> 6" });
        EngineTick shown = await h.TickOnceAsync(engine);
        Assert.Contains(shown.Apps[0].Decisions, d => d is { Kind: "raise-floor", Site: "a" });
        Assert.Equal(1, h.MinReplicas());
        Assert.Null(h.HpaAnnotations()?[Names.OriginalMinReplicasAnnotation]);
        Assert.DoesNotContain(h.Cluster.Server.Writes, w => !w.Contains("migrationpolicies", StringComparison.Ordinal) && !w.Contains("leases", StringComparison.Ordinal));
        Assert.Null(h.Cluster.Server.Get("migrationpolicies", "web")!["status"]!["lastMigrationTime"]);

        // Lifted: the floor is written at the next pass that wants it raised.
        h.Cluster.Server.Mutate("migrationpolicies", "web", p => p["spec"]!["dryRun"] = false);
        List<EngineCommand> applied = await h.TickUntilAsync(engine, _ => h.MinReplicas() >= 6, max: 40);

        EngineCommand raise = Assert.Single(applied, c => c is { Kind: "set-floor", Target: "shop@a" } && FloorOf(c) >= 6);
        Assert.Equal("applied", raise.Outcome);
        Assert.DoesNotContain(applied, c => c.Kind is "spin-up" or "drain" or "stop");
        await h.TickAsync(engine); // the status follows the pass that raised the floor
        JsonObject status = h.Cluster.Server.Get("migrationpolicies", "web")!["status"]!.AsObject();
        Assert.True(status["activeMigrations"]!.GetValue<int>() >= 1);
        Assert.NotNull(status["lastMigrationTime"]);
    }

    [Fact]
    public async Task A_replica_without_the_lease_reads_policies_but_never_writes_their_status()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("web", Spec("tier", "web", profile: new JsonObject { ["coldStartSeconds"] = 40 }));
        await using ControllerEngine engine = await h.EngineAsync(policies: true, leadership: new SwitchableLeadership("replica-b") { Leading = false });

        await h.TickAsync(engine, ticks: 2);

        Assert.Equal(40, engine.Apps[0].ColdStartSeconds);
        Assert.Null(h.Cluster.Server.Get("migrationpolicies", "web")!["status"]);
        Assert.DoesNotContain(h.Cluster.Server.Writes, w => w.Contains("migrationpolicies", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_policys_max_concurrent_migrations_bounds_the_instances_starting_at_a_site_without_an_hpa(bool limited)
    {
        // No Deployment yet: the adapter creates shop-b (labelled app.kubernetes.io/name: shop) at the first spin-up.
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        h.Cluster.ReadyDelay = TimeSpan.FromSeconds(12); // each pod takes a few passes to become Ready
        h.AddPolicy("web", Spec("app.kubernetes.io/name", "shop", safety: new JsonObject { ["maxConcurrentMigrations"] = 1, ["maxSurge"] = 1, ["cooldownSeconds"] = 0 }));

        // b's burst: 400 req/s in seconds 120-135 of every three minutes, 10 otherwise; a stays flat. Without the
        // policy (the config file's reconciler has no limits) the burst's instances start together.
        await using ControllerEngine engine = await h.EngineAsync(policies: limited, traffic: new BurstAtB(h.Clock, h.Start));
        var starting = new List<int>();
        var spinUps = new List<EngineCommand>();
        for (int i = 0; i < 100; i++)
        {
            EngineTick tick = await h.TickOnceAsync(engine);
            spinUps.AddRange(tick.Commands.Where(c => c is { Kind: "spin-up", Target: "shop@b", Outcome: "applied" }));
            SitePlacement b = tick.Apps[0].Placements[1];
            starting.Add(b.Live - b.Ready);
        }

        Assert.True(spinUps.Count >= 4, $"only {spinUps.Count} spin-up(s) at b");
        if (limited)
        {
            Assert.Equal(("True", "Applied"), (Condition(h, "web", "Ready")!["status"]!.GetValue<string>(), Condition(h, "web", "Ready")!["reason"]!.GetValue<string>()));
            Assert.All(starting, n => Assert.InRange(n, 0, 1));
        }
        else
        {
            Assert.Contains(starting, n => n > 1);
        }
    }

    /// <summary>Site a stays at 10 req/s; b has a 400 req/s burst in seconds 120-135 of every three minutes.</summary>
    private sealed class BurstAtB(TimeProvider time, DateTimeOffset start) : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
        {
            double t = (time.GetUtcNow() - start).TotalSeconds % Period;
            return ValueTask.FromResult(new[] { 10.0, t is >= BurstStart and < BurstStart + 15 ? 400.0 : 10.0 });
        }
    }

    [Fact]
    public async Task A_failing_policy_list_keeps_the_last_policies_and_a_missing_CRD_means_the_config_file()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("web", Spec("tier", "web", profile: new JsonObject { ["coldStartSeconds"] = 40 }));
        await using ControllerEngine engine = await h.EngineAsync(policies: true, policyResyncSeconds: 5);
        await h.TickAsync(engine);
        Assert.Equal(40, engine.Apps[0].ColdStartSeconds);

        h.Cluster.Server.FailNext(r => r.Summary == "list migrationpolicies", 500, times: 10);
        EngineTick failing = await h.TickOnceAsync(engine);

        Assert.Equal(40, engine.Apps[0].ColdStartSeconds);
        Assert.Contains("reading MigrationPolicies failed, keeping the last ones", failing.Message, StringComparison.Ordinal);

        h.Cluster.Server.ClearFaults();
        h.Cluster.Server.FailNext(r => r.Summary == "list migrationpolicies", 404, times: 10);
        EngineTick missing = await h.TickOnceAsync(engine);

        Assert.Equal(10, engine.Apps[0].ColdStartSeconds);
        Assert.Equal(10 + 20 + 5, missing.Apps[0].LeadTimeSeconds);
        Assert.Contains("the MigrationPolicy CRD is not installed", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_engine_factory_reads_policies_through_the_configured_cluster_on_its_resync_period()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("web", Spec("tier", "web", profile: new JsonObject { ["coldStartSeconds"] = 40 }));
        await using WebApplication prometheus = await StartPrometheus(
            """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"site":"a"},"value":[1,"10"]},{"metric":{"site":"b"},"value":[1,"20"]}]}}""");
        string dir = Directory.CreateTempSubdirectory("foresight-kubeconfig-").FullName;
        try
        {
            string kubeconfig = Path.Combine(dir, "config");
            await File.WriteAllTextAsync(kubeconfig, $$$"""
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "{{{h.Cluster.Server.Uri}}}"}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: x, context: {cluster: c, user: u, namespace: shop}}]
                current-context: x
                """);
            var config = new ControllerConfig
            {
                Orchestrator = "kubernetes",
                Kubernetes = Config with { Kubeconfig = kubeconfig, PolicyResyncSeconds = 12, Prometheus = Address(prometheus) },
            };

            await using IControllerEngine engine = await EngineFactory.CreateAsync(config, h.Clock, CancellationToken.None);
            var kube = Assert.IsType<ControllerEngine>(engine);
            Assert.Equal("kubernetes", kube.Mode);

            int Lists() => h.Cluster.Server.Requests.Count(r => r.Summary == "list migrationpolicies");
            await h.TickOnceAsync(engine);
            Assert.Equal(1, Lists());
            Assert.Equal(40, kube.Apps[0].ColdStartSeconds);
            await h.TickAsync(engine, ticks: 3); // 20 s: policies are watched, never listed again
            Assert.Equal(1, Lists());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<WebApplication> StartPrometheus(string body)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        WebApplication app = builder.Build();
        app.MapMethods("/api/v1/query", ["GET", "POST"], ctx => ctx.Response.WriteAsync(body));
        await app.StartAsync();
        return app;
    }

    private static Uri Address(WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/') + "/");

    [Fact]
    public void An_apps_labels_are_those_all_its_deployments_share_or_its_name_when_none_exists()
    {
        var app = new KubernetesApp(new AppProfile { Name = "shop" }, ["a", "b", "c"], "q", "site");
        var deployments = new Dictionary<string, IReadOnlyDictionary<string, string>>
        {
            ["shop-a"] = new Dictionary<string, string> { ["tier"] = "web", ["foresight.dev/site"] = "a", ["team"] = "x" },
            ["shop-b"] = new Dictionary<string, string> { ["tier"] = "web", ["foresight.dev/site"] = "b", ["team"] = "y" },
            ["cart-a"] = new Dictionary<string, string> { ["tier"] = "db" },
        };

        Assert.Equal(new Dictionary<string, string> { ["tier"] = "web" }, PolicyResolver.AppLabels(app, deployments));
        Assert.Equal(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shop" }, PolicyResolver.AppLabels(app, new Dictionary<string, IReadOnlyDictionary<string, string>>()));
    }

    [Fact]
    public void Validation_names_every_invalid_field()
    {
        var spec = new MigrationPolicySpec
        {
            Profile = new MigrationProfile { LatencySloMs = 0, MinInstances = 3, MaxInstances = 2 },
            Thresholds = new MigrationThresholds { TrafficShift = -1, Confidence = 0 },
            Safety = new SafetyLimits { MaxSurge = -1, MaxConcurrentMigrations = 0, CooldownSeconds = -3 },
            Strategy = "yolo",
            AppSelector = new k8s.Models.V1LabelSelector { MatchExpressions = [new() { Key = "tier", OperatorProperty = "In" }] },
        };

        IReadOnlyList<string> errors = PolicyResolver.Validate(spec);

        string[] fields =
        [
            "spec.profile.latencySloMs", "spec.profile.maxInstances", "spec.thresholds.trafficShift", "spec.thresholds.confidence",
            "spec.strategy", "spec.safety.cooldownSeconds", "spec.safety.maxConcurrentMigrations", "spec.safety.maxSurge",
            "spec.appSelector.matchExpressions[0].values",
        ];
        Assert.Equal(fields, errors.Select(e => e.Split(' ')[0]));
        Assert.Empty(PolicyResolver.Validate(new MigrationPolicySpec()));
    }

    [Theory]
    [InlineData("kpa", null)]
    [InlineData("HPA", null)]
    [InlineData("vpa", "spec.profile.reactive must be hpa or kpa, got vpa")]
    public void The_safety_net_field_takes_hpa_or_kpa(string reactive, string? error)
    {
        var spec = new MigrationPolicySpec { Profile = new MigrationProfile { Reactive = reactive } };

        Assert.Equal(error is null ? [] : [error], PolicyResolver.Validate(spec));
    }

    [Theory]
    [InlineData(0.01, null)]
    [InlineData(0.0, null)]
    [InlineData(-0.5, "spec.profile.missCost must be >= 0, got -0.5")]
    public void The_miss_cost_field_must_not_be_negative(double missCost, string? error)
    {
        var spec = new MigrationPolicySpec { Profile = new MigrationProfile { MissCost = missCost } };

        Assert.Equal(error is null ? [] : [error], PolicyResolver.Validate(spec));
    }
}
