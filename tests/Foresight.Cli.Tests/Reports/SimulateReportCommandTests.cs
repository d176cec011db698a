namespace Foresight.Cli.Tests.Reports;

/// <summary><c>foresight simulate --report</c> end to end, on a tiny trace written to a temp directory.</summary>
public sealed class SimulateReportCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("foresight-report-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Two areas whose traffic trades places over half a day.</summary>
    private string SmallTrace()
    {
        var lines = new List<string> { "timestamp,area_1,area_2" };
        var start = new DateTimeOffset(2024, 3, 4, 0, 0, 0, TimeSpan.FromHours(1));
        for (int h = 0; h < 12; h++)
        {
            double phase = Math.Sin(h * Math.PI / 6);
            lines.Add($"{start.AddHours(h):yyyy-MM-ddTHH:mm:sszzz},{100 + (80 * phase):F0},{100 - (80 * phase):F0}");
        }

        return Write("trace.csv", string.Join('\n', lines) + "\n");
    }

    private string Sources() => Write("areas.csv", "area_id,x_km,y_km\n1,0,0\n2,14,3\n");

    private static (int Code, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        int code = CliApp.Run(args, error);
        return (code, error.ToString());
    }

    [Fact]
    public void Simulate_writes_a_report_with_every_plot_into_a_new_directory()
    {
        string path = Path.Combine(_dir, "new", "dir", "out.html");
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
    public void An_unwritable_report_path_exits_with_code_2_and_names_the_option()
    {
        string file = Write("plain.txt", "x");
        (int code, string error) = Run(
            "simulate", "--trace", SmallTrace(), "--sources", Sources(), "--policies", "static", "--quiet", "--report", Path.Combine(file, "out.html"));

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains("--report", error);
    }
}
