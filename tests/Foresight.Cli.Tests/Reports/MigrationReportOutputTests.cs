using System.Text.Json;
using Foresight.Cli.Commands;
using Foresight.Cli.Reports;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Runner;

namespace Foresight.Cli.Tests.Reports;

/// <summary>The per-migration report in the JSON contract and the HTML report.</summary>
public sealed class MigrationReportOutputTests
{
    private static MigrationReport Report()
    {
        MigrationRecord[] events =
        [
            new("api", null, "site-1", 100, 130, 140, 10, true, 1, 3, 70, 60) { VsHpa = new WindowComparison(600, 0.01, 0.2, 20, 80) },
            new("api", "site-0", "site-2", 200, 230, null, null, false, 2, 3, 140, 60),
        ];
        return new MigrationReport(2, 1, 1, 1, 1, 0, 1, [10, 10, 10], new WindowComparison(600, 0.01, 0.2, 20, 80), events) { AllEvents = events, ByApp = AppMigrations.Of(events, _ => new WindowComparison(600, 0.01, 0.2, 20, 80)) };
    }

    private static SimulationReport Simulation(MigrationReport? migrations) => new()
    {
        Scenario = "s",
        Description = "d",
        Trace = "t.csv",
        TimeScale = 60,
        Seed = 1,
        SimulatedSeconds = 300,
        StepSeconds = 1,
        TargetUtilization = 0.7,
        Sites = 3,
        Sources = 3,
        Warnings = [],
        Policies =
        [
            new PolicyResult { Name = "hpa", Migrations = 4, Apps = [], Timeline = [], LatencyCdf = [] },
            new PolicyResult { Name = "predictive", Migrations = 2, PredictiveMigrations = migrations, Apps = [], Timeline = [], LatencyCdf = [] },
        ],
        WallSeconds = 1,
    };

    [Fact]
    public void The_json_keeps_migrations_a_count_and_adds_predictive_migrations_with_stable_names()
    {
        using JsonDocument doc = JsonDocument.Parse(JsonSerializer.Serialize(Simulation(Report()), SimulateCommand.Json));
        JsonElement hpa = doc.RootElement.GetProperty("policies")[0];
        JsonElement predictive = doc.RootElement.GetProperty("policies")[1];

        Assert.Equal(4, hpa.GetProperty("migrations").GetInt32());
        Assert.Equal(JsonValueKind.Null, hpa.GetProperty("predictiveMigrations").ValueKind);
        Assert.Equal(2, predictive.GetProperty("migrations").GetInt32());
        Assert.False(predictive.TryGetProperty("siteStats", out _));

        JsonElement m = predictive.GetProperty("predictiveMigrations");
        foreach (string field in new[] { "count", "spinUps", "moves", "real", "falseAlarms", "unresolved", "early" })
        {
            Assert.Equal(JsonValueKind.Number, m.GetProperty(field).ValueKind);
        }

        Assert.Equal(3, m.GetProperty("leadTimeSeconds").GetArrayLength());
        JsonElement byApp = m.GetProperty("byApp")[0];
        Assert.Equal("api", byApp.GetProperty("app").GetString());
        foreach (string field in new[] { "count", "real", "falseAlarms", "leadTimeSeconds", "vsHpa" })
        {
            Assert.True(byApp.TryGetProperty(field, out _), $"byApp lacks {field}");
        }

        Assert.False(m.TryGetProperty("allEvents", out _));
        JsonElement vs = m.GetProperty("vsHpa");
        foreach (string field in new[] { "requests", "sloViolationRate", "hpaSloViolationRate", "meanLatencyMs", "hpaMeanLatencyMs", "latencySavedMs", "violationsAvoided" })
        {
            Assert.Equal(JsonValueKind.Number, vs.GetProperty(field).ValueKind);
        }

        Assert.Equal(60, vs.GetProperty("latencySavedMs").GetDouble(), 9);
        JsonElement first = m.GetProperty("events")[0];
        foreach (string field in new[] { "app", "to", "decidedAt", "readyAt", "riseAt", "leadTimeSeconds", "real", "previousReplicas", "targetReplicas", "previousCapacityRps", "windowSeconds", "vsHpa" })
        {
            Assert.True(first.TryGetProperty(field, out _), $"missing {field}");
        }

        Assert.Equal(JsonValueKind.Null, first.GetProperty("from").ValueKind);
        Assert.Equal("site-0", m.GetProperty("events")[1].GetProperty("from").GetString());
        Assert.Equal(JsonValueKind.Null, m.GetProperty("events")[1].GetProperty("leadTimeSeconds").ValueKind);
    }

    [Fact]
    public void The_html_report_has_a_migrations_section_with_the_summary_and_the_records()
    {
        string html = HtmlReport.Render(Simulation(Report()));
        var sections = ReportHtml.Sections(html);
        Assert.True(sections.ContainsKey("migrations"));

        int start = html.IndexOf("id=\"migrations\"", StringComparison.Ordinal);
        string section = html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
        Assert.Contains("<th scope=\"row\">predictive</th>", section);
        Assert.Contains("<td>10 / 10 / 10</td>", section);
        Assert.Contains("<td>1.00 % / 20.00 %</td>", section);
        Assert.Contains("<td>60.0</td>", section);
        Assert.Contains("<th scope=\"row\">· api</th>", section);
        Assert.Contains("(spin-up) → site-1", section);
        Assert.Contains("site-0 → site-2", section);
    }

    [Fact]
    public void Without_a_predictive_run_the_section_says_why()
    {
        string html = HtmlReport.Render(Simulation(null));

        Assert.Contains("No migration records in this run (policies: hpa, predictive); the predictive and oracle policies record them.", html);
    }
}
