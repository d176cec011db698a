using System.Globalization;
using Foresight.Core;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Topology;

namespace Foresight.Simulation.Scenarios;

/// <summary>
/// Turns a scenario spec plus its loaded trace (and optional source coordinates) into a <see cref="SimulationScenario"/>.
/// The caller reads the files; this is pure. Mismatches between the trace and the scenario are <see cref="InvalidInputException"/>s.
/// </summary>
public static class ScenarioBuilder
{
    private static readonly string[] _idPrefixes = ["cell_", "area_", "source_", "sensor_"];

    /// <param name="spec">The scenario.</param>
    /// <param name="trace">The trace. Wide traces (app <c>*</c>) are split between the apps by share; long traces name the apps.</param>
    /// <param name="sources">Coordinates keyed by the trace's source names; null or empty lays the sources out on a ring.</param>
    public static SimulationScenario Build(ScenarioSpec spec, TraceTable trace, IReadOnlyList<Source>? sources)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(trace);
        var warnings = new List<string>();
        SpecOrigin origin = spec.Origin;
        if (spec.Apps.Count == 0)
        {
            throw new InvalidInputException(origin.File, "list at least one application", origin.LineOf("apps"), "apps");
        }

        if (trace.RowCount == 0 || trace.Keys.Count == 0)
        {
            throw new InvalidInputException(trace.Name, "the trace has no rows or no value columns");
        }

