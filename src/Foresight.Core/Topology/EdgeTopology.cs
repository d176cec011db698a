namespace Foresight.Core.Topology;

/// <summary>
/// Sites, servers and sources with precomputed latencies. Indices are stable: site i is <c>Sites[i]</c>,
/// and <c>IngressSite[s]</c> is the index of the site whose gateway receives source s's traffic.
/// </summary>
public sealed class EdgeTopology
{
    private readonly double[] _siteRttMs;
    private readonly Dictionary<string, int> _siteIndex;
    private readonly Dictionary<string, int> _sourceIndex;

    public EdgeTopology(
        IReadOnlyList<Site> sites,
        IReadOnlyList<Server> servers,
        IReadOnlyList<Source> sources,
        IReadOnlyList<int> ingressSite,
        RttModel rtt)
    {
        ArgumentNullException.ThrowIfNull(sites);
        ArgumentNullException.ThrowIfNull(servers);
        ArgumentNullException.ThrowIfNull(sources);
        ArgumentNullException.ThrowIfNull(ingressSite);
        if (sites.Count == 0)
        {
            throw new ArgumentException("A topology needs at least one site.", nameof(sites));
        }

        if (ingressSite.Count != sources.Count)
        {
            throw new ArgumentException("Every source needs an ingress site.", nameof(ingressSite));
        }

        Sites = sites;
        Servers = servers;
        Sources = sources;
        IngressSite = ingressSite;
        Rtt = rtt;
        _siteIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < sites.Count; i++)
        {
            if (!_siteIndex.TryAdd(sites[i].Id, i))
            {
                throw new ArgumentException($"Duplicate site id '{sites[i].Id}'.", nameof(sites));
            }
        }

        _sourceIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < sources.Count; i++)
        {
            if (!_sourceIndex.TryAdd(sources[i].Id, i))
            {
                throw new ArgumentException($"Duplicate source id '{sources[i].Id}'.", nameof(sources));
            }

            if (ingressSite[i] < 0 || ingressSite[i] >= sites.Count)
            {
                throw new ArgumentException($"Source '{sources[i].Id}' has no valid ingress site.", nameof(ingressSite));
            }
        }

        foreach (Server server in servers)
        {
            if (!_siteIndex.ContainsKey(server.SiteId))
            {
                throw new ArgumentException($"Server '{server.Id}' names unknown site '{server.SiteId}'.", nameof(servers));
            }
        }

        int n = sites.Count;
        _siteRttMs = new double[n * n];
        for (int a = 0; a < n; a++)
        {
            for (int b = 0; b < n; b++)
            {
                _siteRttMs[(a * n) + b] = rtt.BetweenSitesMs(sites[a], sites[b]);
            }
        }

        var access = new double[sources.Count];
        for (int s = 0; s < sources.Count; s++)
        {
            Site home = sites[ingressSite[s]];
            double km = home.Kind == SiteKind.Cloud ? 0 : RttModel.Distance(sources[s].XKm, sources[s].YKm, home.XKm, home.YKm);
            access[s] = rtt.AccessMs(km);
        }

        AccessMs = access;
    }

    public IReadOnlyList<Site> Sites { get; }

    public IReadOnlyList<Server> Servers { get; }

    public IReadOnlyList<Source> Sources { get; }

    public IReadOnlyList<int> IngressSite { get; }

    public RttModel Rtt { get; }

    /// <summary>Access RTT of each source to its ingress site, in ms.</summary>
    public IReadOnlyList<double> AccessMs { get; }

    public int SiteCount => Sites.Count;

    public double SiteRttMs(int fromSite, int toSite) => _siteRttMs[(fromSite * Sites.Count) + toSite];

    public int SiteIndex(string siteId) =>
        _siteIndex.TryGetValue(siteId, out int i) ? i : throw new KeyNotFoundException($"Unknown site '{siteId}'.");

    public bool TryGetSiteIndex(string siteId, out int index) => _siteIndex.TryGetValue(siteId, out index);

    public bool TryGetSourceIndex(string sourceId, out int index) => _sourceIndex.TryGetValue(sourceId, out index);

    public double SiteCpuCapacity(int site)
    {
        string id = Sites[site].Id;
        double total = 0;
        foreach (Server server in Servers)
        {
            if (server.SiteId == id)
            {
                total += server.CpuCores;
            }
        }

        return total;
    }
}
