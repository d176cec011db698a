using Foresight.Core.Topology;

namespace Foresight.Control.Placement;

/// <summary>
/// Bandwidth still unplanned on capped links during one planning pass, in Mbit/s. Apps planned one after another in
/// the same pass draw from one budget, so together they keep a shared link below its planned utilisation (the first
/// app planned is served first). Uncapped links have an infinite budget.
/// </summary>
public sealed class LinkBudget
{
    private readonly int _sites;
    private readonly double[] _siteMbps;
    private readonly double[] _pathMbps;

    public LinkBudget(NetworkView network, double maxUtilization)
    {
        ArgumentNullException.ThrowIfNull(network);
        _sites = network.SiteCount;
        _siteMbps = new double[_sites];
        _pathMbps = new double[_sites * _sites];
        for (int d = 0; d < _sites; d++)
        {
            _siteMbps[d] = network.SiteCapacityMbps(d) * maxUtilization;
            for (int i = 0; i < _sites; i++)
            {
                _pathMbps[(i * _sites) + d] = i == d ? double.PositiveInfinity : network.PathCapacityMbps(i, d) * maxUtilization;
            }
        }
    }

    /// <summary>Requests per second of <paramref name="megabitsPerRequest"/> each that the path still takes; +∞ when uncapped.</summary>
    public double RoomRps(int from, int to, double megabitsPerRequest)
    {
        double mbps = Math.Min(_siteMbps[to], _pathMbps[(from * _sites) + to]);
        return double.IsPositiveInfinity(mbps) || !(megabitsPerRequest > 0) ? double.PositiveInfinity : Math.Max(0, mbps) / megabitsPerRequest;
    }

    /// <summary>Plans <paramref name="rps"/> requests per second over the path.</summary>
    public void Use(int from, int to, double rps, double megabitsPerRequest)
    {
        double mbps = rps * Math.Max(0, megabitsPerRequest);
        _siteMbps[to] -= mbps;
        _pathMbps[(from * _sites) + to] -= mbps;
    }
}