        CheckValues(trace);
        string[] sourceIds = trace.Keys.Select(k => k.Source).Distinct(StringComparer.Ordinal).ToArray();
        var sourceIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int s = 0; s < sourceIds.Length; s++)
        {
            sourceIndex[sourceIds[s]] = s;
        }

        bool wide = IsWide(trace);
        double rowSeconds = trace.StepSeconds;
        int rows = trace.RowCount;
        int n = sourceIds.Length;
        double[][] rates = wide
            ? WideRates(spec, trace, sourceIndex, n, rowSeconds, warnings)
            : LongRates(spec, trace, sourceIndex, n, rowSeconds, warnings);

        // Each source's total traffic weights the clustering, so idle cells do not attract sites.
        var weights = new double[n];
        foreach (double[] appRates in rates)
        {
            for (int r = 0; r < rows; r++)
            {
                for (int s = 0; s < n; s++)
                {
                    weights[s] += appRates[(r * n) + s];
                }
            }
        }

        int silent = weights.Count(v => v == 0);
        if (silent > 0)
        {
            warnings.Add($"{silent} of {n} sources carry no traffic in the whole trace; they do not place sites");
        }

        IReadOnlyList<Source> located = Locate(spec, trace, sourceIds, sources, warnings);
        EdgeTopology topology = TopologyBuilder.Build(spec, located, weights, out IReadOnlyList<string> topologyWarnings);
        warnings.AddRange(topologyWarnings);

        double duration = Window(spec, trace, warnings);
        if (spec.RegimeChangeAt is double changeAt && spec.RegimeChangeRemap == "rotate")
        {
            Rotate(rates, trace.TimeSeconds, n, changeAt);
        }
        string worst = string.Join(", ", trace.Fills.FilledByColumn.OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)
            .Take(5).Select(p => $"{p.Key} {p.Value}"));
        if (trace.Fills.Describe(worst.Length > 0 ? $"most in {worst}" : null) is string fills)
        {
            warnings.Add($"trace: {fills}");
        }

        var demand = new DemandModel(trace.TimeSeconds, rates, n, spec.TraceStart, spec.TimeScale, trace.StartTime);
        double? regimeChange = null;
        if (spec.RegimeChangeAt is double at)
        {
            regimeChange = demand.SimTimeAt(at);
            if (regimeChange >= duration)
            {
                // A shortened replay (--duration) may end before the change: nothing to split, say so.
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"regimeChangeAt {at} s lies after the replayed window; SLO violations are not split"));
                regimeChange = null;
            }
            else if (!(regimeChange > 0))
            {
                throw new InvalidInputException(
                    spec.Origin.File,
                    $"regimeChangeAt {at.ToString(CultureInfo.InvariantCulture)} s must lie after traceStart ({spec.TraceStart.ToString(CultureInfo.InvariantCulture)} s)",
                    spec.Origin.LineOf("regimeChangeAt"),
                    "regimeChangeAt");
            }
        }

        return new SimulationScenario
        {
            Name = spec.Name,
            Description = spec.Description,
            Spec = spec,
            TraceName = trace.Name,
            Topology = topology,
            Apps = spec.Apps.Select(a => a.Profile).ToArray(),
            TimeScale = spec.TimeScale,
            DurationSeconds = duration,
            StepSeconds = spec.StepSeconds,
            Seed = spec.Seed,
            TargetUtilization = spec.TargetUtilization,
            Demand = demand,
            RegimeChangeSeconds = regimeChange,
            NetworkEvents = ResolveNetwork(spec, topology, demand, duration, warnings),
            Warnings = warnings,
        };
    }

    /// <summary>
    /// Turns the scenario's <c>network.events</c> into engine events: ids checked against the topology (a source or site
    /// FROM, a site TO), trace seconds mapped to simulated seconds.
    /// </summary>
    internal static IReadOnlyList<NetworkEvent> ResolveNetwork(
        ScenarioSpec spec, EdgeTopology topology, DemandModel demand, double duration, List<string> warnings)
    {
        var events = new List<NetworkEvent>(spec.Network.Count);
        foreach (NetworkEventSpec e in spec.Network)
        {
            LinkKind kind;
            int from;
            int to;
            InvalidInputException Error(string field, string problem) => new(
                spec.Origin.File, problem, spec.Origin.LineOf($"{e.FieldPath}.{field}") ?? spec.Origin.LineOf(e.FieldPath), $"{e.FieldPath}.{field}");
            if (e.Site is string siteId)
            {
                kind = LinkKind.Site;
                from = -1;
                to = SiteOf(siteId, "site");
            }
            else
            {
                (string a, string b) = ScenarioLoader.ParseLink(e.Link!) ?? throw Error("link", $"'{e.Link}' is not a link FROM->TO");
                to = SiteOf(b, "link");
                if (topology.TryGetSiteIndex(a, out int site))
                {
                    if (site == to)
                    {
                        throw Error("link", $"'{e.Link}' leads from a site to itself; use site: {b} for a site's own link");
                    }

                    kind = LinkKind.Path;
                    from = site;
                }
                else if (topology.TryGetSourceIndex(a, out int source))
                {
                    kind = LinkKind.Source;
                    from = source;
                }
                else
                {
                    throw Error("link", $"'{a}' is neither a source nor a site of this scenario (sources such as {Examples(topology.Sources.Select(s => s.Id))}; sites {Examples(topology.Sites.Select(s => s.Id))})");
                }
            }

            double start = demand.SimTimeAt(e.From);
            double end = demand.SimTimeAt(e.To);
            if (end <= 0 || start >= duration)
            {
                warnings.Add(string.Create(CultureInfo.InvariantCulture, $"{e.FieldPath} lies outside the replayed window; it has no effect"));
            }

            events.Add(new NetworkEvent(kind, from, to, start, end, e.AddLatencyMs, e.BandwidthMbps));

            int SiteOf(string id, string field) => topology.TryGetSiteIndex(id, out int s)
                ? s
                : throw Error(field, $"unknown site '{id}'; the sites are {Examples(topology.Sites.Select(x => x.Id))}");
        }

        return events;

    }

    private static string Examples(IEnumerable<string> ids)
    {
        var list = ids.Take(6).ToList();
        return string.Join(", ", list) + (ids.Skip(6).Any() ? ", …" : "");
    }

    private static void CheckValues(TraceTable trace)
    {
        for (int k = 0; k < trace.Keys.Count; k++)
        {
            double[] column = trace.Values[k];
            for (int r = 0; r < column.Length; r++)
            {
                if (!(column[r] >= 0) || !double.IsFinite(column[r]))
                {
                    throw new InvalidInputException(
                        trace.Name,
                        $"volume {column[r].ToString(CultureInfo.InvariantCulture)} at row {r} (trace second {trace.TimeSeconds[r].ToString(CultureInfo.InvariantCulture)}) is not a volume; it must be zero or positive",
                        field: trace.Keys[k].ToString());
                }
            }
        }
    }

    private static bool IsWide(TraceTable trace)
    {
        int anyApp = trace.Keys.Count(k => k.App == TraceTable.AnyApp);
        if (anyApp > 0 && anyApp < trace.Keys.Count)
        {
            throw new InvalidInputException(trace.Name, $"the trace mixes app-less columns ('{TraceTable.AnyApp}') with named apps");
        }

        return anyApp > 0;
    }

    // Wide: every app sees each source's volume times its share; peakRps then fixes the app's busiest row.
    private static double[][] WideRates(ScenarioSpec spec, TraceTable trace, Dictionary<string, int> sourceIndex, int n, double rowSeconds, List<string> warnings)
    {
        int rows = trace.RowCount;
        var baseRate = new double[rows * n];
        for (int k = 0; k < trace.Keys.Count; k++)
        {
            int s = sourceIndex[trace.Keys[k].Source];
            double[] column = trace.Values[k];
            for (int r = 0; r < rows; r++)
            {
                baseRate[(r * n) + s] += column[r] / rowSeconds;
            }
        }

        double peakBase = PeakRowTotal(baseRate, rows, n);
        var result = new double[spec.Apps.Count][];
        for (int a = 0; a < spec.Apps.Count; a++)
        {
            AppSpec app = spec.Apps[a];
            double factor = spec.ShareOf(a);
            if (app.PeakRps is double peak)
            {
                if (peakBase > 0)
                {
                    factor = peak / peakBase;
                }
                else
                {
                    factor = 0;
                    warnings.Add($"app '{app.Name}': the trace has no traffic, so peakRps cannot scale it; its demand is zero");
                }
            }

            result[a] = Scaled(baseRate, factor);
        }

        return result;
    }

    // Long: the trace names the apps; types are summed per (app, source) and share is ignored.
    private static double[][] LongRates(ScenarioSpec spec, TraceTable trace, Dictionary<string, int> sourceIndex, int n, double rowSeconds, List<string> warnings)
    {
        SpecOrigin origin = spec.Origin;
        var appIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int a = 0; a < spec.Apps.Count; a++)
        {
            appIndex[spec.Apps[a].Name] = a;
        }

        string[] traceApps = trace.Keys.Select(k => k.App).Distinct(StringComparer.Ordinal).ToArray();
        foreach (string app in traceApps)
        {
            if (!appIndex.ContainsKey(app))
            {
                throw new InvalidInputException(
                    origin.File,
                    $"app '{app}' is in the trace {trace.Name} but not in the scenario's apps ({string.Join(", ", appIndex.Keys)})",
                    origin.LineOf("apps"),
                    "apps");
            }
        }

        for (int a = 0; a < spec.Apps.Count; a++)
        {
            if (!traceApps.Contains(spec.Apps[a].Name, StringComparer.Ordinal))
            {
                throw new InvalidInputException(
                    origin.File,
                    $"app '{spec.Apps[a].Name}' has no traffic in the trace {trace.Name}, which has apps {string.Join(", ", traceApps)}",
                    origin.LineOf($"apps[{a}].name") ?? origin.LineOf($"apps[{a}]"),
                    $"apps[{a}].name");
            }
        }

        if (spec.Apps.Any(a => a.Share is not null))
        {
            warnings.Add("apps[].share is ignored: the trace is long, so it gives each app's traffic itself");
        }

        int rows = trace.RowCount;
        var result = new double[spec.Apps.Count][];
        for (int a = 0; a < result.Length; a++)
        {
            result[a] = new double[rows * n];
        }

        for (int k = 0; k < trace.Keys.Count; k++)
        {
            double[] target = result[appIndex[trace.Keys[k].App]];
            int s = sourceIndex[trace.Keys[k].Source];
            double[] column = trace.Values[k];
            for (int r = 0; r < rows; r++)
            {
                target[(r * n) + s] += column[r] / rowSeconds;
            }
        }

        for (int a = 0; a < result.Length; a++)
        {
            if (spec.Apps[a].PeakRps is not double peak)
            {
                continue;
            }

            double peakBase = PeakRowTotal(result[a], rows, n);
            if (peakBase > 0)
            {
                result[a] = Scaled(result[a], peak / peakBase);
            }
            else
            {
                warnings.Add($"app '{spec.Apps[a].Name}': its trace traffic is all zero, so peakRps cannot scale it; its demand is zero");
            }
        }

        return result;
    }

    private static double PeakRowTotal(double[] rates, int rows, int n)
    {
        double peak = 0;
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int s = 0; s < n; s++)
            {
                sum += rates[(r * n) + s];
            }

            peak = Math.Max(peak, sum);
        }

        return peak;
    }

    private static double[] Scaled(double[] values, double factor)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            result[i] = values[i] * factor;
        }

        return result;
    }

    /// <summary>Matches the trace's sources to coordinates by id (exactly, else without a cell_/area_/source_/sensor_ prefix).</summary>
    private static IReadOnlyList<Source> Locate(ScenarioSpec spec, TraceTable trace, string[] sourceIds, IReadOnlyList<Source>? sources, List<string> warnings)
    {
        if (sources is null || sources.Count == 0)
        {
            string why = sourceIds.Length == 1 ? "placed at the origin" : $"laid out on a {spec.Sites.RingRadiusKm.ToString(CultureInfo.InvariantCulture)} km ring in column order";
            warnings.Add($"no source coordinates given: the trace's {sourceIds.Length} source(s) are {why}");
            return TopologyBuilder.RingLayout(sourceIds, spec.Sites.RingRadiusKm);
        }

        string sourcesFile = spec.Sources ?? "sources";
        var exact = new Dictionary<string, Source>(StringComparer.Ordinal);
        var loose = new Dictionary<string, Source>(StringComparer.OrdinalIgnoreCase);
        foreach (Source source in sources)
        {
            if (!exact.TryAdd(source.Id, source))
            {
                throw new InvalidInputException(sourcesFile, $"source '{source.Id}' is listed twice", field: "sources");
            }

            loose.TryAdd(StripPrefix(source.Id), source);
        }

        var result = new Source[sourceIds.Length];
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        for (int s = 0; s < sourceIds.Length; s++)
        {
            string id = sourceIds[s];
            if (!exact.TryGetValue(id, out Source? match) && !loose.TryGetValue(StripPrefix(id), out match))
            {
                missing.Add(id);
                continue;
            }

            if (!double.IsFinite(match.XKm) || !double.IsFinite(match.YKm))
            {
                throw new InvalidInputException(sourcesFile, $"source '{match.Id}' has no finite coordinates", field: "sources");
            }

            used.Add(match.Id);
            result[s] = new Source(id, match.XKm, match.YKm);
        }

        if (missing.Count > 0)
        {
            string examples = string.Join(", ", missing.Take(5).Select(m => $"'{m}'"));
            throw new InvalidInputException(
                sourcesFile,
                $"{missing.Count} of the {sourceIds.Length} sources of trace {trace.Name} have no coordinates here ({examples}); every trace source needs a row when a sources file is given",
                field: "sources");
        }

        int unused = sources.Count - used.Count;
        if (unused > 0)
        {
            warnings.Add($"{unused} sources in {sourcesFile} are not in the trace; they are ignored");
        }

        return result;
    }

    /// <summary>From trace second <paramref name="changeAt"/> on, source s replays source (s + n/2) mod n: the traffic moves.</summary>
    private static void Rotate(double[][] rates, double[] rowSeconds, int n, double changeAt)
    {
        int shift = n / 2;
        var row = new double[n];
        foreach (double[] appRates in rates)
        {
            for (int r = 0; r < rowSeconds.Length; r++)
            {
                if (rowSeconds[r] < changeAt)
                {
                    continue;
                }

                appRates.AsSpan(r * n, n).CopyTo(row);
                for (int s = 0; s < n; s++)
                {
                    appRates[(r * n) + s] = row[(s + shift) % n];
                }
            }
        }
    }

    private static string StripPrefix(string id)
    {
        foreach (string prefix in _idPrefixes)
        {
            if (id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                return id[prefix.Length..];
            }
        }

        return id;
    }

    /// <summary>The simulated duration of the replayed window; the window must start inside the trace.</summary>
    private static double Window(ScenarioSpec spec, TraceTable trace, List<string> warnings)
    {
        SpecOrigin origin = spec.Origin;
        double traceLength = trace.DurationSeconds;
        if (spec.TraceStart >= traceLength)
        {
            throw new InvalidInputException(
                origin.File,
                $"traceStart {spec.TraceStart.ToString(CultureInfo.InvariantCulture)} s is past the end of the trace ({traceLength.ToString(CultureInfo.InvariantCulture)} s)",
                origin.LineOf("traceStart"),
                "traceStart");
        }

        double available = traceLength - spec.TraceStart;
        double window = available;
        if (spec.TraceDuration is double wanted)
        {
            if (wanted > available + 1e-9)
            {
                warnings.Add(string.Create(
                    CultureInfo.InvariantCulture,
                    $"traceDuration {wanted} s runs past the end of the trace; replaying the {available} s that remain"));
            }
            else
            {
                window = wanted;
            }
        }

        return window / spec.TimeScale;
    }
}
