using System.Text.Json;
using System.Text.RegularExpressions;
using Foresight.Cli.Commands;
using Foresight.Cli.Serve;
using Xunit.Abstractions;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// deploy/grafana/foresight.json against a live <c>serve</c>: every metric its PromQL (panels and template variables)
/// queries must be a series in a real /metrics scrape, so a renamed instrument breaks this test, not a user's dashboard.
/// </summary>
public sealed partial class GrafanaDashboardTests(ITestOutputHelper output) : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task Every_metric_the_Grafana_dashboard_queries_is_in_a_live_scrape()
    {
        (List<string> exprs, JsonDocument dashboard) = ReadDashboard();
        using (dashboard)
        {
            JsonElement templating = dashboard.RootElement.GetProperty("templating").GetProperty("list");
            Assert.Contains(templating.EnumerateArray(), v => v.GetProperty("name").GetString() == "datasource" && v.GetProperty("type").GetString() == "datasource");
            Assert.Contains(templating.EnumerateArray(), v => v.GetProperty("name").GetString() == "app");
            Assert.Contains(templating.EnumerateArray(), v => v.GetProperty("name").GetString() == "site");
            Assert.InRange(dashboard.RootElement.GetProperty("panels").GetArrayLength(), 12, 24);
        }

        // bikenyc (real data, FORESIGHT_DATA): its warm-up leaves scored forecasts, so the accuracy gauges report.
        string config = _workspace.Write("controller.yaml", """
            tickMs: 100
            simulated:
              scenario: bikenyc
              speedUp: 240
            """);
        await using ControllerServer server = await ControllerServer.StartAsync(
            RunCommand.LoadConfig(config, null),
            "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, token: "");
        using var http = new HttpClient { BaseAddress = server.Address };
        // Ticks, then the accuracy gauges, which report only once forecasts have been scored.
        for (int i = 0; i < 1200 && (server.Loop.Status.Tick < 5 || server.Loop.Status.ForecastMase is null || server.Loop.Status.ForecastCoverage90 is null); i++)
        {
            await Task.Delay(50);
        }

        Assert.True(server.Loop.Status.ForecastMase is not null, $"no forecast accuracy after {server.Loop.Status.Tick} ticks");
        Scrape scrape = Scrape.Parse(await http.GetStringAsync("metrics"));

        var queried = exprs.SelectMany(MetricNames).ToHashSet(StringComparer.Ordinal);
        output.WriteLine("queried: " + string.Join(", ", queried.Order()));
        Assert.True(queried.Count >= 12, $"the dashboard queries only {queried.Count} metrics");
        Assert.Empty(scrape.Missing(queried));
    }

    [Fact]
    public void A_name_the_scrape_lacks_is_reported_and_histogram_suffixes_need_a_histogram()
    {
        var scrape = Scrape.Parse("""
            # TYPE foresight_tick_duration_seconds histogram
            foresight_tick_duration_seconds_bucket{le="0.1"} 3
            foresight_tick_duration_seconds_sum 0.2
            foresight_tick_duration_seconds_count 3
            # TYPE foresight_decisions_total counter
            foresight_decisions_total{app="api",kind="scale-up"} 0
            # TYPE foresight_fake_count gauge
            foresight_fake_count 1
            # TYPE foresight_other gauge
            foresight_other_bucket 1
            """);
        string[] names = MetricNames(
            """histogram_quantile(0.95, sum by (le) (rate(foresight_tick_duration_seconds_bucket{job=~"$job"}[$__rate_interval]))) """
            + """+ sum(increase(foresight_bogus_total{app=~"${app}"}[5m])) + foresight_decisions_total offset 5m""").ToArray();

        Assert.Equal(["foresight_tick_duration_seconds_bucket", "foresight_bogus_total", "foresight_decisions_total"], names);
        Assert.Equal(["foresight_bogus_total"], scrape.Missing(names));
        // The family name of a histogram is not a series; a _count on a gauge that happens to end so is not a histogram's.
        Assert.Equal(["foresight_tick_duration_seconds"], scrape.Missing(["foresight_tick_duration_seconds"]));
        Assert.Empty(scrape.Missing(["foresight_fake_count", "foresight_tick_duration_seconds_count"]));
        Assert.Equal(["foresight_fake_bucket", "foresight_other_bucket"], scrape.Missing(["foresight_fake_bucket", "foresight_other_bucket"]));
        Assert.Equal(["foresight_instances"], MetricNames("label_values(foresight_instances{app=~\"$app\"}, site)"));
    }

    /// <summary>The PromQL of every panel target and every query variable.</summary>
    private static (List<string> Exprs, JsonDocument Dashboard) ReadDashboard()
    {
        string path = Path.Combine(RepositoryRoot(), "deploy", "grafana", "foresight.json");
        JsonDocument dashboard = JsonDocument.Parse(File.ReadAllText(path));
        var exprs = new List<string>();
        foreach (JsonElement panel in dashboard.RootElement.GetProperty("panels").EnumerateArray())
        {
            if (panel.TryGetProperty("targets", out JsonElement targets))
            {
                exprs.AddRange(targets.EnumerateArray().Select(t => t.GetProperty("expr").GetString()!));
            }
        }

        foreach (JsonElement variable in dashboard.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
        {
            if (variable.GetProperty("type").GetString() == "query")
            {
                JsonElement q = variable.GetProperty("query");
                exprs.Add(q.ValueKind == JsonValueKind.Object ? q.GetProperty("query").GetString()! : q.GetString()!);
            }
        }

        Assert.True(exprs.Count >= 12, $"{path}: only {exprs.Count} queries");
        return (exprs, dashboard);
    }

    /// <summary>
    /// The metric names a PromQL expression selects: identifiers left once strings, label matchers, range selectors,
    /// Grafana variables and grouping clauses are removed, that are neither a function call nor a keyword.
    /// </summary>
    internal static IEnumerable<string> MetricNames(string expr)
    {
        string s = Strings().Replace(expr, "\"\"");
        s = Braces().Replace(s, " ");
        s = Brackets().Replace(s, " ");
        s = Variables().Replace(s, " ");
        s = Grouping().Replace(s, " ");
        foreach (Match m in Identifier().Matches(s))
        {
            string name = m.Groups[1].Value;
            bool call = m.Groups[2].Value.Length > 0;
            if (!call && !Keywords.Contains(name))
            {
                yield return name;
            }
        }
    }

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "atan2", "inf", "nan", "Inf", "NaN",
        "le", "app", "site", "kind", "outcome", "quantile", "from", "to", "reason", // label arguments of label_values(...)
    };

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Foresight.slnx")))
            {
                return d.FullName;
            }
        }

        throw new InvalidOperationException("Foresight.slnx not found above " + AppContext.BaseDirectory);
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'")]
    private static partial Regex Strings();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex Braces();

    [GeneratedRegex(@"\[[^\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")]
    private static partial Regex Variables();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")]
    private static partial Regex Grouping();

    [GeneratedRegex(@"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?")]
    private static partial Regex Identifier();

    /// <summary>The series names of a Prometheus text exposition, and the type of each metric family.</summary>
    private sealed class Scrape
    {
        private readonly HashSet<string> _series = new(StringComparer.Ordinal);
        private readonly Dictionary<string, string> _types = new(StringComparer.Ordinal);

        public static Scrape Parse(string text)
        {
            var scrape = new Scrape();
            foreach (string raw in text.Split('\n'))
            {
                string line = raw.Trim();
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    string[] parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    scrape._types[parts[2]] = parts[3];
                }
                else if (line.Length > 0 && line[0] != '#')
                {
                    int end = line.IndexOfAny(['{', ' ']);
                    scrape._series.Add(end < 0 ? line : line[..end]);
                }
            }

            return scrape;
        }

        /// <summary>
        /// Names that are not a series of the scrape; a <c>_bucket</c>, <c>_sum</c> or <c>_count</c> name counts only
        /// when its family (the name without the suffix) is a histogram, or the name is itself a family.
        /// </summary>
        public List<string> Missing(IEnumerable<string> names) => names.Where(n => !Has(n)).ToList();

        private bool Has(string name)
        {
            if (!_series.Contains(name))
            {
                return false;
            }

            if (_types.ContainsKey(name) || name.EndsWith("_total", StringComparison.Ordinal))
            {
                return true;
            }

            foreach (string suffix in (string[])["_bucket", "_sum", "_count"])
            {
                if (name.EndsWith(suffix, StringComparison.Ordinal))
                {
                    return _types.TryGetValue(name[..^suffix.Length], out string? type) && type is "histogram" or "summary" && (suffix != "_bucket" || type == "histogram");
                }
            }

            return true;
        }
    }
}
