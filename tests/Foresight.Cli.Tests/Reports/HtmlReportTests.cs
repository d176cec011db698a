using Foresight.Cli.Reports;
using Foresight.Core;
using Foresight.Simulation.Runner;

namespace Foresight.Cli.Tests.Reports;

/// <summary>The HTML report: self-contained, every plot present and a real image, and the exit-code contract for its path.</summary>
public sealed class HtmlReportTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foresight-report-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>A small report: instances shift from the first sites to the last over the run.</summary>
    private static SimulationReport Synthetic(int sites = 4, params string[] policies)
    {
        policies = policies.Length == 0 ? ["static", "hpa", "kpa"] : policies;
        const int samples = 30;
        var results = policies.Select((name, k) =>
        {
            var timeline = Enumerable.Range(0, samples).Select(i =>
            {
                var bySite = new int[sites];
                for (int s = 0; s < sites; s++)
                {
                    bySite[s] = 1 + ((i * (s + 1) / samples) + k) % 4;
                }

                double requests = 1000 + (50 * i);
                return new TimelineSample(i * 60.0, requests, requests * 0.01 * (1 + ((i + k) % 5)), bySite.Sum(), bySite);
            }).ToList();
            var cdf = Enumerable.Range(0, 40).Select(j => new[] { 2 * Math.Pow(1.25, j) * (1 + (0.1 * k)), Math.Min(1, (j + 1) / 40.0) }).ToList();
            return new PolicyResult
            {
                Name = name,
                LatencyP50Ms = 12 + k,
                LatencyP95Ms = 80 + (5 * k),
                LatencyP99Ms = 300 - (20 * k),
                SloViolationRate = 0.05 / (k + 1),
                Requests = 100_000,
                InstanceSeconds = 50_000 + (7_000 * k),
                Migrations = 3 * k,
                ScaleEvents = 10 * k,
                Apps = [],
                Timeline = timeline,
                LatencyCdf = cdf,
            };
        }).ToList();

        return new SimulationReport
        {
            Scenario = "synthetic <test>",
            Description = "Two apps & four sites.",
            Trace = "/tmp/trace.csv",
            TimeScale = 60,
            Seed = 7,
            SimulatedSeconds = samples * 60,
            StepSeconds = 1,
            TargetUtilization = 0.7,
            Sites = sites,
            Sources = 10,
            Warnings = ["filled 3 missing readings by interpolation"],
            Policies = results,
            WallSeconds = 0.5,
        };
    }

    private static void AssertPlot(ReportHtml.Figure figure)
    {
        ReportHtml.Png png = ReportHtml.DecodePng(figure.Png);
        Assert.True(png.Width > 0 && png.Height > 0, $"{figure.Id}: empty image");
        Assert.Equal((figure.Width, figure.Height), (png.Width, png.Height));

        // A blank canvas inflates to a few byte values; axes, text and lines give many.
        Assert.True(png.DistinctBytes > 32, $"{figure.Id}: looks blank ({png.DistinctBytes} distinct bytes)");
    }

    [Fact]
    public void The_report_embeds_every_plot_as_a_real_png_and_the_counts_match_the_sections()
    {
        SimulationReport report = Synthetic();
        string path = Path.Combine(_dir, "r.html");
        HtmlReport.Write(report, path, new HtmlReportOptions(["north", "south", "east", "cloud"]));
        string html = File.ReadAllText(path);

        var sections = ReportHtml.Sections(html);
        Assert.Equal(HtmlReport.Sections, sections.Keys);
        foreach ((string id, (int declared, IReadOnlyList<ReportHtml.Figure> figures)) in sections)
        {
            Assert.True(declared == figures.Count, $"section {id} declares {declared} plots and has {figures.Count}");
        }

        var ids = ReportHtml.Figures(html).Select(f => f.Id).ToList();
        string[] expected =
        [
            "plot-latency-cdf", "plot-slo-violations", "plot-instances",
            "plot-placements-static", "plot-placements-hpa", "plot-placements-kpa",
            "plot-pareto-p99", "plot-pareto-slo",
        ];
        Assert.Equal(expected, ids);
        Assert.Equal(expected.Length, html.Split("data:image/png;base64,").Length - 1);
        foreach (ReportHtml.Figure figure in ReportHtml.Figures(html))
        {
            AssertPlot(figure);
        }

        // The contents link to every section.
        foreach (string section in HtmlReport.Sections)
        {
            Assert.Contains($"href=\"#{section}\"", html);
        }
    }

    [Fact]
    public void The_report_is_self_contained_and_escapes_its_text()
    {
        string html = HtmlReport.Render(Synthetic());

        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("http://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("https://", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("url(", html, StringComparison.OrdinalIgnoreCase);

        Assert.Contains("synthetic &lt;test&gt;", html);
        Assert.Contains("Two apps &amp; four sites.", html);
        Assert.Contains("filled 3 missing readings by interpolation", html);
        Assert.Contains("/tmp/trace.csv", html);
        Assert.Contains("60 trace s per simulated s", html);
    }

    [Fact]
    public void The_results_table_has_the_console_columns_and_a_row_per_policy()
    {
        string html = HtmlReport.Render(Synthetic());

        foreach (string column in new[] { "policy", "p50 ms", "p95 ms", "p99 ms", "SLO viol.", "dropped", "requests", "instance·s", "migrations", "scale events" })
        {
            Assert.Contains($"<th>{column}</th>", html);
        }

        Assert.Contains("hpa</th><td>13.0</td><td>85.0</td><td>280.0</td><td>2.50 %</td>", html);
        Assert.Equal(3, html.Split("<th scope=\"row\">").Length - 1);
    }

    [Fact]
    public void Without_forecasts_the_report_says_why_and_draws_no_forecast_plot()
    {
        var sections = ReportHtml.Sections(HtmlReport.Render(Synthetic()));
        Assert.Equal(0, sections["forecasts"].Declared);
        Assert.Empty(sections["forecasts"].Figures);

        string reactive = HtmlReport.Render(Synthetic());
        Assert.Contains("<p class=\"no-forecasts\">No predictive policy ran", reactive);

        string withOracle = HtmlReport.Render(Synthetic(4, "hpa", "oracle"));
        Assert.DoesNotContain("No predictive policy ran", withOracle);
        Assert.Contains("predictive policies: oracle", withOracle);
    }

    [Fact]
    public void Forecasts_draw_one_band_plot_per_site()
    {
        SimulationReport report = Synthetic(4, "hpa", "predictive");
        double[] t = Enumerable.Range(0, 60).Select(i => i * 30.0).ToArray();
        SiteForecastSeries Site(string name, double level) => new(
            name,
            t,
            t.Select(x => level + (20 * Math.Sin(x / 200))).ToArray(),
            t.Select(x => level + (18 * Math.Sin((x - 40) / 200))).ToArray(),
            t.Select(x => level - 15 + (18 * Math.Sin((x - 40) / 200))).ToArray(),
            t.Select(x => level + 15 + (18 * Math.Sin((x - 40) / 200))).ToArray());
        var forecasts = new ForecastSection("predictive", 0.9, "requests/s", [Site("north", 100), Site("south", 60)]);

        string html = HtmlReport.Render(report, new HtmlReportOptions(null, forecasts));

        var section = ReportHtml.Sections(html)["forecasts"];
        Assert.Equal(2, section.Declared);
        Assert.Equal(["plot-forecast-north", "plot-forecast-south"], section.Figures.Select(f => f.Id));
        Assert.All(section.Figures, AssertPlot);
        Assert.DoesNotContain("class=\"no-forecasts\"", html);
    }

    [Fact]
    public void Many_sites_make_the_placement_plots_heatmaps()
    {
        const int sites = 20;
        var placements = ReportHtml.Sections(HtmlReport.Render(Synthetic(sites)))["placements"];

        Assert.Equal(3, placements.Figures.Count);
        Assert.All(placements.Figures, f => Assert.True(f.Height > ReportPlots.WideHeight, "a heatmap grows with the site count"));
        Assert.All(placements.Figures, AssertPlot);
    }

    [Fact]
    public void Plots_have_a_font_to_draw_their_text_with()
    {
        // Without one every title, label and legend is silently blank; .ci/run installs Debian's fonts-dejavu-core.
        Assert.True(ReportPlots.HasFonts, "Skia finds no font in /usr/share/fonts: apt-get install fonts-dejavu-core");
        Assert.DoesNotContain("No fonts were found", HtmlReport.Render(Synthetic()));
    }

    [Fact]
    public void Rendering_is_deterministic()
    {
        SimulationReport report = Synthetic();
        Assert.Equal(HtmlReport.Render(report), HtmlReport.Render(report));
    }

    [Fact]
    public void Policy_colours_are_fixed_by_name_and_distinct()
    {
        var a = PolicyPalette.HexFor(["static", "hpa", "kpa", "predictive", "oracle"]);
        var b = PolicyPalette.HexFor(["oracle", "custom", "hpa"]);

        Assert.Equal(5, a.Distinct().Count());
        Assert.Equal(a[4], b[0]);
        Assert.Equal(a[1], b[2]);
        Assert.DoesNotContain(b[1], a);
    }

    [Fact]
    public void Missing_directories_are_created()
    {
        string path = Path.Combine(_dir, "a", "b", "report.html");
        HtmlReport.Write(Synthetic(), path);
        Assert.True(new FileInfo(path).Length > 10_000);
    }

    [Fact]
    public void An_unwritable_path_is_bad_input_named_after_the_option()
    {
        string file = Path.Combine(_dir, "plain.txt");
        File.WriteAllText(file, "x");

        // Root may write anywhere, so "unwritable" here means a directory, or a path through a regular file.
        foreach (string path in new[] { _dir, Path.Combine(file, "r.html"), string.Empty })
        {
            var e = Assert.Throws<InvalidInputException>(() => HtmlReport.Write(Synthetic(), path));
            Assert.Equal("--report", e.File);
        }
    }
}
