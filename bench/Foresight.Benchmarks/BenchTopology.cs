using Foresight.Core.Topology;

namespace Foresight.Benchmarks;

/// <summary>The decision benchmarks' cluster: sites on a 5 km grid, ten to a row, each with one large server and one source.</summary>
internal static class BenchTopology
{
    public static EdgeTopology Grid(int siteCount)
    {
        var sites = Enumerable.Range(0, siteCount).Select(i => new Site($"site-{i}", (i % 10) * 5, (i / 10) * 5)).ToList();
        return new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 4096)).ToList(),
            sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(),
            Enumerable.Range(0, siteCount).ToArray(),
            new RttModel());
    }
}
