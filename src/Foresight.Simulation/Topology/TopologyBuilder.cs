using System.Globalization;
using Foresight.Core.Topology;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Topology;

/// <summary>Identifiers of generated sites and servers.</summary>
public static class TopologyNames
{
    public const string CloudSiteId = "cloud";

    public static string EdgeSite(int index) => $"site-{index}";

    public static string Server(string siteId, int index) => $"{siteId}/server-{index}";
}

/// <summary>
/// Derives the edge topology of a scenario from its sources: sites by clustering (k-means, grid), one site, or the
/// sites listed in the scenario; every source enters at its nearest edge site; each edge site gets its servers and
/// the cloud site (id <c>cloud</c>) is added when enabled. Pure and deterministic: same spec, sources and weights, same topology.
/// </summary>
public static class TopologyBuilder
{
    /// <summary>Builds the topology, discarding warnings.</summary>
    public static EdgeTopology Build(ScenarioSpec spec, IReadOnlyList<Source> sources, double[]? weights = null) =>
        Build(spec, sources, weights, out _);

    /// <summary>
    /// Builds the topology. <paramref name="weights"/> (one per source, e.g. its total trace volume) weight the
    /// clustering so that sources without traffic do not pull sites towards them; null weights every source equally.
    /// </summary>
    public static EdgeTopology Build(ScenarioSpec spec, IReadOnlyList<Source> sources, double[]? weights, out IReadOnlyList<string> warnings)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(sources);
        if (weights is not null && weights.Length != sources.Count)
        {
            throw new ArgumentException("One weight is needed per source.", nameof(weights));
        }

        foreach (Source source in sources)
        {
            if (!double.IsFinite(source.XKm) || !double.IsFinite(source.YKm))
            {
                throw new ArgumentException($"Source '{source.Id}' has no finite coordinates.", nameof(sources));
            }
        }

        var notes = new List<string>();
        double[] x = sources.Select(s => s.XKm).ToArray();
        double[] y = sources.Select(s => s.YKm).ToArray();
        double[] w = KMeans.EffectiveWeights(weights, sources.Count);

        List<Site> edgeSites;
        List<int> serversPerSite;
        List<double> cpuPerServer;
        if (spec.Sites.Method == SiteMethod.Explicit)
        {
            edgeSites = spec.Sites.Explicit.Select(e => new Site(e.Id, e.XKm, e.YKm)).ToList();
            serversPerSite = spec.Sites.Explicit.Select(e => e.Servers).ToList();
            cpuPerServer = spec.Sites.Explicit.Select(e => e.CpuPerServer).ToList();
        }
        else
        {
            (double X, double Y)[] centres = sources.Count == 0
                ? [(0.0, 0.0)]
                : spec.Sites.Method switch
                {
                    SiteMethod.Single => [Centroid(x, y, w)],
                    SiteMethod.Grid => GridCentres(x, y, w, spec.Sites.K, notes),
                    _ => KMeansCentres(x, y, w, spec.Sites.K, spec.Seed, notes),
                };

            // Ids follow position (west to east, then south to north) so they do not depend on the clustering's internals.
            Array.Sort(centres, (a, b) => a.X != b.X ? a.X.CompareTo(b.X) : a.Y.CompareTo(b.Y));
            edgeSites = centres.Select((c, i) => new Site(TopologyNames.EdgeSite(i), c.X, c.Y)).ToList();
            serversPerSite = Enumerable.Repeat(spec.Sites.ServersPerSite, edgeSites.Count).ToList();
            cpuPerServer = Enumerable.Repeat(spec.Sites.CpuPerServer, edgeSites.Count).ToList();
        }

        var ingress = new int[sources.Count];
        double[] siteX = edgeSites.Select(s => s.XKm).ToArray();
        double[] siteY = edgeSites.Select(s => s.YKm).ToArray();
        for (int s = 0; s < sources.Count; s++)
        {
            ingress[s] = KMeans.Nearest(x[s], y[s], siteX, siteY);
        }

        var servers = new List<Server>();
        for (int i = 0; i < edgeSites.Count; i++)
        {
            for (int j = 0; j < serversPerSite[i]; j++)
            {
                servers.Add(new Server(TopologyNames.Server(edgeSites[i].Id, j), edgeSites[i].Id, cpuPerServer[i]));
            }
        }

        var sites = new List<Site>(edgeSites);
        if (spec.Cloud.Enabled)
        {
            // The cloud is reached over backhaul, not by distance; its position only matters for maps.
            (double cloudX, double cloudY) = sources.Count == 0 ? (0.0, 0.0) : Centroid(x, y, w);
            sites.Add(new Site(TopologyNames.CloudSiteId, cloudX, cloudY, SiteKind.Cloud));
            for (int j = 0; j < spec.Cloud.Servers; j++)
            {
                servers.Add(new Server(TopologyNames.Server(TopologyNames.CloudSiteId, j), TopologyNames.CloudSiteId, spec.Cloud.CpuPerServer));
            }
        }

