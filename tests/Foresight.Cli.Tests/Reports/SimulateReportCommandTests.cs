namespace Foresight.Cli.Tests.Reports;

/// <summary><c>foresight simulate --report</c> end to end, on a tiny trace written to a temp directory.</summary>
public sealed class SimulateReportCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private string Write(string name, string text) => _workspace.Write(name, text);

    private string SmallTrace() => _workspace.SmallTrace();

    private string Sources() => _workspace.Sources();

    private static (int Code, string Error) Run(params string[] args) => CliWorkspace.Run(args);

    [Fact]
    public void Simulate_writes_a_report_with_every_plot_into_a_new_directory()
    {
        string path = Path.Combine(_workspace.Directory, "new", "dir", "out.html");
        (int code, string error) = Run("simulate", "--trace", SmallTrace(), "--sources", Sources(), "--policies", "static,hpa", "--quiet", "--report", path);

        Assert.True(code == 0, error);
        string html = File.ReadAllText(path);
        var sections = ReportHtml.Sections(html);
        Assert.All(sections, s => Assert.Equal(s.Value.Declared, s.Value.Figures.Count));
        Assert.Equal(
            ["plot-latency-cdf", "plot-slo-violations", "plot-instances", "plot-placements-static", "plot-placements-hpa", "plot-pareto-p99", "plot-pareto-slo"],
            ReportHtml.Figures(html).Select(f => f.Id));
        foreach (ReportHtml.Figure figure in ReportHtml.Figures(html))
        {
            ReportHtml.Png png = ReportHtml.DecodePng(figure.Png);
            Assert.True(png.Width > 0 && png.Height > 0 && png.DistinctBytes > 32, figure.Id);
        }

        Assert.Contains("No predictive policy ran", html);
    }

    [Fact]
    public void A_predictive_run_draws_its_forecast_bands_against_actual_traffic_per_site()
    {
        string path = _workspace.Path("predictive.html");
        (int code, string error) = Run("simulate", "--trace", SmallTrace(), "--sources", Sources(), "--policies", "hpa,predictive", "--quiet", "--report", path);

        Assert.True(code == 0, error);
        string html = File.ReadAllText(path);
        var forecasts = ReportHtml.Sections(html)["forecasts"];
        Assert.True(forecasts.Declared > 0, "no forecast plot");
        Assert.Equal(forecasts.Declared, forecasts.Figures.Count);
        Assert.All(forecasts.Figures, f => Assert.StartsWith("plot-forecast-", f.Id, StringComparison.Ordinal));
        Assert.All(forecasts.Figures, f => Assert.True(ReportHtml.DecodePng(f.Png).DistinctBytes > 32, f.Id));
        Assert.Contains("Forecasts of the predictive (", html);
        Assert.DoesNotContain("class=\"no-forecasts\"", html);
    }

    [Fact]
    public void An_unwritable_report_path_exits_with_code_2_and_names_the_option()
    {
        string file = Write("plain.txt", "x");
        (int code, string error) = Run(
            "simulate", "--trace", SmallTrace(), "--sources", Sources(), "--policies", "static", "--quiet", "--report", Path.Combine(file, "out.html"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--report", error);
    }
}
