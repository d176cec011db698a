using Foresight.Core;
using Foresight.Simulation.Faults;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Runner;

public sealed class FaultSettingsParseTests
{
    [Fact]
    public void Parses_every_key_in_any_order()
    {
        FaultSettings f = FaultSettings.Parse("seed=7, server=site-1/server-0@900, api=0.05,stall=0.1,spinup=0.02,server=site-0/server-0@300", TestClusters.Line(2));

        Assert.Equal(0.05, f.ApiErrorRate);
        Assert.Equal(0.02, f.SpinUpFailureRate);
        Assert.Equal(0.1, f.StallRate);
        Assert.Equal(7, f.Seed);
        Assert.Equal([new ServerFailure(300, "site-0/server-0"), new ServerFailure(900, "site-1/server-0")], f.ServerFailures);
        Assert.True(f.Any);
        Assert.False(FaultSettings.Parse("", TestClusters.Line(2)).Any);
    }

    [Theory]
    [InlineData("api=1", "[api]")]
    [InlineData("spinup=-0.1", "[spinup]")]
    [InlineData("stall=lots", "[stall]")]
    [InlineData("seed=1.5", "[seed]")]
    [InlineData("server=site-9/server-0@10", "unknown server 'site-9/server-0'")]
    [InlineData("server=site-0/server-0", "[server]")]
    [InlineData("chaos=1", "unknown key 'chaos'")]
    [InlineData("api", "not key=value")]
    public void Bad_specs_name_the_option_and_the_field(string spec, string expected)
    {
        var e = Assert.Throws<InvalidInputException>(() => FaultSettings.Parse(spec, TestClusters.Line(2)));

        Assert.StartsWith("--faults", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
