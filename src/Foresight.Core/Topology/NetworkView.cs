namespace Foresight.Core.Topology;

/// <summary>
/// Network conditions between sites as a controller measures them now (probes and link counters), never as a
/// scenario schedules them: per path from an ingress site to a serving site, the live round-trip time, the bottleneck
/// link's bandwidth and its measured utilisation. Indexed like <see cref="EdgeTopology"/>'s sites. An immutable value.
/// </summary>
public sealed class NetworkView
{
    /// <summary>
    /// Utilisation from which a path counts as saturated. Past it an M/M/1 link's queueing delay is already ten times
    /// its transmission time and grows without bound, so planners treat the path as full.
    /// </summary>
    public const double SaturatedUtilization = 0.9;

    /// <summary>
    /// Queueing delay a saturated link adds: a router buffer sized to about 100 ms of traffic, the usual
    /// rule of thumb (one RTT of a long path). Planners charge it to a saturated path.
    /// </summary>
    public const double SaturatedDelayMs = 100;

    private readonly double[] _rttMs;
    private readonly double[] _pathCapacityMbps;
    private readonly double[] _siteCapacityMbps;
    private readonly double[] _utilization;
    private (double Cost, int From, int To)[]? _pathsByCost;

    /// <param name="sites">Number of sites.</param>
    /// <param name="rttMs">[from * sites + to] live RTT of the path, ms; at least the topology's base RTT.</param>
    /// <param name="pathCapacityMbps">[from * sites + to] bandwidth of the link between the two sites (the backhaul when
    /// one is the cloud); +∞ when uncapped.</param>
    /// <param name="siteCapacityMbps">[site] bandwidth of the site's own link, which every request it serves crosses; +∞ when uncapped.</param>
    /// <param name="utilization">[from * sites + to] measured utilisation of the path's busiest capped link.</param>
    public NetworkView(int sites, double[] rttMs, double[] pathCapacityMbps, double[] siteCapacityMbps, double[] utilization)
    {
        ArgumentNullException.ThrowIfNull(rttMs);
        ArgumentNullException.ThrowIfNull(pathCapacityMbps);
        ArgumentNullException.ThrowIfNull(siteCapacityMbps);
        ArgumentNullException.ThrowIfNull(utilization);
        int n = sites * sites;
        if (sites < 1 || rttMs.Length != n || pathCapacityMbps.Length != n || siteCapacityMbps.Length != sites || utilization.Length != n)
        {
            throw new ArgumentException("Every path of the site matrix needs an RTT, a capacity and a utilisation.", nameof(rttMs));
        }

        SiteCount = sites;
        _rttMs = rttMs;
        _pathCapacityMbps = pathCapacityMbps;
        _siteCapacityMbps = siteCapacityMbps;
        _utilization = utilization;
    }

    public int SiteCount { get; }

    /// <summary>Live RTT from ingress site <paramref name="from"/> to serving site <paramref name="to"/>, ms.</summary>
    public double RttMs(int from, int to) => _rttMs[(from * SiteCount) + to];

    /// <summary>Bandwidth of the link between the two sites in Mbit/s; +∞ when uncapped.</summary>
    public double PathCapacityMbps(int from, int to) => _pathCapacityMbps[(from * SiteCount) + to];

    /// <summary>Bandwidth of a site's own link (shared by every path into it) in Mbit/s; +∞ when uncapped.</summary>
    public double SiteCapacityMbps(int site) => _siteCapacityMbps[site];

    /// <summary>Bandwidth of the path's narrowest link in Mbit/s; +∞ when no link on it is capped.</summary>
    public double CapacityMbps(int from, int to) => Math.Min(PathCapacityMbps(from, to), SiteCapacityMbps(to));

    /// <summary>Measured utilisation (offered load / bandwidth) of the path's busiest capped link; 0 when uncapped.</summary>
    public double Utilization(int from, int to) => _utilization[(from * SiteCount) + to];

    public bool IsSaturated(int from, int to) => Utilization(from, to) >= SaturatedUtilization;

    /// <summary>
    /// What target choice charges for serving traffic of <paramref name="from"/> at <paramref name="to"/>: the live RTT,
    /// plus a full buffer's delay when the path is saturated.
    /// </summary>
    public double CostMs(int from, int to) => RttMs(from, to) + (IsSaturated(from, to) ? SaturatedDelayMs : 0);

    /// <summary>
    /// Every (ingress, destination) path, cheapest <see cref="CostMs"/> first, ties by index. Computed once per view,
    /// since every app planned against it walks the same order.
    /// </summary>
    public IReadOnlyList<(double Cost, int From, int To)> PathsByCost
    {
        get
        {
            if (_pathsByCost is null)
            {
                int n = SiteCount;
                var pairs = new (double Cost, int From, int To)[n * n];
                for (int i = 0; i < n; i++)
                {
                    for (int j = 0; j < n; j++)
                    {
                        pairs[(i * n) + j] = (CostMs(i, j), i, j);
                    }
                }

                Array.Sort(pairs);
                _pathsByCost = pairs;
            }

            return _pathsByCost;
        }
    }

    /// <summary>The topology's static conditions: base RTTs, no caps.</summary>
    public static NetworkView Static(EdgeTopology topology)
    {
        ArgumentNullException.ThrowIfNull(topology);
        int n = topology.SiteCount;
        var rtt = new double[n * n];
        var capacity = new double[n * n];
        for (int a = 0; a < n; a++)
        {
            for (int b = 0; b < n; b++)
            {
                rtt[(a * n) + b] = topology.SiteRttMs(a, b);
                capacity[(a * n) + b] = double.PositiveInfinity;
            }
        }

        return new NetworkView(n, rtt, capacity, Enumerable.Repeat(double.PositiveInfinity, n).ToArray(), new double[n * n]);
    }
}
