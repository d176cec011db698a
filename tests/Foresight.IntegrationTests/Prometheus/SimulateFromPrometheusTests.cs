using System.Globalization;
using System.Text.Json.Nodes;
using Foresight.Cli;

namespace Foresight.IntegrationTests.Prometheus;

/// <summary><c>foresight simulate --prometheus ...</c> end to end against the real Prometheus.</summary>
[Collection(PrometheusCollection.Name)]
public sealed class SimulateFromPrometheusTests(PrometheusFixture prometheus)
{
    private static (int Code, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        int code = CliApp.Run(args, error);
        return (code, error.ToString());
    }

    private string[] PrometheusArgs(string url, string query) =>
    [
        "--prometheus", url, "--promql", query, "--source-label", "cell",
        "--start", prometheus.Start.ToString("O", CultureInfo.InvariantCulture),
        "--end", prometheus.End.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture),
        "--step", "1h",
    ];

    private static string Results(string path)
    {
        var node = JsonNode.Parse(File.ReadAllText(path))!;
        node.AsObject().Remove("trace");     // names where the trace came from
        RemoveWallClock(node);
        return node.ToJsonString();
    }

    /// <summary>Drops wall-clock measurements (wallSeconds, the retrain history's trainWallSeconds...): they differ run to run.</summary>
    private static void RemoveWallClock(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (string key in o.Select(kv => kv.Key).Where(k => k.EndsWith("WallSeconds", StringComparison.Ordinal) || k == "wallSeconds").ToList())
                {
                    o.Remove(key);
                }

                foreach (KeyValuePair<string, JsonNode?> kv in o)
                {
                    RemoveWallClock(kv.Value);
                }

                break;
            case JsonArray a:
                foreach (JsonNode? item in a)
                {
                    RemoveWallClock(item);
                }

                break;
        }
    }

    [Fact]
    public void Simulate_from_Prometheus_gives_the_same_results_as_the_same_trace_from_a_file()
    {
        string fromPrometheus = Path.Combine(prometheus.Directory, "prom.json");
        string fromFile = Path.Combine(prometheus.Directory, "file.json");
        string[] common = ["simulate", "--sources", prometheus.SourcesCsv, "--policies", "static,hpa,predictive", "--seed", "3", "--quiet"];

        (int code, string error) = Run([.. common, .. PrometheusArgs(prometheus.Url.AbsoluteUri, PrometheusFixture.Metric), "--json", fromPrometheus]);
        Assert.True(code == 0, error);
        (code, error) = Run([.. common, "--trace", prometheus.SliceCsv, "--json", fromFile]);
        Assert.True(code == 0, error);

        JsonNode result = JsonNode.Parse(File.ReadAllText(fromPrometheus))!;
        Assert.Equal(["static", "hpa", "predictive"], result["policies"]!.AsArray().Select(p => (string?)p!["name"]));
        Assert.All(result["policies"]!.AsArray(), p => Assert.True((double)p!["requests"]! > 0));
        Assert.Equal(Results(fromFile), Results(fromPrometheus));
    }

    [Fact]
    public void Unreachable_exits_2_naming_the_option_and_url()
    {
        string url = $"http://127.0.0.1:{PrometheusFixture.FreePort()}";
        (int code, string error) = Run(["simulate", "--quiet", .. PrometheusArgs(url, PrometheusFixture.Metric)]);

        Assert.Equal(2, code);
        Assert.StartsWith("error: --prometheus", error);
        Assert.Contains(url, error);
        Assert.Contains("cannot reach Prometheus", error);
    }

    [Fact]
    public void Bad_PromQL_exits_2_with_Prometheus_message()
    {
        (int code, string error) = Run(["simulate", "--quiet", .. PrometheusArgs(prometheus.Url.AbsoluteUri, "rate(foresight_milan_activity")]);

        Assert.Equal(2, code);
        Assert.StartsWith("error: --promql", error);
        Assert.Contains("parse error", error);
    }

    [Fact]
    public void An_empty_result_exits_2()
    {
        (int code, string error) = Run(["simulate", "--quiet", .. PrometheusArgs(prometheus.Url.AbsoluteUri, "foresight_no_such_metric")]);

        Assert.Equal(2, code);
        Assert.Contains("no series between", error);
    }

    [Theory]
    [InlineData("--source-label", "", "--source-label")]
    [InlineData("--start", "yesterday-ish", "--start")]
    [InlineData("--step", "0", "--step")]
    [InlineData("--prometheus", "ftp://x", "--prometheus")]
    public void Bad_options_exit_2_naming_the_option(string option, string value, string named)
    {
        string[] args = ["simulate", "--quiet", .. PrometheusArgs(prometheus.Url.AbsoluteUri, PrometheusFixture.Metric)];
        args[Array.IndexOf(args, option) + 1] = value;
        (int code, string error) = Run(args);

        Assert.Equal(2, code);
        Assert.StartsWith($"error: {named}", error);
    }

    [Fact]
    public void Trace_and_Prometheus_together_or_Prometheus_options_alone_exit_2()
    {
        (int code, string error) = Run(["simulate", "--quiet", "--trace", prometheus.SliceCsv, .. PrometheusArgs(prometheus.Url.AbsoluteUri, PrometheusFixture.Metric)]);
        Assert.Equal(2, code);
        Assert.Contains("not both", error);

        (code, error) = Run(["simulate", "--quiet", "--promql", "up"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --promql", error);

        (code, error) = Run(["simulate", "--quiet", "--step", "5m"]);
        Assert.Equal(2, code);
        Assert.StartsWith("error: --step", error);
    }
}
