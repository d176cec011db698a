using System.Xml.Linq;
using YamlDotNet.RepresentationModel;

namespace Foresight.Shipping.Tests;

/// <summary>The Dockerfile, deploy/controller.yaml and deploy/kustomization.yaml agree with each other and with the build.</summary>
public sealed class DeployTests
{
    private static string Deploy => Path.Combine(Repo.Root, "deploy");

    [Fact]
    public void The_image_runs_as_a_non_root_user_from_a_small_base()
    {
        Dockerfile file = Dockerfile.Load();

        string from = file.FinalStage.First().Arguments;
        Assert.StartsWith("mcr.microsoft.com/dotnet/runtime-deps:", from);
        Assert.True(ImageUser(file) > 0, "the image's USER must be a non-root numeric id (runAsNonRoot checks ids)");
    }

    [Fact]
    public void The_image_is_versioned_like_the_binary()
    {
        string version = XDocument.Load(Path.Combine(Repo.CliProject, "Foresight.Cli.csproj")).Descendants("Version").Single().Value;
        Dockerfile file = Dockerfile.Load();

        Assert.EndsWith(":" + version, file.ImageName);
        Assert.Contains(file.FinalStage, i => i.Keyword == "LABEL" && i.Arguments.Contains($"org.opencontainers.image.version=\"{version}\""));
    }

    [Fact]
    public void The_controller_runs_the_image_non_root_with_a_read_only_root_and_writes_only_to_its_volumes()
    {
        Dockerfile file = Dockerfile.Load();
        YamlMappingNode deployment = Documents(Path.Combine(Deploy, "controller.yaml")).Single(d => Text(d, "kind") == "Deployment");
        var pod = (YamlMappingNode)At(deployment, "spec", "template", "spec");
        var container = (YamlMappingNode)((YamlSequenceNode)pod["containers"]).Single();

        Assert.Equal(file.ImageName, Text(container, "image"));
        Assert.Equal("true", Text(At(pod, "securityContext"), "runAsNonRoot"));
        Assert.Equal(ImageUser(file).ToString(), Text(At(pod, "securityContext"), "runAsUser"));
        Assert.Equal("true", Text(At(container, "securityContext"), "readOnlyRootFilesystem"));
        Assert.Equal("true", Text(At(container, "securityContext"), "runAsNonRoot"));

        // Every place the process writes is a mounted emptyDir: the single file's extraction folder (from the image's
        // ENV) and the journal's folder (from the ConfigMap's config.yaml).
        var emptyDirs = ((YamlSequenceNode)pod["volumes"]).Cast<YamlMappingNode>()
            .Where(v => v.Children.ContainsKey("emptyDir")).Select(v => Text(v, "name")).ToHashSet();
        var writable = ((YamlSequenceNode)container["volumeMounts"]).Cast<YamlMappingNode>()
            .Where(m => emptyDirs.Contains(Text(m, "name"))).Select(m => Text(m, "mountPath")).ToList();
        string extractTo = file.FinalStage.Where(i => i.Keyword == "ENV").Select(i => System.Text.RegularExpressions.Regex.Match(i.Arguments, @"DOTNET_BUNDLE_EXTRACT_BASE_DIR=(\S+)"))
            .Single(m => m.Success).Groups[1].Value;
        Assert.Contains(extractTo, writable);

        YamlMappingNode configMap = Documents(Path.Combine(Deploy, "controller.yaml")).Single(d => Text(d, "kind") == "ConfigMap");
        var config = new YamlStream();
        config.Load(new StringReader(Text(At(configMap, "data"), "config.yaml")));
        string journal = Text((YamlMappingNode)config.Documents[0].RootNode, "journal");
        Assert.Contains(Path.GetDirectoryName(journal), writable);
    }

    [Fact]
    public void The_kustomization_lists_every_manifest_in_deploy_and_only_files_that_exist()
    {
        YamlMappingNode kustomization = Documents(Path.Combine(Deploy, "kustomization.yaml")).Single();
        var listed = ((YamlSequenceNode)kustomization["resources"]).Select(n => ((YamlScalarNode)n).Value!).ToList();

        // Grafana dashboards are not Kubernetes objects; the example policy is applied once its CRD is established.
        string[] manifests = [.. Directory.EnumerateFiles(Deploy, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(Deploy, f).Replace('\\', '/'))
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal))
            .Where(f => f != "kustomization.yaml" && !f.StartsWith("grafana/", StringComparison.Ordinal) && !f.StartsWith("example-", StringComparison.Ordinal))];
        Assert.Equal(manifests.Order(), listed.Order());
        Assert.All(listed, f => Assert.True(File.Exists(Path.Combine(Deploy, f)), $"kustomization.yaml lists {f}, which does not exist"));
        Assert.Equal(listed.Count, listed.Distinct().Count());

        // Namespaces come first in the file, as a reader expects; kubectl orders by kind anyway.
        Assert.Equal("namespace.yaml", listed[0]);
        var image = (YamlMappingNode)((YamlSequenceNode)kustomization["images"]).Single();
        Assert.Equal(Dockerfile.Load().ImageName, $"{Text(image, "name")}:{Text(image, "newTag")}");
    }

    private static int ImageUser(Dockerfile file)
    {
        string user = file.FinalStage.Last(i => i.Keyword == "USER").Arguments.Split(':')[0];
        return int.TryParse(user, out int id) ? id : -1;
    }

    private static List<YamlMappingNode> Documents(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(file)));
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlNode At(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (n, k) => ((YamlMappingNode)n)[k]);

    private static string Text(YamlNode node, string key) => ((YamlScalarNode)((YamlMappingNode)node)[key]).Value!;
}
