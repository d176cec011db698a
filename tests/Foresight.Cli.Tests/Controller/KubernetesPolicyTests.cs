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
    public async Task Safety_limits_defer_a_second_concurrent_floor_and_a_new_one_within_the_cooldown()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var cluster = new MemoryCluster(time);
        var policy = new MigrationPolicy
        {
            Metadata = new k8s.Models.V1ObjectMeta { Name = "web", Generation = 1 },
            Spec = new MigrationPolicySpec
            {
                AppSelector = new k8s.Models.V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shop" } },
                Thresholds = new MigrationThresholds { TrafficShift = 0.1, Confidence = 0.6 }, // the config file's defaults
                Safety = new SafetyLimits { MaxConcurrentMigrations = 1, CooldownSeconds = 300, MaxSurge = 10 },
            },
        };
        var engine = new KubernetesEngine(Config, new Foresight.Control.Decision.PredictiveOptions(), cluster, cluster, new StaggeredBursts(time, time.GetUtcNow()), time)
        {
            Policies = new MemoryPolicies(policy),
        };

        // Ten minutes: bursts at site a (seconds 120-135 of every three minutes) and at b (130-145).
        var decisions = new List<Decision>();
        var raisedTogether = new List<int>();
        for (int i = 0; i < 120; i++)
        {
            time.Advance(TimeSpan.FromSeconds(5));
            EngineTick tick = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);
            decisions.AddRange(tick.Apps[0].Decisions.Where(d => !decisions.Contains(d)));
            raisedTogether.Add(tick.Apps[0].Placements.Count(p => p.Floor > 0));
        }

        Assert.Contains(cluster.Calls, c => c.StartsWith("set shop@a", StringComparison.Ordinal));
        Assert.Contains("restore shop@a", cluster.Calls);
        Assert.All(raisedTogether, n => Assert.True(n <= 1, "two sites had a raised floor at once"));
        Assert.Contains(decisions, d => d is { Kind: "defer-floor", Site: "b" } && d.Reason.Contains("maxConcurrentMigrations 1", StringComparison.Ordinal));
        Assert.Contains(decisions, d => d is { Kind: "defer-floor", Site: "a" } && d.Reason.StartsWith("cooldown:", StringComparison.Ordinal));
        foreach ((DateTimeOffset restoredAt, _) in cluster.Timed.Where(c => c.Call == "restore shop@a"))
        {
            Assert.DoesNotContain(cluster.Timed, c => c.Call.StartsWith("set shop@a", StringComparison.Ordinal) && c.At > restoredAt && c.At < restoredAt.AddSeconds(300));
        }
    }

    /// <summary>One Ready pod per site; records the floor calls.</summary>
    private sealed class MemoryCluster(TimeProvider time) : Foresight.Orchestration.IOrchestrator, IPredictiveFloors
    {
        public List<(DateTimeOffset At, string Call)> Timed { get; } = [];

        public List<string> Calls => Timed.Select(c => c.Call).ToList();

        public ValueTask<Foresight.Orchestration.ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken)
        {
            Foresight.Orchestration.InstanceInfo Pod(string id, string site) => new(new Foresight.Orchestration.InstanceId(id), "shop", site, "node",
                Foresight.Orchestration.InstanceState.Ready, 1, time.GetUtcNow(), time.GetUtcNow(), time.GetUtcNow(), 0);
            return ValueTask.FromResult(new Foresight.Orchestration.ClusterSnapshot(time.GetUtcNow(), [Pod("shop-a-1", "a"), Pod("shop-b-1", "b")], [], []));
        }

        public ValueTask<int?> SetPredictiveFloorAsync(string app, string site, int minReplicas, DateTimeOffset holdUntil, CancellationToken cancellationToken)
        {
            Timed.Add((time.GetUtcNow(), $"set {app}@{site} {minReplicas}"));
            return ValueTask.FromResult<int?>(minReplicas);
        }

        public ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken)
        {
            Timed.Add((time.GetUtcNow(), $"restore {app}@{site}"));
            return ValueTask.FromResult(true);
        }

        public ValueTask<PredictiveFloorState?> ReadPredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
            ValueTask.FromResult<PredictiveFloorState?>(new PredictiveFloorState(1, null, null, null));

        public ValueTask<Foresight.Orchestration.InstanceInfo> SpinUpAsync(Foresight.Orchestration.SpinUpRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<Foresight.Orchestration.InstanceInfo> WaitUntilReadyAsync(Foresight.Orchestration.InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask SetRouteAsync(Foresight.Orchestration.Route route, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask DrainAsync(Foresight.Orchestration.InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask StopAsync(Foresight.Orchestration.InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class MemoryPolicies(params MigrationPolicy[] policies) : IPolicySource
    {
        public Task<PolicyListing> ListAsync(CancellationToken cancellationToken) =>
            Task.FromResult(new PolicyListing(policies, new Dictionary<string, IReadOnlyDictionary<string, string>>(), Installed: true));

        public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) => Task.FromResult(true);
    }

    /// <summary>400 req/s at a in seconds 120-135 of every three minutes and at b in 130-145; 10 req/s otherwise.</summary>
    private sealed class StaggeredBursts(TimeProvider time, DateTimeOffset start) : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
        {
            double t = (time.GetUtcNow() - start).TotalSeconds % Period;
            return ValueTask.FromResult(new[] { t is >= 120 and < 135 ? 400.0 : 10.0, t is >= 130 and < 145 ? 400.0 : 10.0 });
        }
    }

    [Fact]
    public async Task A_failing_policy_list_keeps_the_last_policies_and_a_missing_CRD_means_the_config_file()
    {
        await using var h = new KubernetesClusterHarness();
        AddShopDeployments(h);
        h.AddPolicy("web", Spec("tier", "web", profile: new JsonObject { ["coldStartSeconds"] = 40 }));
        KubernetesEngine engine = await h.EngineAsync(policies: true, policyResyncSeconds: 5);
        await h.TickAsync(engine);
        Assert.Equal("web", engine.Settings[0].Policy);

        h.Cluster.Server.FailNext(r => r.Summary == "list migrationpolicies", 500, times: 10);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        EngineTick failing = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);

        Assert.Equal("web", engine.Settings[0].Policy);
        Assert.Contains("reading MigrationPolicies failed, keeping the last ones", failing.Message, StringComparison.Ordinal);

        h.Cluster.Server.ClearFaults();
        h.Cluster.Server.FailNext(r => r.Summary == "list migrationpolicies", 404, times: 10);
        h.Clock.Advance(TimeSpan.FromSeconds(5));
        EngineTick missing = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);

        Assert.Null(engine.Settings[0].Policy);
        Assert.Equal(10, engine.Settings[0].Profile.ColdStartSeconds);
        Assert.Contains("the MigrationPolicy CRD is not installed", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_engine_factory_reads_policies_through_the_configured_cluster()
    {
        string dir = Directory.CreateTempSubdirectory("foresight-kubeconfig-").FullName;
        try
        {
            string kubeconfig = Path.Combine(dir, "config");
            await File.WriteAllTextAsync(kubeconfig, """
                apiVersion: v1
                kind: Config
                clusters: [{name: c, cluster: {server: "http://127.0.0.1:1"}}]
                users: [{name: u, user: {token: t}}]
                contexts: [{name: x, context: {cluster: c, user: u}}]
                current-context: x
                """);
            var config = new ControllerConfig
            {
                Orchestrator = "kubernetes",
                Kubernetes = Config with { Kubeconfig = kubeconfig, PolicyResyncSeconds = 12 },
            };

            await using IControllerEngine engine = await EngineFactory.CreateAsync(config, TimeProvider.System, CancellationToken.None);

            var kube = Assert.IsType<ControllerEngine>(engine);
            Assert.Equal("kubernetes", kube.Mode);
            Assert.NotNull(kube.Extension);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
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
