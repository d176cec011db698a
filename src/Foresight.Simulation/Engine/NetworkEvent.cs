namespace Foresight.Simulation.Engine;

/// <summary>Which link a <see cref="NetworkEvent"/> degrades.</summary>
public enum LinkKind
{
    /// <summary>A site's own link: every request the site serves crosses it (<c>site: site-2</c>).</summary>
    Site,

    /// <summary>The link from one site to another, or a site's backhaul to the cloud (<c>link: site-1-&gt;cloud</c>).</summary>
    Path,

    /// <summary>The access path from a source area to a site (<c>link: src-3-&gt;site-2</c>).</summary>
    Source,
}

/// <summary>
/// A scheduled degradation of one link, in simulated seconds: extra RTT and, optionally, a bandwidth cap, while
/// <see cref="StartSeconds"/> ≤ t &lt; <see cref="EndSeconds"/>. Overlapping events on a link add their latencies
/// and the tightest cap applies.
/// </summary>
/// <param name="From">The source index (<see cref="LinkKind.Source"/>), the from-site index (<see cref="LinkKind.Path"/>), or -1 (<see cref="LinkKind.Site"/>).</param>
/// <param name="To">The site index the link leads to.</param>
public sealed record NetworkEvent(
    LinkKind Kind,
    int From,
    int To,
    double StartSeconds,
    double EndSeconds,
    double AddLatencyMs,
    double? BandwidthMbps)
{
    public bool IsActiveAt(double t) => t >= StartSeconds && t < EndSeconds;
}
