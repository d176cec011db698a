namespace Foresight.Core.Topology;

/// <summary>
/// Round-trip time model. Edge-to-edge RTT grows with distance and hops; the cloud is reached over backhaul.
/// Defaults follow typical metro fibre figures: ~0.01 ms/km each way (so 0.02 ms/km RTT) plus per-hop switching.
/// </summary>
public sealed record RttModel(
    double AccessBaseMs = 2.0,
    double PerKmMs = 0.02,
    double InterSiteHopMs = 1.0,
    double CloudBackhaulMs = 25.0)
{
    /// <summary>RTT from a source to the ingress site that serves it (radio/access network plus metro distance).</summary>
    public double AccessMs(double distanceKm) => AccessBaseMs + (PerKmMs * distanceKm);

    /// <summary>Extra RTT when a request is forwarded from its ingress site to another site.</summary>
    public double BetweenSitesMs(Site from, Site to)
    {
        if (from.Id == to.Id)
        {
            return 0;
        }

        if (from.Kind == SiteKind.Cloud || to.Kind == SiteKind.Cloud)
        {
            return CloudBackhaulMs;
        }

        return InterSiteHopMs + (PerKmMs * Distance(from.XKm, from.YKm, to.XKm, to.YKm));
    }

    public static double Distance(double x1, double y1, double x2, double y2)
    {
        double dx = x1 - x2;
        double dy = y1 - y2;
        return Math.Sqrt((dx * dx) + (dy * dy));
    }
}
