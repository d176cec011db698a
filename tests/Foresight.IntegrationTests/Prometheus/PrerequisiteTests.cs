namespace Foresight.IntegrationTests.Prometheus;

public sealed class PrerequisiteTests
{
    [Fact]
    public void A_missing_binary_fails_with_the_package_to_install()
    {
        var e = Assert.Throws<InvalidOperationException>(() => PrometheusFixture.FindTool("promtool-that-does-not-exist"));
        Assert.Contains("apt-get install -y prometheus", e.Message);
        Assert.Contains("never skipped", e.Message);
    }
}
