using System.Diagnostics;
using System.Text.Json.Nodes;
using Foresight.Core.Apps;
using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// Every manifest in deploy/ and every full object the adapter sends (creates, applies, replaces) validates against the
/// Kubernetes OpenAPI schemas, through tools/manifest-validation (kubernetes-models and @kubernetes-models/gateway-api,
/// run by Node.js). Merge patches are partial by design and not manifests. The validator's packages come from
/// <c>npm ci</c> in ./test.sh; without them these tests fail, they do not skip.
/// </summary>
public sealed class ManifestValidationTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task Every_file_in_deploy_validates_including_the_CRD_and_a_policy_against_it()
    {
        (int code, string output) = await ValidateAsync(Path.Combine(RepoRoot, "deploy"));
        Assert.True(code == 0, output);
        Assert.Contains("0 invalid", output);
    }

    [Fact]
    public async Task Every_manifest_the_adapter_emits_validates()
    {
        string dir = Directory.CreateTempSubdirectory("foresight-emitted-").FullName;
        try
        {
            var emitted = new List<JsonObject>();
            foreach (bool gateway in new[] { true, false })
            {
                await using var f = new KubernetesFixture(gatewayApi: gateway);
                await RunMigrationAsync(f);
                var elector = new LeaseElector(f.Server.CreateClient(), KubernetesFixture.Namespace, "foresight-controller", "pod-a", f.Cluster.Clock);
                await elector.TryAcquireOrRenewAsync(s_none);
                f.Cluster.Clock.Advance(TimeSpan.FromSeconds(5));
                await elector.TryAcquireOrRenewAsync(s_none);
                emitted.AddRange(FullObjects(f.Server));
            }

            for (int i = 0; i < emitted.Count; i++)
            {
                string kind = emitted[i]["kind"]!.GetValue<string>();
                await File.WriteAllTextAsync(Path.Combine(dir, $"{i:D3}-{kind}.json"), emitted[i].ToJsonString());
            }

            Assert.Equal(["Deployment", "HTTPRoute", "Lease", "Service"], emitted.Select(o => o["kind"]!.GetValue<string>()).Distinct().Order());
            (int code, string output) = await ValidateAsync(dir);
            Assert.True(code == 0, output);
            Assert.Contains($"{emitted.Count} valid, 0 invalid", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task A_policy_with_the_status_the_controller_writes_validates_against_the_CRD()
    {
        await using var f = new KubernetesFixture();
        var example = (JsonObject)JsonNode.Parse(KubernetesJson.Serialize(KubernetesYaml.LoadAllFromString(
            File.ReadAllText(Path.Combine(RepoRoot, "deploy", "example-migrationpolicy.yaml")),
            new Dictionary<string, Type> { [$"{MigrationPolicy.Group}/{MigrationPolicy.Version}/{MigrationPolicy.KindName}"] = typeof(MigrationPolicy) }).Single()))!;
        example["metadata"]!["namespace"] = KubernetesFixture.Namespace;
        f.Server.Create("migrationpolicies", example);
        var client = new MigrationPolicyClient(f.Server.CreateClient(), KubernetesFixture.Namespace);
        DateTime now = f.Cluster.Clock.GetUtcNow().UtcDateTime;

        Assert.True(await client.WriteStatusAsync("shop", new MigrationPolicyStatus
        {
            ObservedGeneration = 1,
            ActiveMigrations = 2,
            LastMigrationTime = now,
            Conditions =
            [
                new V1Condition { Type = "Ready", Status = "True", Reason = "Applied", Message = "applied to shop", LastTransitionTime = now, ObservedGeneration = 1 },
                new V1Condition { Type = "Invalid", Status = "False", Reason = "Valid", Message = "the spec is valid", LastTransitionTime = now, ObservedGeneration = 1 },
            ],
        }, s_none));
        Assert.False(await client.WriteStatusAsync("gone", new MigrationPolicyStatus(), s_none));
        PolicyListing listing = await client.ListAsync(s_none);

        Assert.Equal(2, Assert.Single(listing.Policies).Status!.ActiveMigrations);
        Assert.Contains("merge migrationpolicies/shop/status", f.Server.Writes);
        string dir = Directory.CreateTempSubdirectory("foresight-policy-").FullName;
        try
        {
            File.Copy(Path.Combine(RepoRoot, "deploy", "crd-migrationpolicy.yaml"), Path.Combine(dir, "crd.yaml"));
            await File.WriteAllTextAsync(Path.Combine(dir, "policy.json"), f.Server.Get("migrationpolicies", "shop")!.ToJsonString());
            (int code, string output) = await ValidateAsync(dir);
            Assert.True(code == 0, output);
            Assert.Contains("0 invalid", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public async Task The_validator_rejects_a_broken_manifest_with_the_reason()
    {
        await using var f = new KubernetesFixture();
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 1)]), s_none);
        JsonObject route = FullObjects(f.Server).Single(o => o["kind"]!.GetValue<string>() == "HTTPRoute");
        route["spec"]!["rules"]![0]!["backendRefs"]![0]!["weight"] = -1;
        string file = Path.Combine(Path.GetTempPath(), $"foresight-broken-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(file, route.ToJsonString());
        try
        {
            (int code, string output) = await ValidateAsync(file);
            Assert.Equal(1, code);
            Assert.Contains("weight must be >= 0", output);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task The_validator_skips_the_kustomization_by_kind_and_the_grafana_folder_but_nothing_else_without_a_kind()
    {
        string dir = Directory.CreateTempSubdirectory("foresight-skips-").FullName;
        try
        {
            File.Copy(Path.Combine(RepoRoot, "deploy", "namespace.yaml"), Path.Combine(dir, "namespace.yaml"));
            File.Copy(Path.Combine(RepoRoot, "deploy", "kustomization.yaml"), Path.Combine(dir, "kustomization.yaml"));
            // A Grafana dashboard has no apiVersion or kind: only its folder makes it exempt.
            const string Dashboard = """{"title": "Foresight", "panels": [], "schemaVersion": 39}""";
            Directory.CreateDirectory(Path.Combine(dir, "grafana"));
            await File.WriteAllTextAsync(Path.Combine(dir, "grafana", "foresight.json"), Dashboard);

            (int code, string output) = await ValidateAsync(dir);
            Assert.True(code == 0, output);
            Assert.Contains("1 valid, 0 invalid manifest(s) in 2 file(s); 1 skipped", output);
            Assert.Contains($"folder {Path.Combine(dir, "grafana")} skipped", output);

            await File.WriteAllTextAsync(Path.Combine(dir, "dashboard.json"), Dashboard);
            (code, output) = await ValidateAsync(dir);
            Assert.Equal(1, code);
            Assert.Contains("dashboard.json#0 ?/<unnamed>: apiVersion and kind are required", output);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Deploy_YAML_loads_strictly_into_the_typed_models_so_no_field_is_misspelt()
    {
        var types = new Dictionary<string, Type> { [$"{MigrationPolicy.Group}/{MigrationPolicy.Version}/{MigrationPolicy.KindName}"] = typeof(MigrationPolicy) };
        var kinds = new List<string>();
        // kustomization.yaml is kubectl's list of these files, not a cluster object (the validator skips it by its kind).
        foreach (string file in Directory.GetFiles(Path.Combine(RepoRoot, "deploy"), "*.yaml").Where(f => Path.GetFileName(f) != "kustomization.yaml").Order())
        {
            foreach (object o in KubernetesYaml.LoadAllFromString(File.ReadAllText(file), types, strict: true))
            {
                kinds.Add(((IKubernetesObject)o).Kind);
            }
        }

        Assert.Equal(["ConfigMap", "CustomResourceDefinition", "Deployment", "MigrationPolicy", "Namespace", "Role", "RoleBinding", "ServiceAccount"], kinds.Order());
    }

    [Fact]
    public void The_example_policy_selects_its_app_and_yields_its_profile()
    {
        var types = new Dictionary<string, Type> { [$"{MigrationPolicy.Group}/{MigrationPolicy.Version}/{MigrationPolicy.KindName}"] = typeof(MigrationPolicy) };
        var policy = (MigrationPolicy)KubernetesYaml.LoadAllFromString(
            File.ReadAllText(Path.Combine(RepoRoot, "deploy", "example-migrationpolicy.yaml")), types, strict: true).Single();

        Assert.True(policy.Selects(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shop", ["tier"] = "web" }));
        Assert.False(policy.Selects(new Dictionary<string, string> { ["app.kubernetes.io/name"] = "cart" }));
        AppProfile profile = policy.ToAppProfile("shop");
        Assert.Null(profile.Validate());
        Assert.Equal((80.0, 12.0, 20.0, 20), (profile.LatencySloMs, profile.ColdStartSeconds, profile.WarmupSeconds, profile.MaxInstances));
        Assert.Equal(("pre-emptive", 0.25, 0.8, 2), (policy.Spec.Strategy, policy.Spec.Thresholds.TrafficShift, policy.Spec.Thresholds.Confidence,
            policy.Spec.Safety.MaxConcurrentMigrations));
    }

    [Fact]
    public void CRD_and_CSharp_types_agree_on_every_spec_field()
    {
        var crd = (V1CustomResourceDefinition)KubernetesYaml.LoadAllFromString(
            File.ReadAllText(Path.Combine(RepoRoot, "deploy", "crd-migrationpolicy.yaml"))).Single();
        IDictionary<string, V1JSONSchemaProps> spec = crd.Spec.Versions.Single().Schema.OpenAPIV3Schema.Properties["spec"].Properties;

        static IEnumerable<string> JsonNames(Type t) => t.GetProperties()
            .Select(p => p.GetCustomAttributes(typeof(System.Text.Json.Serialization.JsonPropertyNameAttribute), false)
                .Cast<System.Text.Json.Serialization.JsonPropertyNameAttribute>().Single().Name);

        Assert.Equal(JsonNames(typeof(MigrationPolicySpec)).Order(), spec.Keys.Order());
        Assert.Equal(JsonNames(typeof(MigrationProfile)).Order(), spec["profile"].Properties.Keys.Order());
        Assert.Equal(JsonNames(typeof(MigrationThresholds)).Order(), spec["thresholds"].Properties.Keys.Order());
        Assert.Equal(JsonNames(typeof(ForecastHorizon)).Order(), spec["horizon"].Properties.Keys.Order());
        Assert.Equal(JsonNames(typeof(HotSwapSettings)).Order(), spec["hotSwap"].Properties.Keys.Order());
        Assert.Equal(JsonNames(typeof(SafetyLimits)).Order(), spec["safety"].Properties.Keys.Order());
    }

    /// <summary>Spin up at A, migrate to B pre-emptively, then a hot-swap step back: every kind of write the adapter makes.</summary>
    private static async Task RunMigrationAsync(KubernetesFixture f)
    {
        (InstanceInfo a, _) = await MigrationTests.ServingAtAAsync(f);
        InstanceInfo b = await f.Kube.SpinUpAsync(new SpinUpRequest("emit-b", "shop", "edge-b"), s_none);
        await f.AdvanceAsync(f.ReadyWithin);
        await f.Kube.WaitUntilReadyAsync(b.Id, TimeSpan.FromSeconds(1), s_none);
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-a", 0.5), new SiteWeight("edge-b", 0.5)]), s_none);
        await f.Kube.SetRouteAsync(new Route("shop", "edge-a", [new SiteWeight("edge-b", 100)]), s_none);
        await f.Kube.DrainAsync(a.Id, s_none);
        await f.Kube.StopAsync(a.Id, s_none);
    }

    private static IEnumerable<JsonObject> FullObjects(FakeApiServer server) =>
        server.Requests
            .Where(r => r.Status is >= 200 and < 300 && r.Summary.Split(' ')[0] is "create" or "apply" or "replace")
            .Select(r => JsonNode.Parse(r.Body)!.AsObject());

    /// <summary>The clone: above the test binaries, or (with --artifacts-path elsewhere) above this source file or the working directory.</summary>
    internal static string RepoRoot
    {
        get
        {
            foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(SourceFile()) ?? "", Environment.CurrentDirectory })
            {
                for (DirectoryInfo? d = start.Length > 0 ? new(start) : null; d is not null; d = d.Parent)
                {
                    if (File.Exists(Path.Combine(d.FullName, "Foresight.slnx")))
                    {
                        return d.FullName;
                    }
                }
            }

            throw new InvalidOperationException("Foresight.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    private static async Task<(int Code, string Output)> ValidateAsync(string path)
    {
        string tool = Path.Combine(RepoRoot, "tools", "manifest-validation");
        Assert.True(Directory.Exists(Path.Combine(tool, "node_modules", "kubernetes-models")),
            $"The manifest validator's packages are missing: run `npm ci --prefix {tool}` (./test.sh does this).");
        var start = new ProcessStartInfo("node", ["validate.mjs", path])
        {
            WorkingDirectory = tool,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using Process process = Process.Start(start) ?? throw new InvalidOperationException("could not start node");
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
