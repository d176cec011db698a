using System.Text.Json;

namespace Foresight.Cli.Tests;

/// <summary><c>simulate --sweep</c>: the latency/cost trade-off curves.</summary>
public sealed class SweepCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void A_target_utilization_sweep_runs_every_policy_at_every_value_and_costs_fall_as_it_rises()
    {
        string json = _workspace.Path("sweep.json");
        string html = _workspace.Path("sweep.html");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "hpa,predictive", "--quiet",
            "--sweep", "target-utilization=0.5,0.9", "--json", json, "--report", html);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] runs = doc.RootElement.GetProperty("policies").EnumerateArray().ToArray();
        Assert.Equal(
            ["hpa@target-utilization=0.5", "hpa@target-utilization=0.9", "predictive@target-utilization=0.5", "predictive@target-utilization=0.9"],
            runs.Select(r => r.GetProperty("name").GetString()));
        foreach (JsonElement r in runs)
        {
            JsonElement at = r.GetProperty("sweep");
            Assert.Equal("target-utilization", at.GetProperty("parameter").GetString());
            Assert.StartsWith(at.GetProperty("policy").GetString()!, r.GetProperty("name").GetString(), StringComparison.Ordinal);
        }

        // Hotter targets hold fewer instances.
        Assert.True(runs[0].GetProperty("instanceSeconds").GetDouble() > runs[1].GetProperty("instanceSeconds").GetDouble());
        Assert.True(runs[2].GetProperty("instanceSeconds").GetDouble() > runs[3].GetProperty("instanceSeconds").GetDouble());
        Assert.Contains("plot-pareto-slo", File.ReadAllText(html), StringComparison.Ordinal);
    }

    [Fact]
    public void A_threshold_sweep_varies_only_the_predictive_policies()
    {
        string json = _workspace.Path("sweep.json");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "hpa,predictive", "--quiet",
            "--sweep", "planning-quantile=0.5,0.9", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] runs = doc.RootElement.GetProperty("policies").EnumerateArray().ToArray();
        Assert.Equal(["hpa", "predictive@planning-quantile=0.5", "predictive@planning-quantile=0.9"], runs.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(JsonValueKind.Null, runs[0].GetProperty("sweep").ValueKind);
    }

    [Fact]
    public void A_dearer_miss_buys_more_instances_through_the_newsvendor_quantile()
    {
        string json = _workspace.Path("miss.json");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "predictive", "--quiet",
            "--sweep", "miss-cost=0.00001,10", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] runs = doc.RootElement.GetProperty("policies").EnumerateArray().ToArray();
        Assert.Equal(["predictive@miss-cost=0.00001", "predictive@miss-cost=10"], runs.Select(r => r.GetProperty("name").GetString()));
        Assert.True(
            runs[1].GetProperty("instanceSeconds").GetDouble() > runs[0].GetProperty("instanceSeconds").GetDouble(),
            $"{runs[1].GetProperty("instanceSeconds")} vs {runs[0].GetProperty("instanceSeconds")}");
        double[] Quantiles(JsonElement run) => run.GetProperty("feedback").GetProperty("apps").EnumerateArray()
            .Select(a => a.GetProperty("planningQuantile").GetDouble()).ToArray();
        Assert.All(Quantiles(runs[0]), q => Assert.Equal(0.05, q)); // a nearly free miss: the lowest level the forecast has
        Assert.All(Quantiles(runs[1]), q => Assert.Equal(0.95, q));
    }

    [Fact]
    public void Equal_cost_runs_the_baselines_curves_and_reports_them_at_predictive_cost()
    {
        string json = _workspace.Path("equal.json");
        string html = _workspace.Path("equal.html");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "hpa,predictive", "--quiet",
            "--equal-cost", "--json", json, "--report", html);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] runs = doc.RootElement.GetProperty("policies").EnumerateArray().ToArray();
        string?[] names = runs.Select(r => r.GetProperty("name").GetString()).ToArray();
        Assert.Equal(["hpa", "predictive"], names.Take(2));
        Assert.Contains("hpa@target-utilization=0.5", names);
        Assert.Contains("kpa@target-utilization=0.7", names); // kpa did not run at the scenario's target: its curve gets the point
        Assert.DoesNotContain("hpa@target-utilization=0.7", names);
        Assert.Equal(JsonValueKind.Null, runs[0].GetProperty("equalCost").ValueKind);

        JsonElement[] points = runs[1].GetProperty("equalCost").EnumerateArray().ToArray();
        Assert.Equal(["hpa", "kpa"], points.Select(p => p.GetProperty("baseline").GetString()));
        double cost = runs[1].GetProperty("instanceSeconds").GetDouble();
        foreach (JsonElement p in points)
        {
            Assert.Equal(6, p.GetProperty("runs").GetInt32()); // 0.5 to 1.0, the scenario's 0.7 among them
            bool inside = cost >= p.GetProperty("costMin").GetDouble() && cost <= p.GetProperty("costMax").GetDouble();
            Assert.Equal(inside, p.GetProperty("sloViolationRate").ValueKind == JsonValueKind.Number);
            Assert.Equal(inside, p.GetProperty("latencyP99Ms").ValueKind == JsonValueKind.Number);
            Assert.Equal(inside, p.GetProperty("note").ValueKind == JsonValueKind.Null);
        }

        Assert.Contains("plot-pareto-slo", File.ReadAllText(html), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_safety_net_exits_2_naming_the_option()
    {
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "predictive", "--quiet", "--reactive", "vpa");

        Assert.Equal(2, code);
        Assert.Contains("--reactive", error, StringComparison.Ordinal);
        Assert.Contains("hpa or kpa", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("utilization=0.5", "unknown parameter 'utilization'")]
    [InlineData("target-utilization", "expected PARAMETER=V1,V2")]
    [InlineData("target-utilization=0.5,abc", "'abc' is not a number")]
    [InlineData("target-utilization=1.5", "must be in (0, 1]")]
    [InlineData("planning-quantile=0.3", "must be in [0.5, 1)")]
    [InlineData("miss-cost=-0.01", "must be 0 or more")]
    [InlineData("planning-utilization=0", "must be in (0, 1]")]
    [InlineData("confidence=0.5,0.5", "given twice")]
    [InlineData("shift-threshold=", "at least one value")]
    public void A_bad_sweep_exits_2_naming_the_option(string sweep, string expected)
    {
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--sources", _workspace.Sources(), "--policies", "hpa", "--quiet", "--sweep", sweep);

        Assert.Equal(2, code);
        Assert.Contains("--sweep", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }
}
