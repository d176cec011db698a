using System.Globalization;
using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Topology;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Foresight.Simulation.Scenarios;

/// <summary>
/// Reads scenario YAML strictly: unknown fields, wrong types, out-of-range values and missing required fields are
/// <see cref="InvalidInputException"/>s naming the file, the line and the field path (e.g. <c>apps[1].coldStartSeconds</c>).
/// </summary>
public static class ScenarioLoader
{
    private static readonly string[] _topFields =
    [
        "name", "description", "trace", "sources", "timeScale", "traceStart", "traceDuration", "regimeChangeAt", "regimeChangeRemap", "seed",
        "stepSeconds", "targetUtilization", "sites", "cloud", "rtt", "network", "apps",
    ];

    private static readonly string[] _networkFields = ["events", "observed"];
    private static readonly string[] _networkEventFields = ["link", "site", "from", "to", "addLatencyMs", "bandwidthMbps"];

    private static readonly string[] _siteFields = ["method", "k", "serversPerSite", "cpuPerServer", "ringRadiusKm", "explicit"];
    private static readonly string[] _explicitSiteFields = ["id", "xKm", "yKm", "servers", "cpuPerServer"];
    private static readonly string[] _cloudFields = ["enabled", "servers", "cpuPerServer"];
    private static readonly string[] _rttFields = ["accessBaseMs", "perKmMs", "interSiteHopMs", "cloudBackhaulMs"];

    private static readonly string[] _appFields =
    [
        "name", "share", "peakRps", "latencySloMs", "serviceTimeMs", "concurrency", "coldStartSeconds", "warmupSeconds",
        "warmupStartCapacity", "minInstances", "maxInstances", "queueLimitPerInstance", "drainSeconds", "requestKb", "responseKb",
        "reactive", "missCost",
    ];

    // Bounds past which a value is surely a typo (a day of cold start, a million cores), not a configuration.
    private const double MaxSeconds = 86_400;
    private const double MaxMs = 3_600_000;
    private const double MaxKm = 100_000;
    private const int MaxCount = 1_000_000;
    private const double MaxCpu = 100_000;

