using System.Text.Json;
using Foresight.Cli;

namespace Foresight.Cli.Tests;

/// <summary>End-to-end checks of <c>foresight simulate</c>: the exit-code contract, the stable JSON and determinism.</summary>
public sealed class SimulateCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private string Write(string name, string text) => _workspace.Write(name, text);

    private string SmallTrace() => _workspace.SmallTrace();

    private string Sources() => _workspace.Sources();

    private static (int Code, string Error) Run(params string[] args) => CliWorkspace.Run(args);

    [Fact]
    public void Simulate_writes_the_stable_json_fields_for_every_policy()
    {
        string json = Path.Combine(_workspace.Directory, "out.json");
        (int code, string error) = Run("simulate", "--trace", SmallTrace(), "--sources", Sources(), "--quiet", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement root = doc.RootElement;
        foreach (string field in new[] { "scenario", "timeScale", "seed", "policies" })
        {
            Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
        }

        JsonElement[] policies = root.GetProperty("policies").EnumerateArray().ToArray();
        Assert.Equal(new[] { "static", "hpa", "kpa", "predictive", "oracle" }, policies.Select(p => p.GetProperty("name").GetString()));
        foreach (JsonElement p in policies)
        {
            foreach (string field in new[] { "latencyP50Ms", "latencyP95Ms", "latencyP99Ms", "sloViolationRate", "droppedRequests", "requests", "instanceSeconds", "migrations", "scaleEvents" })
            {
                Assert.True(p.TryGetProperty(field, out JsonElement v) && v.ValueKind == JsonValueKind.Number, $"{field} missing or not a number");
            }

            Assert.True(p.GetProperty("requests").GetDouble() > 0);
            Assert.True(p.GetProperty("latencyP99Ms").GetDouble() >= p.GetProperty("latencyP50Ms").GetDouble());

            // The forecast's migrations are reported for the policies that forecast, and only for them.
            bool forecasts = p.GetProperty("name").GetString() is "predictive" or "oracle";
            Assert.Equal(forecasts ? JsonValueKind.Object : JsonValueKind.Null, p.GetProperty("predictiveMigrations").ValueKind);
        }
    }

    [Fact]
    public void Faults_are_injected_and_counted_in_the_json()
    {
        string json = Path.Combine(_workspace.Directory, "faults.json");
        (int code, string error) = Run(
            "simulate", "--trace", SmallTrace(), "--sources", Sources(), "--policies", "hpa", "--quiet", "--json", json,
            "--faults", "api=0.3,spinup=0.2,stall=0.2,seed=4");

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement hpa = doc.RootElement.GetProperty("policies")[0];
        Assert.True(hpa.GetProperty("faults").GetInt32() > 0);
        Assert.True(hpa.GetProperty("retries").GetInt64() > 0);
        foreach (string field in new[] { "spinUpFailures", "startupTimeouts", "failedCommands" })
        {
            Assert.Equal(JsonValueKind.Number, hpa.GetProperty(field).ValueKind);
        }
    }

    [Fact]
    public void A_bad_faults_spec_is_bad_input()
    {
        (int code, string error) = Run("simulate", "--trace", SmallTrace(), "--sources", Sources(), "--quiet", "--faults", "api=2");

        Assert.Equal(2, code);
        Assert.Contains("--faults", error, StringComparison.Ordinal);
        Assert.Contains("api", error, StringComparison.Ordinal);
    }

    [Fact]
    public void The_same_seed_gives_identical_results_and_another_seed_does_not()
    {
        string trace = SmallTrace();
        string sources = Sources();
        string Results(string seed, string file)
        {
            string path = Path.Combine(_workspace.Directory, file);
            (int code, string error) = Run("simulate", "--trace", trace, "--sources", sources, "--seed", seed, "--quiet", "--json", path);
            Assert.True(code == 0, error);
            var node = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(path))!;
            node.AsObject().Remove("wallSeconds");
            foreach (var p in node["policies"]!.AsArray())
            {
                p!.AsObject().Remove("wallSeconds");
            }

            // Retrain durations are wall-clock measurements too; everything simulated must match exactly.
            return System.Text.RegularExpressions.Regex.Replace(node.ToJsonString(), "\"trainWallSeconds\":[^,}]+", "");
        }

        string first = Results("5", "a.json");
        string again = Results("5", "b.json");
        string other = Results("6", "c.json");

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void Feedback_status_and_the_regime_split_appear_in_the_json()
    {
        SmallTrace();
        Sources();
        string scenario = Write(
            "regime.yaml",
            "name: regime\ntrace: trace.csv\nsources: areas.csv\ntimeScale: 60\nregimeChangeAt: 21600\nregimeChangeRemap: rotate\n"
            + "sites: { method: kmeans, k: 2 }\napps:\n  - { name: api, peakRps: 400 }\n");
        string json = Path.Combine(_workspace.Directory, "regime.json");
        (int code, string error) = Run("simulate", "--scenario", scenario, "--policies", "hpa,predictive,predictive-nofeedback", "--quiet", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement[] policies = doc.RootElement.GetProperty("policies").EnumerateArray().ToArray();
        foreach (JsonElement p in policies)
        {
            JsonElement regime = p.GetProperty("regime");
            Assert.Equal(360, regime.GetProperty("changeAtSeconds").GetDouble());
            Assert.InRange(regime.GetProperty("sloViolationRateBefore").GetDouble(), 0, 1);
            Assert.InRange(regime.GetProperty("sloViolationRateAfter").GetDouble(), 0, 1);
        }

        Assert.Equal(JsonValueKind.Null, policies[0].GetProperty("feedback").ValueKind);
        foreach ((JsonElement p, bool enabled) in new[] { (policies[1], true), (policies[2], false) })
        {
            JsonElement feedback = p.GetProperty("feedback");
            Assert.Equal(enabled, feedback.GetProperty("enabled").GetBoolean());
            JsonElement app = Assert.Single(feedback.GetProperty("apps").EnumerateArray());
            Assert.Equal("api", app.GetProperty("app").GetString());
            foreach (string field in new[] { "mase", "coverage90", "meanPinball", "confidenceThreshold", "shiftThreshold", "reactiveOnly", "fallbackReason", "recentThresholdChanges", "decisions", "driftAlarms", "recentRetrains" })
            {
                Assert.True(app.TryGetProperty(field, out _), $"missing {field}");
            }

            Assert.False(string.IsNullOrEmpty(app.GetProperty("fallbackReason").GetString()));
            JsonElement first = app.GetProperty("recentRetrains").EnumerateArray().First();
            Assert.Equal("warm-up", first.GetProperty("trigger").GetString());
        }
    }

    [Fact]
    public void A_ragged_trace_row_exits_2_naming_file_and_line()
    {
        string trace = Write("ragged.csv", "timestamp,area_1,area_2\n2024-01-01T00:00:00Z,1,2\n2024-01-01T01:00:00Z,3\n");
        (int code, string error) = Run("simulate", "--trace", trace, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains("ragged.csv", error);
        Assert.Contains(":3", error);
    }

    [Theory]
    [InlineData("--policies", "hpa,warp-drive", "unknown policy 'warp-drive'")]
    [InlineData("--scenario", "no-such-scenario", "--scenario")]
    [InlineData("--duration", "-3h", "--duration")]
    [InlineData("--time-scale", "0", "--time-scale")]
    [InlineData("--forecaster", "crystal-ball", "--forecaster")]
    [InlineData("--calibration", "maybe", "--calibration")]
    public void Bad_options_exit_2_with_a_message_naming_the_option(string option, string value, string expected)
    {
        (int code, string error) = Run("simulate", "--trace", SmallTrace(), option, value, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void An_invalid_scenario_file_exits_2_naming_the_field()
    {
        string scenario = Write("bad.yaml", "name: x\ntrace: trace.csv\napps:\n  - name: api\n    coldStartSecs: 5\n");
        SmallTrace();
        (int code, string error) = Run("simulate", "--scenario", scenario, "--quiet");

        Assert.Equal(2, code);
        Assert.Contains("bad.yaml", error);
        Assert.Contains("coldStartSecs", error);
    }

    [Fact]
    public void A_missing_trace_file_exits_2()
    {
        (int code, string error) = Run("simulate", "--trace", Path.Combine(_workspace.Directory, "nope.csv"), "--quiet");

        Assert.Equal(2, code);
        Assert.Contains("nope.csv", error);
    }

    [Fact]
    public void A_long_trace_without_a_scenario_replays_its_own_apps()
    {
        string trace = Write("long.csv", "time,app,type,source,volume\n0,shop,http,s1,10\n3600,shop,http,s1,12\n3600,search,http,s2,5\n7200,shop,http,s2,9\n");
        string json = _workspace.Path("long.json");
        (int code, string error) = Run("simulate", "--trace", trace, "--policies", "hpa", "--quiet", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        var apps = doc.RootElement.GetProperty("policies")[0].GetProperty("apps").EnumerateArray().Select(a => a.GetProperty("name").GetString());
        Assert.Equal(new[] { "shop", "search" }, apps);
    }
}
