using Foresight.Cli.Controller;
using Foresight.Core;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// A Kubernetes app's optional <c>image</c>: what a Deployment the controller creates at a site that has none runs
/// (moving the app to a new site). Strictly validated, since a bad reference only shows up as ImagePullBackOff later.
/// </summary>
public sealed class KubernetesAppImageTests
{
    private const string Head = "kubernetes:\n  namespace: f\n  prometheus: http://127.0.0.1:9090\n  apps:\n    - name: shop\n      sites: [a, b]\n      query: q\n";

    [Theory]
    [InlineData("registry.example/shop:2.1")]
    [InlineData("shop")]
    [InlineData("localhost:5000/team/shop-api_v2:1.0.0-rc.1")]
    [InlineData("ghcr.io/acme/shop@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void An_apps_image_is_read(string image)
    {
        ControllerConfig config = ControllerConfigLoader.Load(Head + $"      image: {image}\n", "ctl.yaml");

        Assert.Equal(image, config.Kubernetes!.Apps[0].Image);
    }

    [Fact]
    public void Without_an_image_the_app_has_none()
    {
        Assert.Null(ControllerConfigLoader.Load(Head, "ctl.yaml").Kubernetes!.Apps[0].Image);
    }

    [Theory]
    [InlineData("Registry.example/Shop:2.1")]
    [InlineData("\"shop:\"")]
    [InlineData("\"shop 2\"")]
    [InlineData("shop@sha256:abc")]
    [InlineData("\"\"")]
    public void A_bad_image_names_the_file_line_and_field(string image)
    {
        var e = Assert.Throws<InvalidInputException>(() => ControllerConfigLoader.Load(Head + $"      image: {image}\n", "ctl.yaml"));

        Assert.Equal("ctl.yaml", e.File);
        Assert.Equal("kubernetes.apps[0].image", e.Field);
        Assert.Equal(8, e.Line);
        Assert.Contains("image reference", e.Message, StringComparison.Ordinal);
    }
}
