using Foresight.Simulation.Runner;
using ScottPlot;
using ScottPlot.TickGenerators;
using SkiaSharp;

namespace Foresight.Cli.Reports;

/// <summary>One rendered plot: a stable id (used as the HTML anchor), a title, a caption and the PNG bytes.</summary>
public sealed record ReportFigure(string Id, string Title, string Caption, byte[] Png, int Width, int Height);

/// <summary>
/// Builds the report's plots with ScottPlot and renders them to PNG. Each method is a pure function of its inputs:
/// the same report gives the same pictures.
/// </summary>
public static class ReportPlots
{
    public const int WideWidth = 960;
    public const int WideHeight = 420;
    public const int HalfWidth = 475;
    public const int HalfHeight = 400;

    /// <summary>Above this many sites a stacked area is unreadable, so placements become a heatmap.</summary>
    public const int MaxStackedSites = 12;

    // ScottPlot's own pick on Debian is DejaVu Serif; a sans face reads better at small sizes. Null keeps ScottPlot's.
    private static readonly string? SansFont = PickFont("DejaVu Sans", "Liberation Sans", "Noto Sans", "Arial", "Helvetica");

    private static readonly Color Grey = Color.FromHex("#555555");

    /// <summary>Latency CDF of every policy, on a log latency axis.</summary>
    public static ReportFigure LatencyCdf(SimulationReport report, IReadOnlyList<Color> colors)
    {
        using var plot = new Plot();
        for (int i = 0; i < report.Policies.Count; i++)
        {
            PolicyResult p = report.Policies[i];
            var points = p.LatencyCdf.Where(c => c.Length >= 2 && c[0] > 0 && double.IsFinite(c[0]) && double.IsFinite(c[1])).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            // ScottPlot 5 has no log axis: plot log10(x) and label the ticks with 10^x.
            var line = plot.Add.ScatterLine(points.Select(c => Math.Log10(c[0])).ToArray(), points.Select(c => c[1] * 100).ToArray(), colors[i]);
            line.LineWidth = 2;
            line.LegendText = $"{p.Name} (p99 {p.LatencyP99Ms:F0} ms)";
        }

        plot.Axes.Bottom.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = v => FormatMs(Math.Pow(10, v)),
        };
        plot.Axes.SetLimitsY(0, 101);
        plot.Title("Latency CDF by policy");
        plot.XLabel("request latency (ms, log scale)");
        plot.YLabel("requests at or below (%)");
        plot.ShowLegend(Alignment.LowerRight);
        return Render(plot, "plot-latency-cdf", "Latency CDF by policy",
            "Share of requests (all apps) served within each latency: RTT + service + queueing. Further left and higher is better.",
            WideWidth, WideHeight);
    }

    /// <summary>SLO violations per timeline bucket as a share of that bucket's requests, one line per policy.</summary>
    public static ReportFigure SloViolations(SimulationReport report, IReadOnlyList<Color> colors)
    {
        TimeAxis axis = TimeAxis.For(report);
        using var plot = new Plot();
        for (int i = 0; i < report.Policies.Count; i++)
        {
            PolicyResult p = report.Policies[i];
            if (p.Timeline.Count == 0)
            {
                continue;
            }

            double[] xs = HoldToEnd(p.Timeline.Select(s => s.TimeSeconds), report.SimulatedSeconds).Select(axis.X).ToArray();
            double[] ys = HoldLast(p.Timeline.Select(s => s.Requests > 0 ? 100 * s.SloViolations / s.Requests : 0));
            var line = plot.Add.ScatterLine(xs, ys, colors[i]);
            line.LineWidth = 2;
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.LegendText = $"{p.Name} ({p.SloViolationRate:P2} overall)";
        }

        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { LabelFormatter = v => v.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture) };
        plot.Title("SLO violations over time");
        plot.XLabel(axis.Label);
        plot.YLabel("requests over SLO (% of bucket)");
        double top = report.Policies.SelectMany(p => p.Timeline).Select(s => s.Requests > 0 ? 100 * s.SloViolations / s.Requests : 0).DefaultIfEmpty(0).Max();
        plot.Axes.SetLimits(0, axis.X(report.SimulatedSeconds), 0, Math.Max(1, top * 1.1));
        plot.ShowLegend(Edge.Right);
        return Render(plot, "plot-slo-violations", "SLO violations over time",
            $"Served requests slower than their app's SLO in each {BucketText(report)} bucket, as a share of that bucket's requests. " +
            "Dropped requests are not in this series; the overall rate in the legend and table includes them.",
            WideWidth, WideHeight);
    }

    /// <summary>Running instances (all apps, all sites) over time, one line per policy.</summary>
    public static ReportFigure Instances(SimulationReport report, IReadOnlyList<Color> colors)
    {
        TimeAxis axis = TimeAxis.For(report);
        using var plot = new Plot();
        for (int i = 0; i < report.Policies.Count; i++)
        {
            PolicyResult p = report.Policies[i];
            if (p.Timeline.Count == 0)
            {
                continue;
            }

            var line = plot.Add.ScatterLine(
                HoldToEnd(p.Timeline.Select(s => s.TimeSeconds), report.SimulatedSeconds).Select(axis.X).ToArray(),
                HoldLast(p.Timeline.Select(s => (double)s.Instances)),
                colors[i]);
            line.LineWidth = 2;
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.LegendText = $"{p.Name} ({p.InstanceSeconds:N0} instance·s)";
        }

        plot.Title("Instances over time");
        plot.XLabel(axis.Label);
        plot.YLabel("instances (all apps and sites)");
        double top = report.Policies.SelectMany(p => p.Timeline).Select(s => (double)s.Instances).DefaultIfEmpty(0).Max();
        plot.Axes.SetLimits(0, axis.X(report.SimulatedSeconds), 0, Math.Max(1, top * 1.1));
        plot.ShowLegend(Edge.Right);
        return Render(plot, "plot-instances", "Instances over time",
            $"All instances of all apps, sampled every {BucketText(report)}; the area under a line is roughly its cost (instance·s in the table).",
            WideWidth, WideHeight);
    }

    /// <summary>Where each policy ran its instances: a stacked area per site, or a heatmap when there are many sites.</summary>
    public static IReadOnlyList<ReportFigure> Placements(SimulationReport report, IReadOnlyList<string> siteNames)
    {
        TimeAxis axis = TimeAxis.For(report);
        int sites = Math.Max(report.Sites, report.Policies.SelectMany(p => p.Timeline).Select(s => s.InstancesBySite.Length).DefaultIfEmpty(0).Max());
        Color[] siteColors = SiteColors(sites);

        // One y scale for every policy, so their panels compare at a glance.
        double maxTotal = report.Policies.SelectMany(p => p.Timeline).Select(s => (double)s.InstancesBySite.Sum()).DefaultIfEmpty(1).Max();
        double maxPerSite = report.Policies.SelectMany(p => p.Timeline).SelectMany(s => s.InstancesBySite).Select(c => (double)c).DefaultIfEmpty(1).Max();
        var figures = new List<ReportFigure>();
        foreach (PolicyResult p in report.Policies)
        {
            string id = $"plot-placements-{Slug(p.Name)}";
            string title = $"Instance placements: {p.Name}";
            using var plot = new Plot();
            if (sites <= MaxStackedSites)
            {
                StackedPlacements(plot, p, axis, sites, siteNames, siteColors, maxTotal, report.SimulatedSeconds);
            }
            else
            {
                HeatmapPlacements(plot, p, axis, sites, siteNames, report.SimulatedSeconds, maxPerSite);
            }

            plot.Title(title);
            plot.XLabel(axis.Label);
            string caption = sites <= MaxStackedSites
                ? $"Instances of all apps per site under {p.Name}, stacked; the top edge is the total. {p.Migrations:N0} migrations, {p.ScaleEvents:N0} scale events."
                : $"Instances of all apps per site (row) over time under {p.Name}; brighter is more (scale shared by all policies). {p.Migrations:N0} migrations, {p.ScaleEvents:N0} scale events.";
            figures.Add(Render(plot, id, title, caption, WideWidth, sites <= MaxStackedSites ? WideHeight : Math.Clamp(120 + (sites * 18), WideHeight, 1200)));
        }

        return figures;
    }

    /// <summary>Cost against quality, one point per policy: p99 latency, and the SLO-violation rate.</summary>
    public static IReadOnlyList<ReportFigure> Pareto(SimulationReport report, IReadOnlyList<Color> colors) =>
    [
        ParetoPlot(report, colors, p => p.LatencyP99Ms, e => e.LatencyP99Ms, "p99 latency (ms)", "plot-pareto-p99", "Cost vs p99 latency", v => $"{v:F0} ms"),
        ParetoPlot(report, colors, p => p.SloViolationRate * 100, e => e.SloViolationRate * 100, "SLO-violation rate (%)", "plot-pareto-slo", "Cost vs SLO violations", v => $"{v:F2} %"),
    ];

    /// <summary>Forecast band, point forecast and actual traffic, one plot per site.</summary>
    public static IReadOnlyList<ReportFigure> Forecasts(SimulationReport report, ForecastSection section, IReadOnlyList<Color> colors)
    {
        TimeAxis axis = TimeAxis.For(report);
        int policyIndex = report.Policies.ToList().FindIndex(p => string.Equals(p.Name, section.Policy, StringComparison.OrdinalIgnoreCase));
        Color color = policyIndex >= 0 ? colors[policyIndex] : PolicyPalette.For([section.Policy])[0];
        string band = $"{section.IntervalLevel * 100:0.#}% band";
        var figures = new List<ReportFigure>();
        foreach (SiteForecastSeries site in section.Sites)
        {
            int n = new[] { site.TimeSeconds.Count, site.Actual.Count, site.Forecast.Count, site.Lower.Count, site.Upper.Count }.Min();
            using var plot = new Plot();
            if (n > 0)
            {
                double[] xs = site.TimeSeconds.Take(n).Select(axis.X).ToArray();
                plot.Axes.SetLimitsX(xs.Min(), Math.Max(xs.Max(), xs.Min() + 1e-9));
                var fill = plot.Add.FillY(xs, site.Upper.Take(n).ToArray(), site.Lower.Take(n).ToArray());
                fill.FillColor = color.WithAlpha(0.25);
                fill.LineWidth = 0;
                fill.LegendText = $"forecast {band}";
                var mean = plot.Add.ScatterLine(xs, site.Forecast.Take(n).ToArray(), color);
                mean.LineWidth = 2;
                mean.LinePattern = LinePattern.Dashed;
                mean.LegendText = "forecast";
                var actual = plot.Add.ScatterLine(xs, site.Actual.Take(n).ToArray(), Colors.Black);
                actual.LineWidth = 1.5f;
                actual.LegendText = "actual";
            }

            string title = $"Forecast vs actual traffic: {site.Site}";
            plot.Title(title);
            plot.XLabel(axis.Label);
            plot.YLabel(section.Unit);
            plot.ShowLegend(Edge.Right);
            figures.Add(Render(plot, $"plot-forecast-{Slug(site.Site)}", title,
                $"Traffic at {site.Site} against {section.Policy}'s forecast for the same instants, with its {band}.", WideWidth, 300));
        }

        return figures;
    }

    private static void StackedPlacements(
        Plot plot, PolicyResult p, TimeAxis axis, int sites, IReadOnlyList<string> siteNames, Color[] siteColors, double maxTotal, double endSeconds)
    {
        if (p.Timeline.Count > 0)
        {
            double[] times = StepTimes(p.Timeline.Select(s => s.TimeSeconds).ToArray(), endSeconds).Select(axis.X).ToArray();
            var lower = new double[times.Length];
            for (int site = 0; site < sites; site++)
            {
                double[] counts = StepValues(p.Timeline.Select(s => site < s.InstancesBySite.Length ? (double)s.InstancesBySite[site] : 0).ToArray());
                if (counts.All(c => c == 0))
                {
                    continue; // a site this policy never used would only clutter the legend
                }

                double[] upper = lower.Zip(counts, (a, b) => a + b).ToArray();
                var fill = plot.Add.FillY(times, upper, lower);
                fill.FillColor = siteColors[site];
                fill.LineColor = Colors.White.WithAlpha(0.6);
                fill.LineWidth = 0.5f;
                fill.LegendText = SiteName(siteNames, site);
                lower = upper;
            }
        }

        plot.YLabel("instances");
        plot.Axes.SetLimits(0, axis.X(endSeconds), 0, Math.Max(1, maxTotal * 1.05));
        plot.ShowLegend(Edge.Right);
    }

    private static void HeatmapPlacements(
        Plot plot, PolicyResult p, TimeAxis axis, int sites, IReadOnlyList<string> siteNames, double endSeconds, double maxPerSite)
    {
        int columns = Math.Max(1, p.Timeline.Count);
        var counts = new double[sites, columns];
        for (int t = 0; t < p.Timeline.Count; t++)
        {
            int[] bySite = p.Timeline[t].InstancesBySite;
            for (int s = 0; s < sites && s < bySite.Length; s++)
            {
                counts[s, t] = bySite[s];
            }
        }

        double x0 = axis.X(p.Timeline.Count > 0 ? p.Timeline[0].TimeSeconds : 0);
        double x1 = axis.X(endSeconds);
        var heatmap = plot.Add.Heatmap(counts);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();

        // From zero (an empty site is the darkest cell) to the busiest site of any policy, so panels compare.
        heatmap.ManualRange = new ScottPlot.Range(0, Math.Max(1, maxPerSite));

        // Rectangle gives the outer cell edges (Extent would give cell centres). ScottPlot draws row 0 at the top, so
        // site s sits at y = sites - 1 - s: the first site on top, as in a table.
        heatmap.Rectangle = new CoordinateRect(x0, Math.Max(x1, x0 + 1e-9), -0.5, sites - 0.5);
        var ticks = new NumericManual();
        for (int s = 0; s < sites; s++)
        {
            ticks.AddMajor(sites - 1 - s, SiteName(siteNames, s));
        }

        plot.Axes.Left.TickGenerator = ticks;
        plot.YLabel("site");
        plot.Add.ColorBar(heatmap).Label = "instances";
        plot.Axes.SetLimits(x0, x1, -0.5, sites - 0.5);
    }

    private static ReportFigure ParetoPlot(
        SimulationReport report,
        IReadOnlyList<Color> colors,
        Func<PolicyResult, double> quality,
        Func<EqualCostPoint, double?> equalCostQuality,
        string yLabel,
        string id,
        string title,
        Func<double, string> format)
    {
        using var plot = new Plot();
        var points = report.Policies.Select((p, i) => (Policy: p, X: p.InstanceSeconds, Y: quality(p), Color: colors[i]))
            .Where(q => double.IsFinite(q.X) && double.IsFinite(q.Y))
            .ToList();

        // The front: policies no other policy beats on both cost and quality.
        var front = points.Where(a => !points.Any(b => b.X <= a.X && b.Y <= a.Y && (b.X < a.X || b.Y < a.Y))).OrderBy(a => a.X).ToList();
        if (front.Count > 1)
        {
            var line = plot.Add.ScatterLine(front.Select(f => f.X).ToArray(), front.Select(f => f.Y).ToArray(), Grey);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.5f;
        }

        // A sweep draws one curve per policy through its runs, in order of cost.
        foreach (var curve in points.Where(q => q.Policy.Sweep is not null).GroupBy(q => q.Policy.Sweep!.Policy).Where(g => g.Count() > 1))
        {
            var ordered = curve.OrderBy(q => q.X).ToList();
            var line = plot.Add.ScatterLine(ordered.Select(q => q.X).ToArray(), ordered.Select(q => q.Y).ToArray(), ordered[0].Color);
            line.LineWidth = 1.5f;
            line.LegendText = curve.Key;
            plot.Legend.Alignment = Alignment.UpperRight; // cost and latency are both high there: the emptiest corner
        }

        // Room for the point labels, and a y axis from zero so differences are not exaggerated.
        double minX = points.Count > 0 ? points.Min(q => q.X) : 0, maxX = points.Count > 0 ? points.Max(q => q.X) : 1;
        double spanX = Math.Max(maxX - minX, Math.Max(1, maxX * 0.05));
        var limits = new AxisLimits(minX - (spanX * 0.35), maxX + (spanX * 0.45), 0, Math.Max(points.Select(q => q.Y)
            .Concat(points.SelectMany(q => q.Policy.EqualCost ?? []).Select(e => equalCostQuality(e) ?? 0).Where(double.IsFinite))
            .DefaultIfEmpty(0).Max() * 1.25, 1e-6));
        plot.Axes.SetLimits(limits);

        var labels = points.Select(q => q.Policy.Sweep is { } at
            ? string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{at.Policy} {at.Value:0.###}")
            : $"{q.Policy.Name}: {format(q.Y)}").ToList();
        var placements = PlaceLabels(points.Select(q => (q.X, q.Y)).ToList(), labels, limits, HalfWidth, HalfHeight);
        for (int i = 0; i < points.Count; i++)
        {
            var q = points[i];
            plot.Add.Marker(q.X, q.Y, MarkerShape.FilledCircle, MarkerPixels, q.Color);
            var label = plot.Add.Text(labels[i], q.X, q.Y);
            label.LabelFontSize = 12;
            label.LabelFontColor = q.Color;
            label.Alignment = placements[i].Alignment;
            label.OffsetX = placements[i].Dx;
            label.OffsetY = placements[i].Dy;
        }

        // Equal cost: each baseline's interpolated value at a predictive run's cost, a hollow circle in the baseline's colour.
        bool anyEqualCost = false;
        foreach (var q in points.Where(q => q.Policy.EqualCost is not null))
        {
            foreach (EqualCostPoint e in q.Policy.EqualCost!)
            {
                int baseline = report.Policies.ToList().FindIndex(p => p.Name == e.Baseline);
                if (equalCostQuality(e) is double y && double.IsFinite(y))
                {
                    Color color = baseline >= 0 ? colors[baseline] : Grey;
                    plot.Add.Marker(q.X, y, MarkerShape.OpenCircle, MarkerPixels, color);
                    var link = plot.Add.Line(q.X, q.Y, q.X, y);
                    link.Color = color.WithAlpha(0.5);
                    link.LinePattern = LinePattern.Dotted;
                    anyEqualCost = true;
                }
            }
        }

        plot.Axes.Bottom.TickGenerator = new NumericAutomatic { LabelFormatter = v => v.ToString("N0", System.Globalization.CultureInfo.InvariantCulture), TargetTickCount = 4 };
        plot.Title(title);
        plot.XLabel("cost (instance·s)");
        plot.YLabel(yLabel);
        return Render(plot, id, title,
            $"One point per policy run (colours as in the other plots): instance-seconds against {yLabel}. Lower left is better; " +
            "the dashed grey line is the Pareto front, joining the runs that no other beats on both. In a sweep, each policy's " +
            "runs form a curve labelled with the swept value." +
            (anyEqualCost ? " Hollow circles: each baseline's value at a predictive run's cost, interpolated on its target-utilization curve." : ""),
            HalfWidth, HalfHeight);
    }

    private const float MarkerPixels = 14;

    /// <summary>
    /// Puts each point's label beside it where it covers no other marker or earlier label: ScottPlot does not avoid
    /// collisions, and policies with similar cost and quality would otherwise print over each other. Pixel sizes are
    /// estimates from the figure size and the axis limits.
    /// </summary>
    private static IReadOnlyList<(Alignment Alignment, float Dx, float Dy)> PlaceLabels(
        IReadOnlyList<(double X, double Y)> points, IReadOnlyList<string> labels, AxisLimits limits, int width, int height)
    {
        const double left = 60, right = 15, top = 40, bottom = 50, charWidth = 6.8, lineHeight = 15, gap = 8;
        double areaW = width - left - right, areaH = height - top - bottom;
        (double Px, double Py) Pixel((double X, double Y) p) =>
            (left + ((p.X - limits.Left) / (limits.Right - limits.Left) * areaW), top + ((limits.Top - p.Y) / (limits.Top - limits.Bottom) * areaH));

        var candidates = new (Alignment Alignment, float Dx, float Dy)[]
        {
            (Alignment.LowerLeft, 8, -6), (Alignment.UpperLeft, 8, 6), (Alignment.LowerRight, -8, -6), (Alignment.UpperRight, -8, 6),
            (Alignment.LowerCenter, 0, -10), (Alignment.UpperCenter, 0, 10),
        };
        var taken = points.Select(p => Pixel(p))
            .Select(c => new PixelBox(c.Px - (MarkerPixels / 2), c.Py - (MarkerPixels / 2), c.Px + (MarkerPixels / 2), c.Py + (MarkerPixels / 2)))
            .ToList();
        var area = new PixelBox(left - gap, top - gap, width - right + gap, height - bottom + gap);
        var result = new List<(Alignment, float, float)>();
        for (int i = 0; i < points.Count; i++)
        {
            (double px, double py) = Pixel(points[i]);
            double w = labels[i].Length * charWidth;
            PixelBox Box((Alignment Alignment, float Dx, float Dy) c)
            {
                double x0 = c.Dx > 0 ? px + c.Dx : c.Dx < 0 ? px + c.Dx - w : px - (w / 2);
                double y0 = c.Dy < 0 ? py + c.Dy - lineHeight : py + c.Dy;
                return new PixelBox(x0, y0, x0 + w, y0 + lineHeight);
            }

            // Least covered area wins; leaving the plot area counts as covering.
            double Cost(PixelBox b) => taken.Sum(b.Overlap) + ((b.X1 - b.X0) * (b.Y1 - b.Y0)) - b.Overlap(area);
            var choice = candidates.MinBy(c => Cost(Box(c)));
            taken.Add(Box(choice));
            result.Add(choice);
        }

        return result;
    }

    private readonly record struct PixelBox(double X0, double Y0, double X1, double Y1)
    {
        public double Overlap(PixelBox o) =>
            Math.Max(0, Math.Min(X1, o.X1) - Math.Max(X0, o.X0)) * Math.Max(0, Math.Min(Y1, o.Y1) - Math.Max(Y0, o.Y0));
    }

    private static ReportFigure Render(Plot plot, string id, string title, string caption, int width, int height)
    {
        if (SansFont is not null)
        {
            plot.Font.Set(SansFont);
            plot.Legend.FontName = SansFont;
        }

        plot.Legend.FontSize = 12;
        return new ReportFigure(id, title, caption, plot.GetImageBytes(width, height, ImageFormat.Png), width, height);
    }

    /// <summary>
    /// Whether Skia finds any font. Without one the plots render with lines but no text at all (ScottPlot's Linux Skia
    /// build reads /usr/share/fonts; Debian's fonts-dejavu-core provides one).
    /// </summary>
    public static bool HasFonts => InstalledFonts().Count > 0;

    private static string? PickFont(params string[] candidates)
    {
        var installed = InstalledFonts();
        return candidates.FirstOrDefault(installed.Contains);
    }

    private static HashSet<string> InstalledFonts()
    {
        try
        {
            // With no font files Skia still lists one family, with an empty name and no glyphs.
            return new HashSet<string>(SKFontManager.Default.FontFamilies.Where(f => f.Length > 0), StringComparer.OrdinalIgnoreCase);
        }
        catch (Exception e) when (e is TypeInitializationException or DllNotFoundException)
        {
            return []; // no native Skia: rendering fails later with the real error
        }
    }

    /// <summary>Sample times plus the run's end, so a step line shows how long the last sample held.</summary>
    private static IEnumerable<double> HoldToEnd(IEnumerable<double> times, double end)
    {
        double last = double.NegativeInfinity;
        foreach (double t in times)
        {
            last = t;
            yield return t;
        }

        yield return Math.Max(end, last);
    }

    /// <summary>The values with the last repeated, matching <see cref="HoldToEnd"/>.</summary>
    private static double[] HoldLast(IEnumerable<double> values)
    {
        var list = values.ToList();
        list.Add(list.Count > 0 ? list[^1] : 0);
        return list.ToArray();
    }

    /// <summary>Sample times with the run's end appended, so a step series holds its last value to the end.</summary>
    private static double[] StepTimes(double[] times, double end)
    {
        var result = new List<double>(times.Length * 2);
        for (int i = 0; i < times.Length; i++)
        {
            double next = i + 1 < times.Length ? times[i + 1] : Math.Max(end, times[i]);
            result.Add(times[i]);
            result.Add(next);
        }

        return result.ToArray();
    }

    /// <summary>Each value twice, matching <see cref="StepTimes"/>: flat between samples.</summary>
    private static double[] StepValues(double[] values) => values.SelectMany(v => new[] { v, v }).ToArray();

    private static Color[] SiteColors(int sites)
    {
        // A palette unlike the policy colours, so a site is never mistaken for a policy.
        IPalette palette = sites <= 10 ? new ScottPlot.Palettes.Tsitsulin() : new ScottPlot.Palettes.Category20();
        return Enumerable.Range(0, sites).Select(palette.GetColor).ToArray();
    }

    public static string SiteName(IReadOnlyList<string> names, int site) => site < names.Count ? names[site] : $"site {site}";

    public static string Slug(string name)
    {
        string slug = new(name.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '-').ToArray());
        return slug.Trim('-') is { Length: > 0 } s ? s : "x";
    }

    private static string FormatMs(double ms) =>
        ms >= 1000 ? $"{ms / 1000:0.#} s" : ms >= 1 ? $"{ms:0.#}" : $"{ms:0.###}";

    private static string BucketText(SimulationReport report)
    {
        var timeline = report.Policies.Select(p => p.Timeline).FirstOrDefault(t => t.Count >= 2);
        double seconds = timeline is null ? 60 : timeline[1].TimeSeconds - timeline[0].TimeSeconds;
        return seconds % 60 == 0 ? $"{seconds / 60:0}-min (simulated)" : $"{seconds:0.#}-s (simulated)";
    }

    /// <summary>Time on the x axes: trace time (what the reader knows the data by), in minutes or hours.</summary>
    private readonly record struct TimeAxis(double Scale, double Unit, string Label)
    {
        public static TimeAxis For(SimulationReport report)
        {
            double scale = report.TimeScale > 0 && double.IsFinite(report.TimeScale) ? report.TimeScale : 1;
            double traceSpan = report.SimulatedSeconds * scale;
            return traceSpan >= 3 * 3600
                ? new TimeAxis(scale, 3600, "trace time (h from start)")
                : new TimeAxis(scale, 60, "trace time (min from start)");
        }

        public double X(double simulatedSeconds) => simulatedSeconds * Scale / Unit;
    }
}
