namespace Foresight.Cli.Reports;

/// <summary>
/// Forecast bands against actual traffic, per site, for the report's forecast plot. A predictive policy's run fills it;
/// when a report has none, the HTML says so instead of drawing empty plots.
/// </summary>
/// <param name="Policy">The policy whose forecasts these are (e.g. <c>predictive</c>).</param>
/// <param name="IntervalLevel">Coverage of the band, e.g. 0.9 for the 5%–95% quantiles.</param>
/// <param name="Unit">Unit of the actual and forecast values, shown on the y axis.</param>
/// <param name="Sites">One series per site, in site order.</param>
public sealed record ForecastSection(string Policy, double IntervalLevel, string Unit, IReadOnlyList<SiteForecastSeries> Sites);

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
