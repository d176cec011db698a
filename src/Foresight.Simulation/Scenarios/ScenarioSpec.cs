using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Core.Topology;

namespace Foresight.Simulation.Scenarios;

/// <summary>
/// A scenario file: the trace to replay, how trace time maps to simulated time, the topology and the applications.
/// Every field except <see cref="Name"/>, <see cref="Trace"/> and <see cref="Apps"/> has a default.
/// Relative paths resolve against <see cref="SpecOrigin.BaseDirectory"/>; <c>data:</c> paths against the shared data folder.
/// </summary>
public sealed record ScenarioSpec
{
    public required string Name { get; init; }

    public string Description { get; init; } = "";

    /// <summary>The trace file: <c>data:folder/file.csv.gz</c>, or a path relative to the scenario file.</summary>
    public required string Trace { get; init; }

    /// <summary>Optional sources file with coordinates; null lays sources out on a ring.</summary>
    public string? Sources { get; init; }

    /// <summary>Trace seconds replayed per simulated second (60 replays one trace hour in one simulated minute).</summary>
    public double TimeScale { get; init; } = 1;

    /// <summary>Start of the replayed window, in trace seconds from the trace's first row.</summary>
    public double TraceStart { get; init; }

    /// <summary>Length of the replayed window in trace seconds; null replays to the end of the trace.</summary>
    public double? TraceDuration { get; init; }

    /// <summary>
    /// Trace second (from the trace's first row) where the traffic changes regime (a lockdown ending, a holiday);
    /// results then split SLO violations before and after it. Null: no declared change.
    /// </summary>
    public double? RegimeChangeAt { get; init; }

    /// <summary>
    /// A synthetic move of the traffic at <see cref="RegimeChangeAt"/>: <c>rotate</c> makes every source replay the
    /// column of the source half the list away from then on, so each site's real traffic is suddenly another place's.
    /// Null keeps the trace as it is (the change is then whatever the trace itself does there).
    /// </summary>
    public string? RegimeChangeRemap { get; init; }

    public int Seed { get; init; } = 42;

    /// <summary>Simulated seconds per fluid step.</summary>
    public double StepSeconds { get; init; } = 1;

    /// <summary>Target utilisation shared by every policy, so that no policy is tuned against another.</summary>
    public double TargetUtilization { get; init; } = 0.7;

    public SitesSpec Sites { get; init; } = new();

    public CloudSpec Cloud { get; init; } = new();

    public RttModel Rtt { get; init; } = new();

    /// <summary>Scheduled link degradations (<c>network.events</c>); none leaves every link at its base RTT, uncapped.</summary>
    public IReadOnlyList<NetworkEventSpec> Network { get; init; } = [];

    /// <summary>
    /// Whether policies and routing see the live network (<c>network.observed</c>, default true); false is an ablation
    /// that places and routes by static distance while the links still degrade.
    /// </summary>
    public bool NetworkObserved { get; init; } = true;

    public required IReadOnlyList<AppSpec> Apps { get; init; }

    /// <summary>Where the spec came from, for error messages and relative paths.</summary>
    public SpecOrigin Origin { get; init; } = SpecOrigin.InCode;

    /// <summary>
    /// The share of each source's wide-trace volume that belongs to app <paramref name="app"/>:
    /// its own <c>share</c>, or an equal split of what the apps with a share leave over.
    /// </summary>
    public double ShareOf(int app)
    {
        if (Apps[app].Share is double given)
        {
            return given;
        }

        double assigned = 0;
        int unassigned = 0;
        foreach (AppSpec spec in Apps)
        {
            if (spec.Share is double s)
            {
                assigned += s;
            }
            else
            {
                unassigned++;
            }
        }

        return Math.Max(0, 1 - assigned) / unassigned;
    }

    /// <summary>The trace's full path. Throws <see cref="InvalidInputException"/> naming field <c>trace</c> when it does not exist.</summary>
    public string ResolveTracePath() => ResolveExisting(Trace, "trace");

    /// <summary>The sources file's full path, or null when there is none. Throws when it is named but does not exist.</summary>
    public string? ResolveSourcesPath() => Sources is null ? null : ResolveExisting(Sources, "sources");

