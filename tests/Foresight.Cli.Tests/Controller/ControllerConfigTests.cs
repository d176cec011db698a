using Foresight.Cli.Controller;
using Foresight.Core;

namespace Foresight.Cli.Tests.Controller;

public sealed class ControllerConfigTests
{
    [Fact]
    public void The_shipped_example_config_loads()
    {
        string path = Path.Combine(RepoRoot(), "examples", "controller.yaml");

        ControllerConfig config = ControllerConfigLoader.LoadFile(path);

        Assert.Equal("simulated", config.Orchestrator);
        Assert.NotNull(config.Kubernetes);
        Assert.NotEmpty(config.Kubernetes!.Apps);
    }

    [Fact]
    public void The_config_map_in_the_deploy_manifest_loads_as_a_kubernetes_config()
    {
        string manifest = File.ReadAllText(Path.Combine(RepoRoot(), "deploy", "controller.yaml"));
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(manifest));
        var configMap = (YamlDotNet.RepresentationModel.YamlMappingNode)stream.Documents[0].RootNode;
        var data = (YamlDotNet.RepresentationModel.YamlMappingNode)configMap["data"];
        string yaml = ((YamlDotNet.RepresentationModel.YamlScalarNode)data["config.yaml"]).Value!;

        ControllerConfig config = ControllerConfigLoader.Load(yaml, "deploy/controller.yaml#config.yaml");

        Assert.Equal("kubernetes", config.Orchestrator);
        Assert.Equal("foresight", config.Kubernetes!.Namespace);
        Assert.Equal(["edge-a", "edge-b", "edge-c"], config.Kubernetes.Apps[0].Sites);
    }

    [Fact]
    public void Calibration_is_on_unless_the_config_turns_it_off()
    {
        Assert.True(ControllerConfigLoader.Load("simulated:\n  scenario: milan\n", "ctl.yaml").Simulated.Calibration);
        Assert.False(ControllerConfigLoader.Load("simulated:\n  calibration: false\n", "ctl.yaml").Simulated.Calibration);
        const string kube = "kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  calibration: false\n  apps:\n    - name: shop\n      sites: [a]\n      query: q\n";
        Assert.False(ControllerConfigLoader.Load(kube, "ctl.yaml").Kubernetes!.Calibration);
        Assert.True(ControllerConfigLoader.Load(kube.Replace("  calibration: false\n", ""), "ctl.yaml").Kubernetes!.Calibration);
    }

    [Theory]
    [InlineData("tickMs: 0\n", "tickMs", 1)]
    [InlineData("tickMs: .nan\n", "tickMs", 1)]
    [InlineData("tickMS: 100\n", "tickMS", 1)]
    [InlineData("orchestrator: nomad\n", "orchestrator", 1)]
    [InlineData("thresholds:\n  confidence: 1.5\n", "thresholds.confidence", 2)]
    [InlineData("thresholds:\n  missCost: -0.1\n", "thresholds.missCost", 2)]
    [InlineData("simulated:\n  speedUp: -3\n", "simulated.speedUp", 2)]
    [InlineData("simulated:\n  calibration: maybe\n", "simulated.calibration", 2)]
    [InlineData("simulated:\n  scenario: atlantis\n", "simulated.scenario", 2)]
    [InlineData("orchestrator: kubernetes\n", "kubernetes", 1)]
    [InlineData("kubernetes:\n  namespace: f\n  prometheus: ftp://x\n  apps: []\n", "kubernetes.prometheus", 3)]
    [InlineData("kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  policyResyncSeconds: 0\n  apps:\n    - name: shop\n      sites: [a]\n      query: q\n", "kubernetes.policyResyncSeconds", 4)]
    [InlineData("kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  apps:\n    - name: shop\n      sites: [a]\n", "kubernetes.apps[0].query", 5)]
    [InlineData("kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  apps:\n    - name: shop\n      sites: [a]\n      query: q\n      coldStartSeconds: -1\n", "kubernetes.apps[0].coldStartSeconds", 8)]
    [InlineData("kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  apps:\n    - name: shop\n      sites: [a]\n      query: q\n      image: 'shop 2'\n", "kubernetes.apps[0].image", 8)]
    public void Bad_config_names_the_file_line_and_field(string yaml, string field, int line)
    {
        var e = Assert.Throws<InvalidInputException>(() => ControllerConfigLoader.Load(yaml, "ctl.yaml"));

        Assert.Equal("ctl.yaml", e.File);
        Assert.Equal(field, e.Field);
        Assert.Equal(line, e.Line);
    }

    [Fact]
    public void A_miss_cost_prices_the_controllers_apps_and_an_apps_own_wins()
    {
        const string yaml = "thresholds:\n  missCost: 0.02\nkubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  apps:\n"
            + "    - name: shop\n      sites: [a]\n      query: q\n      missCost: 0.5\n";

        ControllerConfig config = ControllerConfigLoader.Load(yaml, "ctl.yaml");

        Assert.Equal(0.02, config.Predictive.MissCost);
        Assert.Null(ControllerConfigLoader.Load("tickMs: 100\n", "ctl.yaml").Predictive.MissCost);
        Assert.Equal(0.5, config.Kubernetes!.Apps[0].Profile.MissCost);
    }

    internal static string RepoRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "Foresight.slnx")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("Foresight.slnx not found above the test output directory.");
    }
}
