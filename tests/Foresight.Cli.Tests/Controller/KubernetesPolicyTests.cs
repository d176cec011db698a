using System.Text.Json.Nodes;
using Foresight.Cli.Controller;
using Foresight.Core.Apps;
using Foresight.Kubernetes;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;

namespace Foresight.Cli.Tests.Controller;

/// <summary>MigrationPolicies in <c>run --orchestrator kubernetes</c>, against the in-test API server.</summary>
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
        KubernetesEngine engine = await h.EngineAsync(policies: true);

        EngineTick tick = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);

        AppSettings settings = Assert.Single(engine.Settings);
        Assert.Equal("web", settings.Policy);
        Assert.Equal((40, 30), (settings.Profile.ColdStartSeconds, settings.Profile.WarmupSeconds));
        Assert.Equal(100, settings.Profile.LatencySloMs); // not in the policy: the config file's
        Assert.Equal((0.3, 0.7), (settings.Options.TrafficShiftThreshold, settings.Options.ConfidenceThreshold));
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

        Assert.Equal(60, engine.Settings[0].Profile.ColdStartSeconds);
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
        KubernetesEngine engine = await h.EngineAsync(policies: true);

        EngineTick tick = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);

        Assert.Null(engine.Settings[0].Policy);
        Assert.Equal(10, engine.Settings[0].Profile.ColdStartSeconds);
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
        KubernetesEngine engine = await h.EngineAsync(policies: true);

        await h.TickAsync(engine);

        Assert.Null(engine.Settings[0].Policy);
        Assert.Equal(10, engine.Settings[0].Profile.ColdStartSeconds);
        foreach ((string policy, string other) in new[] { ("by-name", "by-tier"), ("by-tier", "by-name") })
        {
            JsonObject ready = Condition(h, policy, "Ready")!;
            Assert.Equal(("False", "Conflict"), (ready["status"]!.GetValue<string>(), ready["reason"]!.GetValue<string>()));
            Assert.Contains($"app 'shop' is also selected by MigrationPolicy '{other}'", ready["message"]!.GetValue<string>());
        }

        Assert.Equal("NoMatchingApps", Condition(h, "by-site", "Ready")!["reason"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_dry_run_policy_only_plans_and_once_lifted_its_floors_apply_within_max_surge_and_show_in_status()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddHpa("a", min: 1, max: 10);
        h.AddPolicy("web", Spec("tier", "web", safety: new JsonObject { ["maxSurge"] = 2, ["cooldownSeconds"] = 0 }, dryRun: true));
        KubernetesEngine engine = await h.EngineAsync(policies: true, policyResyncSeconds: 5);

        List<EngineCommand> planned = await h.TickUntilAsync(engine, c => c.Any(x => x.Kind == "set-floor"));
        Assert.All(planned, c => Assert.Equal("planned", c.Outcome));
        Assert.Equal(1, h.MinReplicas());
        Assert.Null(h.HpaAnnotations()?[Names.OriginalMinReplicasAnnotation]);

        h.Cluster.Server.Mutate("migrationpolicies", "web", p => p["spec"]!["dryRun"] = false);
        List<EngineCommand> applied = await h.TickUntilAsync(engine, _ => h.MinReplicas() >= 6, max: 40);

        // No pods run in this cluster, so each raise is at most maxSurge above the floor before it.
        var steps = applied.Where(c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "applied" })
            .Select(c => int.Parse(c.Detail.Split(' ', ':')[1], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(6, steps[^1]);
        Assert.All(steps.Zip(steps.Skip(1)), p => Assert.InRange(p.Second - p.First, 1, 2));
        Assert.InRange(steps[0], 1, 2);
        Assert.True(steps.Count >= 3); // 6 is reached in steps, not at once
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
        KubernetesEngine engine = await h.EngineAsync(policies: true, leadership: new SwitchableLeadership("replica-b") { Leading = false });

        await h.TickAsync(engine, ticks: 2);

        Assert.Equal("web", engine.Settings[0].Policy);
        Assert.Null(h.Cluster.Server.Get("migrationpolicies", "web")!["status"]);
        Assert.DoesNotContain(h.Cluster.Server.Writes, w => w.Contains("migrationpolicies", StringComparison.Ordinal));
    }

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
}
