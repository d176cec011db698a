namespace Foresight.Cli.Reports;

/// <summary>
/// Forecast bands against actual traffic, per site, for the report's forecast plot. A predictive policy's run fills it;
/// when a report has none, the HTML says so instead of drawing empty plots.
/// </summary>
/// <param name="Policy">The policy whose forecasts these are (e.g. <c>predictive</c>).</param>
/// <param name="IntervalLevel">Coverage of the band, e.g. 0.9 for the 5%–95% quantiles.</param>
/// <param name="Unit">Unit of the actual and forecast values, shown on the y axis.</param>
/// <param name="Sites">One series per site, in site order.</param>
public sealed record ForecastSection(string Policy, double IntervalLevel, string Unit, IReadOnlyList<SiteForecastSeries> Sites)
{
    /// <summary>
    /// The bands of the report's first learning predictive run (<c>predictive</c> before its sweep variants, then the
    /// oracle's); null when no policy recorded any.
    /// </summary>
    public static ForecastSection? From(Foresight.Simulation.Runner.SimulationReport report, IReadOnlyList<string> siteNames)
    {
        Foresight.Simulation.Runner.PolicyResult? run = report.Policies
            .Where(p => p.ForecastTrace is { Sites.Count: > 0 })
            .OrderBy(p => p.Name.StartsWith("oracle", StringComparison.Ordinal) ? 1 : 0)
            .FirstOrDefault();
        if (run?.ForecastTrace is not { } trace)
        {
            return null;
        }

        string Name(int site) => site < siteNames.Count ? siteNames[site] : $"site {site}";
        return new ForecastSection(
            $"{run.Name} ({trace.App}, forecasts made {trace.LeadSeconds:0} s ahead)",
            trace.IntervalLevel,
            "requests/s",
            trace.Sites.Select(s => new SiteForecastSeries(Name(s.Site), s.TimeSeconds, s.Actual, s.Median, s.Lower, s.Upper)).ToList());
    }
}

/// <summary>Actual traffic and the forecast made for the same instants at one site. All arrays have the same length.</summary>
/// <param name="Site">Site id.</param>
/// <param name="TimeSeconds">Simulated seconds, on the same clock as the policy timelines.</param>
/// <param name="Actual">Observed traffic.</param>
/// <param name="Forecast">The point forecast (mean or median).</param>
/// <param name="Lower">Lower edge of the band.</param>
/// <param name="Upper">Upper edge of the band.</param>
public sealed record SiteForecastSeries(
    string Site,
    IReadOnlyList<double> TimeSeconds,
    IReadOnlyList<double> Actual,
    IReadOnlyList<double> Forecast,
    IReadOnlyList<double> Lower,
    IReadOnlyList<double> Upper);

/// <summary>What the report needs beyond <see cref="Foresight.Simulation.Runner.SimulationReport"/>; every part is optional.</summary>
/// <param name="SiteNames">Site ids by site index (the order of <c>InstancesBySite</c>); "site N" when missing.</param>
/// <param name="Forecasts">Forecast bands, when a predictive policy recorded them.</param>
public sealed record HtmlReportOptions(IReadOnlyList<string>? SiteNames = null, ForecastSection? Forecasts = null);