        warnings = notes;
        return new EdgeTopology(sites, servers, sources, ingress, spec.Rtt);
    }

    /// <summary>
    /// Positions for sources that have no coordinates: evenly on a circle of <paramref name="radiusKm"/> in the given
    /// order, starting east and going counter-clockwise; a lone source sits at the origin.
    /// </summary>
    public static IReadOnlyList<Source> RingLayout(IReadOnlyList<string> ids, double radiusKm)
    {
        ArgumentNullException.ThrowIfNull(ids);
        if (ids.Count == 1)
        {
            return [new Source(ids[0], 0, 0)];
        }

        var result = new Source[ids.Count];
        for (int i = 0; i < ids.Count; i++)
        {
            double angle = 2 * Math.PI * i / ids.Count;
            result[i] = new Source(ids[i], Math.Round(radiusKm * Math.Cos(angle), 9), Math.Round(radiusKm * Math.Sin(angle), 9));
        }

        return result;
    }

    private static (double X, double Y) Centroid(double[] x, double[] y, double[] w)
    {
        double sx = 0, sy = 0, sw = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sx += w[i] * x[i];
            sy += w[i] * y[i];
            sw += w[i];
        }

        return (sx / sw, sy / sw);
    }

    private static (double X, double Y)[] KMeansCentres(double[] x, double[] y, double[] w, int k, int seed, List<string> notes)
    {
        int distinct = KMeans.DistinctWeightedPositions(x, y, w);
        if (k > distinct)
        {
            notes.Add($"sites.k = {k} but the sources have only {distinct} distinct positions with traffic; using {distinct} sites");
            k = distinct;
        }

        KMeansResult result = KMeans.Cluster(x, y, w, k, seed);
        return result.CenterX.Select((cx, i) => (cx, result.CenterY[i])).ToArray();
    }

    /// <summary>
    /// Square cells over the sources' bounding box: m cells across its longer side, with m chosen so that the number
    /// of cells holding traffic is as close to k as possible (the fewest cells on a tie). A site sits at the centre of
    /// each such cell.
    /// </summary>
    private static (double X, double Y)[] GridCentres(double[] x, double[] y, double[] w, int k, List<string> notes)
    {
        double minX = double.PositiveInfinity, minY = double.PositiveInfinity, maxX = double.NegativeInfinity, maxY = double.NegativeInfinity;
        for (int i = 0; i < x.Length; i++)
        {
            if (w[i] > 0)
            {
                minX = Math.Min(minX, x[i]);
                minY = Math.Min(minY, y[i]);
                maxX = Math.Max(maxX, x[i]);
                maxY = Math.Max(maxY, y[i]);
            }
        }

        double span = Math.Max(maxX - minX, maxY - minY);
        if (!(span > 0))
        {
            return [(minX, minY)];
        }

        int distinct = KMeans.DistinctWeightedPositions(x, y, w);
        int bestCells = 1;
        int bestCount = 1;
        for (int m = 2; m <= 4096 && bestCount < distinct; m++)
        {
            int count = Cells(x, y, w, minX, minY, span / m, m).Count;
            if (Math.Abs(count - k) < Math.Abs(bestCount - k))
            {
                bestCells = m;
                bestCount = count;
            }

            // Counts only grow (roughly as m²) from here; once well past k no finer grid can be closer.
            if (count >= distinct || count > 4 * k)
            {
                break;
            }
        }

        double size = span / bestCells;
        if (bestCount != k)
        {
            notes.Add(string.Create(
                CultureInfo.InvariantCulture,
                $"sites: the closest grid to sites.k = {k} has {size:0.###} km cells, {bestCount} of which hold traffic; using {bestCount} sites"));
        }

        return Cells(x, y, w, minX, minY, size, bestCells)
            .Select(c => (minX + ((c.Col + 0.5) * size), minY + ((c.Row + 0.5) * size)))
            .ToArray();
    }

    private static HashSet<(int Col, int Row)> Cells(double[] x, double[] y, double[] w, double minX, double minY, double size, int perSide)
    {
        var cells = new HashSet<(int, int)>();
        for (int i = 0; i < x.Length; i++)
        {
            if (w[i] > 0)
            {
                // The far edge of the box belongs to the last cell, not to a cell of its own.
                int col = Math.Min((int)Math.Floor((x[i] - minX) / size), perSide - 1);
                int row = Math.Min((int)Math.Floor((y[i] - minY) / size), perSide - 1);
                cells.Add((col, row));
            }
        }

        return cells;
    }
}