    /// <summary>
    /// Replaces the trace and sources with paths given on the command line (relative to the current directory).
    /// A new trace without a new sources file drops the scenario's sources: they belong to the old trace.
    /// </summary>
    public ScenarioSpec WithTraceOverride(string? trace, string? sources)
    {
        if (trace is null && sources is null)
        {
            return this;
        }

        return this with
        {
            Trace = trace is null ? Trace : AbsoluteUnlessDataRef(trace),
            Sources = sources is not null ? AbsoluteUnlessDataRef(sources) : trace is not null ? null : Sources,
        };
    }

    private static string AbsoluteUnlessDataRef(string path) => DataPaths.IsDataRef(path) ? path : Path.GetFullPath(path);

    private string ResolveExisting(string reference, string field)
    {
        string path;
        try
        {
            path = DataPaths.Resolve(reference, Origin.BaseDirectory);
        }
        catch (InvalidInputException e)
        {
            throw new InvalidInputException(Origin.File, e.Problem, Origin.LineOf(field), field, e);
        }

        if (!File.Exists(path))
        {
            throw new InvalidInputException(Origin.File, $"file not found: {path} (from '{reference}')", Origin.LineOf(field), field);
        }

        return path;
    }
}

public enum SiteMethod
{
    /// <summary>k-means++ on source coordinates, weighted by each source's traffic.</summary>
    KMeans,

    /// <summary>Square grid cells sized to give about k non-empty cells; one site per cell.</summary>
    Grid,

    /// <summary>One site at the traffic-weighted centroid.</summary>
    Single,

    /// <summary>Sites listed in the scenario.</summary>
    Explicit,
}

/// <summary>How edge sites are derived and how much hardware each has.</summary>
public sealed record SitesSpec
{
    public SiteMethod Method { get; init; } = SiteMethod.KMeans;

    /// <summary>Number of sites for kmeans and grid (clamped to the number of distinct source positions).</summary>
    public int K { get; init; } = 8;

    public int ServersPerSite { get; init; } = 2;

    public double CpuPerServer { get; init; } = 32;

    /// <summary>Radius of the ring that sources without coordinates are laid out on.</summary>
    public double RingRadiusKm { get; init; } = 5;

    public IReadOnlyList<ExplicitSiteSpec> Explicit { get; init; } = [];
}

/// <summary>A site given in the scenario (method: explicit).</summary>
public sealed record ExplicitSiteSpec(string Id, double XKm, double YKm, int Servers, double CpuPerServer);

/// <summary>The central cloud site, reached over backhaul.</summary>
public sealed record CloudSpec
{
    public bool Enabled { get; init; } = true;

    public int Servers { get; init; } = 8;

    public double CpuPerServer { get; init; } = 64;
}

/// <summary>
/// One <c>network.events</c> entry as written: a <see cref="Link"/> (<c>FROM-&gt;TO</c>, FROM a source or site, TO a
/// site) or a <see cref="Site"/> (its own link), degraded over trace seconds [<see cref="From"/>, <see cref="To"/>).
/// Ids are checked against the topology once it is built.
/// </summary>
/// <param name="FieldPath">Its place in the file (<c>network.events[0]</c>), for error messages.</param>
public sealed record NetworkEventSpec(
    string? Link,
    string? Site,
    double From,
    double To,
    double AddLatencyMs,
    double? BandwidthMbps,
    string FieldPath);

/// <summary>An application of the scenario: its profile plus how its traffic is derived from the trace.</summary>
public sealed record AppSpec
{
    public required AppProfile Profile { get; init; }

    /// <summary>Fraction of each source's wide-trace volume that is this app's traffic; null splits what is left equally. Ignored for long traces.</summary>
    public double? Share { get; init; }

    /// <summary>Total requests per simulated second of this app at the trace's busiest row; null keeps the trace's own rate.</summary>
    public double? PeakRps { get; init; }

    public string Name => Profile.Name;
}

/// <summary>The file a spec was read from, the directory its relative paths start at, and the YAML line of each field path.</summary>
public sealed record SpecOrigin(string File, string BaseDirectory, IReadOnlyDictionary<string, long> FieldLines)
{
    public static SpecOrigin InCode { get; } = new("<scenario>", "", new Dictionary<string, long>());

    /// <summary>The 1-based line of a field path such as <c>apps[1].coldStartSeconds</c>, when known.</summary>
    public long? LineOf(string fieldPath) => FieldLines.TryGetValue(fieldPath, out long line) ? line : null;
}