    /// <summary>Reads a scenario file; relative paths inside it resolve against its directory.</summary>
    public static ScenarioSpec LoadFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new InvalidInputException(path, $"cannot read the scenario file: {e.Message}", inner: e);
        }

        string directory = Path.GetDirectoryName(Path.GetFullPath(path)) ?? Directory.GetCurrentDirectory();
        return Load(text, path, directory);
    }

    /// <summary>Parses scenario YAML. <paramref name="fileName"/> is used in messages; relative paths resolve against <paramref name="baseDirectory"/>.</summary>
    public static ScenarioSpec Load(string yamlText, string fileName, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(yamlText);
        ArgumentNullException.ThrowIfNull(fileName);
        var context = new YamlContext(fileName);
        YamlNode root = Parse(yamlText, context);
        var top = new YamlFields(context, root, "", _topFields);

        string name = top.Text("name", required: true)!.Trim();
        string description = (top.Text("description") ?? "").Trim();
        string trace = top.Text("trace", required: true)!.Trim();
        string? sources = top.Text("sources")?.Trim();
        if (sources is { Length: 0 })
        {
            sources = null;
        }

        var defaults = new ScenarioSpec { Name = name, Trace = trace, Apps = [] };
        double timeScale = top.Number("timeScale", NumberRange.Positive(1e7)) ?? defaults.TimeScale;
        double traceStart = top.Number("traceStart", NumberRange.NonNegative(1e12)) ?? defaults.TraceStart;
        double? traceDuration = top.Number("traceDuration", NumberRange.Positive(1e12));
        double? regimeChangeAt = top.Number("regimeChangeAt", NumberRange.NonNegative(1e12));
        string? remap = top.Text("regimeChangeRemap")?.Trim();
        if (remap is not null && remap is not ("rotate" or "none"))
        {
            throw top.Error("regimeChangeRemap", $"unknown remap '{remap}'; expected rotate or none");
        }

        if (remap is not null && regimeChangeAt is null)
        {
            throw top.Error("regimeChangeRemap", "needs regimeChangeAt: the trace second where the traffic moves");
        }
        int seed = top.Integer("seed", NumberRange.Between(int.MinValue, int.MaxValue)) ?? defaults.Seed;
        double stepSeconds = top.Number("stepSeconds", NumberRange.Positive(3600)) ?? defaults.StepSeconds;
        double targetUtilization = top.Number("targetUtilization", new NumberRange(0, true, 1)) ?? defaults.TargetUtilization;

        SitesSpec sites = ReadSites(top.Mapping("sites", _siteFields));
        CloudSpec cloud = ReadCloud(top.Mapping("cloud", _cloudFields));
        RttModel rtt = ReadRtt(top.Mapping("rtt", _rttFields));
        YamlFields? networkFields = top.Mapping("network", _networkFields);
        IReadOnlyList<NetworkEventSpec> network = ReadNetwork(networkFields);
        bool networkObserved = networkFields?.Boolean("observed") ?? true;
        IReadOnlyList<AppSpec> apps = ReadApps(top, context);

        return new ScenarioSpec
        {
            Name = name,
            Description = description,
            Trace = trace,
            Sources = sources,
            TimeScale = timeScale,
            TraceStart = traceStart,
            TraceDuration = traceDuration,
            RegimeChangeAt = regimeChangeAt,
            RegimeChangeRemap = remap == "none" ? null : remap,
            Seed = seed,
            StepSeconds = stepSeconds,
            TargetUtilization = targetUtilization,
            Sites = sites,
            Cloud = cloud,
            Rtt = rtt,
            Network = network,
            NetworkObserved = networkObserved,
            Apps = apps,
            Origin = new SpecOrigin(fileName, baseDirectory ?? "", context.Lines),
        };
    }

    internal static YamlNode Parse(string yamlText, YamlContext context, string what = "scenario")
    {
        var stream = new YamlStream();
        var scanner = new Scanner(new StringReader(yamlText));
        try
        {
            stream.Load(new Parser(scanner));
        }
        catch (YamlException e)
        {
            // YamlDotNet's message repeats the position; keep its own words and put line/column where ours go.
            string problem = $"invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {Innermost(e).Message}";
            throw new InvalidInputException(context.File, problem, e.Start.Line, inner: e);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or FormatException)
        {
            // Some malformed input trips YamlDotNet's internal state checks instead; the scanner still knows where it was.
            Mark at = scanner.CurrentPosition;
            string problem = $"invalid YAML at line {at.Line}, column {at.Column}: the parser could not continue here (look for an unclosed bracket, brace or quote above)";
            throw new InvalidInputException(context.File, problem, at.Line, inner: e);
        }

        if (stream.Documents.Count == 0 || YamlFields.IsNull(stream.Documents[0].RootNode))
        {
            throw context.Error("", $"the {what} is empty", (long?)null);
        }

        if (stream.Documents.Count > 1)
        {
            throw context.Error("", $"a {what} file holds one YAML document, found several", YamlContext.LineOf(stream.Documents[1].RootNode));
        }

        return stream.Documents[0].RootNode;
    }

    private static Exception Innermost(Exception e)
    {
        // Duplicate keys surface as an ArgumentException wrapped in a YamlException; its words are the useful ones.
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e;
    }

    private static SitesSpec ReadSites(YamlFields? fields)
    {
        var defaults = new SitesSpec();
        if (fields is null)
        {
            return defaults;
        }

        SiteMethod method = defaults.Method;
        if (fields.Text("method") is { } methodText)
        {
            method = methodText.Trim().ToLowerInvariant() switch
            {
                "kmeans" or "k-means" => SiteMethod.KMeans,
                "grid" => SiteMethod.Grid,
                "single" => SiteMethod.Single,
                "explicit" => SiteMethod.Explicit,
                _ => throw fields.Error("method", $"unknown method '{methodText}'; expected kmeans, grid, single or explicit"),
            };
        }

        int k = fields.Integer("k", NumberRange.Between(1, 10_000)) ?? defaults.K;
        int serversPerSite = fields.Integer("serversPerSite", NumberRange.Between(1, MaxCount)) ?? defaults.ServersPerSite;
        double cpuPerServer = fields.Number("cpuPerServer", NumberRange.Positive(MaxCpu)) ?? defaults.CpuPerServer;
        double ringRadius = fields.Number("ringRadiusKm", NumberRange.Positive(MaxKm)) ?? defaults.RingRadiusKm;

        var explicitSites = new List<ExplicitSiteSpec>();
        IReadOnlyList<YamlNode> items = fields.Sequence("explicit") ?? [];
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < items.Count; i++)
        {
            var site = new YamlFields(fields.Context, items[i], $"{fields.Child("explicit")}[{i}]", _explicitSiteFields);
            string id = site.Text("id", required: true)!.Trim();
            if (string.Equals(id, TopologyNames.CloudSiteId, StringComparison.OrdinalIgnoreCase))
            {
                throw site.Error("id", $"'{TopologyNames.CloudSiteId}' is reserved for the cloud site");
            }

            if (!ids.Add(id))
            {
                throw site.Error("id", $"duplicate site id '{id}'");
            }

            double x = site.Number("xKm", NumberRange.Between(-MaxKm, MaxKm), required: true)!.Value;
            double y = site.Number("yKm", NumberRange.Between(-MaxKm, MaxKm), required: true)!.Value;
            int servers = site.Integer("servers", NumberRange.Between(1, MaxCount)) ?? serversPerSite;
            double cpu = site.Number("cpuPerServer", NumberRange.Positive(MaxCpu)) ?? cpuPerServer;
            explicitSites.Add(new ExplicitSiteSpec(id, x, y, servers, cpu));
        }

        if (method == SiteMethod.Explicit && explicitSites.Count == 0)
        {
            throw fields.Error("explicit", "method: explicit needs at least one site here");
        }

        if (method != SiteMethod.Explicit && explicitSites.Count > 0)
        {
            throw fields.Error("explicit", $"sites are listed but method is {MethodName(method)}; set method: explicit or remove the list");
        }

        return new SitesSpec
        {
            Method = method,
            K = k,
            ServersPerSite = serversPerSite,
            CpuPerServer = cpuPerServer,
            RingRadiusKm = ringRadius,
            Explicit = explicitSites,
        };

        static string MethodName(SiteMethod m) => m.ToString().ToLowerInvariant();
    }

    private static CloudSpec ReadCloud(YamlFields? fields)
    {
        var defaults = new CloudSpec();
        if (fields is null)
        {
            return defaults;
        }

        return new CloudSpec
        {
            Enabled = fields.Boolean("enabled") ?? defaults.Enabled,
            Servers = fields.Integer("servers", NumberRange.Between(1, MaxCount)) ?? defaults.Servers,
            CpuPerServer = fields.Number("cpuPerServer", NumberRange.Positive(MaxCpu)) ?? defaults.CpuPerServer,
        };
    }

    private static RttModel ReadRtt(YamlFields? fields)
    {
        var defaults = new RttModel();
        if (fields is null)
        {
            return defaults;
        }

        return new RttModel(
            fields.Number("accessBaseMs", NumberRange.NonNegative(10_000)) ?? defaults.AccessBaseMs,
            fields.Number("perKmMs", NumberRange.NonNegative(100)) ?? defaults.PerKmMs,
            fields.Number("interSiteHopMs", NumberRange.NonNegative(10_000)) ?? defaults.InterSiteHopMs,
            fields.Number("cloudBackhaulMs", NumberRange.NonNegative(10_000)) ?? defaults.CloudBackhaulMs);
    }

    private static IReadOnlyList<NetworkEventSpec> ReadNetwork(YamlFields? fields)
    {
        if (fields is null)
        {
            return [];
        }

        IReadOnlyList<YamlNode> items = fields.Sequence("events") ?? [];
        var events = new List<NetworkEventSpec>(items.Count);
        for (int i = 0; i < items.Count; i++)
        {
            string path = $"{fields.Child("events")}[{i}]";
            var e = new YamlFields(fields.Context, items[i], path, _networkEventFields);
            string? link = e.Text("link")?.Trim();
            string? site = e.Text("site")?.Trim();
            if ((link is null) == (site is null))
            {
                throw link is null
                    ? e.Context.Error($"{path}.link", "an event names either a link (\"src-3->site-2\", \"site-1->cloud\") or a site (site: site-2)", e.Line)
                    : e.Error("site", "give either link or site, not both");
            }

            if (link is not null && ParseLink(link) is null)
            {
                throw e.Error("link", $"'{link}' is not a link; write FROM->TO, e.g. \"src-3->site-2\" or \"site-1->cloud\"");
            }

            double from = Duration(e, "from", required: true)!.Value;
            double to = Duration(e, "to", required: true)!.Value;
            if (!(to > from))
            {
                throw e.Error("to", "must be later than from");
            }

            double? latency = e.Number("addLatencyMs", NumberRange.NonNegative(MaxMs));
            double? bandwidth = e.Number("bandwidthMbps", NumberRange.Positive(1e9));
            if (latency is null && bandwidth is null)
            {
                throw e.Context.Error($"{path}.addLatencyMs", "an event must set addLatencyMs, bandwidthMbps or both", e.Line);
            }

            events.Add(new NetworkEventSpec(link, site, from, to, latency ?? 0, bandwidth, path));
        }

        return events;
    }

    /// <summary>Splits <c>FROM-&gt;TO</c>; null when it is not of that shape.</summary>
    internal static (string From, string To)? ParseLink(string text)
    {
        int arrow = text.IndexOf("->", StringComparison.Ordinal);
        if (arrow <= 0 || arrow != text.LastIndexOf("->", StringComparison.Ordinal))
        {
            return null;
        }

        string from = text[..arrow].Trim();
        string to = text[(arrow + 2)..].Trim();
        return from.Length == 0 || to.Length == 0 ? null : (from, to);
    }

    /// <summary>A trace-time offset: seconds, or units such as <c>2d</c>, <c>2d6h</c>, <c>90m</c>, <c>1h30m15s</c>.</summary>
    private static double? Duration(YamlFields fields, string name, bool required)
    {
        if (fields.Value(name) is YamlScalarNode { Value: { } raw } && !double.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out _))
        {
            return ParseDuration(raw.Trim()) is double seconds && seconds <= 1e12
                ? seconds
                : throw fields.Error(name, $"'{raw}' is not a time such as 2d, 2d6h, 90m or 3600 (trace seconds)");
        }

        return fields.Number(name, NumberRange.NonNegative(1e12), required);
    }

    internal static double? ParseDuration(string text)
    {
        double total = 0;
        int i = 0;
        bool any = false;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && (char.IsAsciiDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }

            if (i == start || i == text.Length
                || !double.TryParse(text.AsSpan(start, i - start), NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                return null;
            }

            double unit = text[i] switch
            {
                'd' => 86_400,
                'h' => 3600,
                'm' => 60,
                's' => 1,
                _ => double.NaN,
            };
            if (double.IsNaN(unit))
            {
                return null;
            }

            total += value * unit;
            any = true;
            i++;
        }

        return any ? total : null;
    }

    private static IReadOnlyList<AppSpec> ReadApps(YamlFields top, YamlContext context)
    {
        if (!top.Has("apps"))
        {
            throw context.Error("apps", "required field is missing: list at least one application", top.Line);
        }

        IReadOnlyList<YamlNode> items = top.Sequence("apps") ?? throw top.Error("apps", "list at least one application");
        if (items.Count == 0)
        {
            throw top.Error("apps", "list at least one application");
        }

        var apps = new List<AppSpec>(items.Count);
        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        double shareSum = 0;
        for (int i = 0; i < items.Count; i++)
        {
            apps.Add(ReadApp(new YamlFields(context, items[i], $"apps[{i}]", _appFields), names, i));
            shareSum += apps[i].Share ?? 0;
        }

        if (shareSum > 1 + 1e-9)
        {
            throw top.Error("apps", $"the apps' shares of the trace sum to {shareSum.ToString("0.###", CultureInfo.InvariantCulture)}; they must sum to at most 1");
        }

        if (shareSum >= 1 - 1e-9 && apps.Any(a => a.Share is null))
        {
            throw top.Error("apps", "the shares given already sum to 1, leaving nothing for the apps without a share");
        }

        return apps;
    }

    private static string DefaultOf(string field)
    {
        // Only reached on an error about an absent field, so reflection's cost does not matter.
        object? value = typeof(AppProfile).GetProperty(char.ToUpperInvariant(field[0]) + field[1..])?.GetValue(new AppProfile { Name = "default" });
        return Convert.ToString(value, CultureInfo.InvariantCulture) ?? "?";
    }

    private static AppSpec ReadApp(YamlFields app, Dictionary<string, int> names, int index)
    {
        string name = app.Text("name", required: true)!.Trim();
        if (names.TryGetValue(name, out int first))
        {
            throw app.Error("name", $"duplicate app name '{name}' (also apps[{first}])");
        }

        names[name] = index;
        AppProfile profile = ReadProfile(app, name);

        return new AppSpec
        {
            Profile = profile,
            Share = app.Number("share", NumberRange.Positive(1)),
            PeakRps = app.Number("peakRps", NumberRange.Positive(1e9)),
        };
    }

    /// <summary>Reads an app profile's QoS fields (the names AppProfile uses) and validates it.</summary>
    internal static AppProfile ReadProfile(YamlFields app, string name)
    {
        var d = new AppProfile { Name = name };

        // Ranges here catch types and absurd magnitudes; AppProfile.Validate owns the semantic rules.
        var profile = new AppProfile
        {
            Name = name,
            LatencySloMs = app.Number("latencySloMs", NumberRange.Between(double.MinValue, MaxMs)) ?? d.LatencySloMs,
            ServiceTimeMs = app.Number("serviceTimeMs", NumberRange.Between(double.MinValue, MaxMs)) ?? d.ServiceTimeMs,
            Concurrency = app.Integer("concurrency", NumberRange.Between(int.MinValue, MaxCount)) ?? d.Concurrency,
            ColdStartSeconds = app.Number("coldStartSeconds", NumberRange.Between(double.MinValue, MaxSeconds)) ?? d.ColdStartSeconds,
            WarmupSeconds = app.Number("warmupSeconds", NumberRange.Between(double.MinValue, MaxSeconds)) ?? d.WarmupSeconds,
            WarmupStartCapacity = app.Number("warmupStartCapacity", NumberRange.Between(double.MinValue, 1e6)) ?? d.WarmupStartCapacity,
            MinInstances = app.Integer("minInstances", NumberRange.Between(int.MinValue, MaxCount)) ?? d.MinInstances,
            MaxInstances = app.Integer("maxInstances", NumberRange.Between(int.MinValue, MaxCount)) ?? d.MaxInstances,
            QueueLimitPerInstance = app.Integer("queueLimitPerInstance", NumberRange.Between(int.MinValue, 100_000_000)) ?? d.QueueLimitPerInstance,
            DrainSeconds = app.Number("drainSeconds", NumberRange.Between(double.MinValue, MaxSeconds)) ?? d.DrainSeconds,
            RequestKb = app.Number("requestKb", NumberRange.Between(double.MinValue, 1e9)) ?? d.RequestKb,
            ResponseKb = app.Number("responseKb", NumberRange.Between(double.MinValue, 1e9)) ?? d.ResponseKb,
            MissCost = app.Number("missCost", NumberRange.Between(double.MinValue, 1e9)),
        };

        if (app.Text("reactive") is { } reactive)
        {
            profile = ReactiveAlgorithms.TryParse(reactive, out ReactiveAlgorithm algorithm)
                ? profile with { Reactive = algorithm }
                : throw app.Error("reactive", $"'{reactive}' is not a reactive algorithm; choose {string.Join(" or ", ReactiveAlgorithms.Names)}");
        }

        if (profile.Validate() is { } problem)
        {
            int colon = problem.IndexOf(':', StringComparison.Ordinal);
            string field = colon > 0 ? problem[..colon] : "name";
            string message = colon > 0 ? problem[(colon + 1)..].Trim() : problem;
            throw app.Has(field) ? app.Error(field, message) : new InvalidInputException(
                app.Context.File, $"{message}; it is not set, so its default {DefaultOf(field)} applies", app.KeyLine, app.Child(field));
        }

        return profile;
    }
}
