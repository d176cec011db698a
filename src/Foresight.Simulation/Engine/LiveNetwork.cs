using Foresight.Core.Topology;

namespace Foresight.Simulation.Engine;

/// <summary>
/// The simulator's links and what the scenario's <see cref="NetworkEvent"/>s do to them over time. Each flow (an app's
/// requests from one ingress site to one serving site) crosses the serving site's own link, the link between the two
/// sites when they differ (a backhaul when one is the cloud), and the access links of its sources. A degraded link adds
/// RTT; a capped link is a FIFO whose offered load (requests × <c>AppProfile.MegabitsPerRequest</c>, every app)
/// adds an M/M/1 queueing delay below its bandwidth and, above it, drops the excess (1 − 1/ρ) and holds the rest for a
/// full buffer (<see cref="NetworkView.SaturatedDelayMs"/>). A link's state in a step follows the load it carried in the
/// step before, as its counters report it (a step is at most a second).
/// </summary>
internal sealed class LiveNetwork
{
    private readonly EdgeTopology _topology;
    private readonly IReadOnlyList<NetworkEvent> _events;
    private readonly int _n;
    private readonly bool[] _active;
    private readonly double[] _siteExtraMs;
    private readonly double[] _siteCapMbps;
    private readonly double[] _pathExtraMs;
    private readonly double[] _pathCapMbps;
    private readonly SourceLink[] _sourceLinks;
    private double[] _siteLoad;
    private double[] _siteLoadNext;
    private double[] _pathLoad;
    private double[] _pathLoadNext;
    private double[] _sourceLoad;
    private double[] _sourceLoadNext;
    private NetworkView? _view;

    public LiveNetwork(EdgeTopology topology, IReadOnlyList<NetworkEvent> events)
    {
        _topology = topology;
        _events = events;
        _n = topology.SiteCount;
        foreach (NetworkEvent e in events)
        {
            Validate(e, topology);
        }

        _active = new bool[events.Count];
        _siteExtraMs = new double[_n];
        _siteCapMbps = new double[_n];
        _pathExtraMs = new double[_n * _n];
        _pathCapMbps = new double[_n * _n];
        _sourceLinks = events
            .Where(e => e.Kind == LinkKind.Source)
            .Select(e => (e.From, e.To))
            .Distinct()
            .Select(p => new SourceLink(p.From, topology.IngressSite[p.From], p.To))
            .ToArray();
        _siteLoad = new double[_n];
        _siteLoadNext = new double[_n];
        _pathLoad = new double[_n * _n];
        _pathLoadNext = new double[_n * _n];
        _sourceLoad = new double[_sourceLinks.Length];
        _sourceLoadNext = new double[_sourceLinks.Length];
        Recompute();
    }

    /// <summary>Whether any event is in force: only then do flows pay for the network beyond their base RTT.</summary>
    public bool AnyActive { get; private set; }

    /// <summary>Applies the events in force at simulated time <paramref name="t"/>.</summary>
    public void Update(double t)
    {
        bool changed = false;
        for (int e = 0; e < _events.Count; e++)
        {
            bool active = _events[e].IsActiveAt(t);
            changed |= active != _active[e];
            _active[e] = active;
        }

        if (changed)
        {
            Recompute();
        }
    }

    /// <summary>Ends a step: the load just offered becomes the links' measured load.</summary>
    public void EndStep()
    {
        (_siteLoad, _siteLoadNext) = (_siteLoadNext, _siteLoad);
        (_pathLoad, _pathLoadNext) = (_pathLoadNext, _pathLoad);
        (_sourceLoad, _sourceLoadNext) = (_sourceLoadNext, _sourceLoad);
        Array.Clear(_siteLoadNext);
        Array.Clear(_pathLoadNext);
        Array.Clear(_sourceLoadNext);
        _view = null;
    }

    /// <summary>
    /// What the network does to one flow this step, and records the load it offers.
    /// </summary>
    /// <param name="intensity">The flow's requests per second.</param>
    /// <param name="ingressRate">All of the app's requests per second entering at <paramref name="ingress"/>.</param>
    /// <param name="sourceRates">The app's requests per second per source.</param>
    /// <returns>The RTT it adds (degradation plus link queueing), in ms, and the fraction of the flow dropped.</returns>
    public (double ExtraMs, double DropFraction) Flow(
        int ingress, int destination, double intensity, double ingressRate, ReadOnlySpan<double> sourceRates, double megabitsPerRequest)
    {
        int path = (ingress * _n) + destination;
        double offered = intensity * megabitsPerRequest;
        double extra = _siteExtraMs[destination] + _pathExtraMs[path];
        double keep = 1;
        (double delay, double drop) = LinkEffect(_siteLoad[destination], _siteCapMbps[destination], megabitsPerRequest);
        keep *= 1 - drop;
        _siteLoadNext[destination] += offered;
        if (ingress != destination)
        {
            (double d, double p) = LinkEffect(_pathLoad[path], _pathCapMbps[path], megabitsPerRequest);
            delay += d;
            keep *= 1 - p;
        }

        _pathLoadNext[path] += offered;
        double sourceDrop = 0;
        for (int k = 0; k < _sourceLinks.Length; k++)
        {
            SourceLink link = _sourceLinks[k];
            if (link.Ingress != ingress || link.Destination != destination || !(ingressRate > 0))
            {
                continue;
            }

            // The source's share of this flow rides its own access link.
            double weight = Math.Max(0, sourceRates[link.Source]) / ingressRate;
            (double d, double p) = LinkEffect(_sourceLoad[k], link.CapMbps, megabitsPerRequest);
            extra += weight * link.ExtraMs;
            delay += weight * d;
            sourceDrop += weight * p;
            _sourceLoadNext[k] += weight * offered;
        }

        keep *= 1 - Math.Min(1, sourceDrop);
        return (extra + delay, 1 - keep);
    }

    /// <summary>The conditions a controller would measure now (probe RTTs, link counters).</summary>
    public NetworkView View()
    {
        if (_view is not null)
        {
            return _view;
        }

        int n = _n;
        var rtt = new double[n * n];
        var utilization = new double[n * n];
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < n; d++)
            {
                int path = (i * n) + d;
                rtt[path] = _topology.SiteRttMs(i, d) + _siteExtraMs[d] + _pathExtraMs[path];
                double u = Utilization(_siteLoad[d], _siteCapMbps[d]);
                if (i != d)
                {
                    u = Math.Max(u, Utilization(_pathLoad[path], _pathCapMbps[path]));
                }

                utilization[path] = u;
            }
        }

        for (int k = 0; k < _sourceLinks.Length; k++)
        {
            // A degraded access link shows in its path's RTT by the share of the path's traffic it carries.
            SourceLink link = _sourceLinks[k];
            int path = (link.Ingress * n) + link.Destination;
            double total = _pathLoad[path];
            double share = total > 0 ? Math.Min(1, _sourceLoad[k] / total) : 0;
            rtt[path] += share * link.ExtraMs;
            utilization[path] = Math.Max(utilization[path], Utilization(_sourceLoad[k], link.CapMbps));
        }

        return _view = new NetworkView(n, rtt, (double[])_pathCapMbps.Clone(), (double[])_siteCapMbps.Clone(), utilization);
    }

    /// <summary>Delay (ms) and drop fraction of a FIFO link carrying <paramref name="loadMbps"/>.</summary>
    internal static (double DelayMs, double Drop) LinkEffect(double loadMbps, double capMbps, double megabitsPerRequest)
    {
        if (double.IsPositiveInfinity(capMbps))
        {
            return (0, 0);
        }

        double rho = loadMbps / capMbps;
        if (rho < 1)
        {
            // M/M/1 sojourn: transmission time / (1 - rho), bounded by the buffer.
            double transmissionMs = megabitsPerRequest / capMbps * 1000;
            return (Math.Min(transmissionMs / (1 - rho), NetworkView.SaturatedDelayMs), 0);
        }

        return (NetworkView.SaturatedDelayMs, 1 - (1 / rho));
    }

    private static double Utilization(double loadMbps, double capMbps) =>
        double.IsPositiveInfinity(capMbps) ? 0 : loadMbps / capMbps;

    private void Recompute()
    {
        Array.Clear(_siteExtraMs);
        Array.Clear(_pathExtraMs);
        Array.Fill(_siteCapMbps, double.PositiveInfinity);
        Array.Fill(_pathCapMbps, double.PositiveInfinity);
        foreach (SourceLink link in _sourceLinks)
        {
            link.ExtraMs = 0;
            link.CapMbps = double.PositiveInfinity;
        }

        bool any = false;
        for (int e = 0; e < _events.Count; e++)
        {
            if (!_active[e])
            {
                continue;
            }

            any = true;
            NetworkEvent ev = _events[e];
            double cap = ev.BandwidthMbps ?? double.PositiveInfinity;
            switch (ev.Kind)
            {
                case LinkKind.Site:
                    _siteExtraMs[ev.To] += ev.AddLatencyMs;
                    _siteCapMbps[ev.To] = Math.Min(_siteCapMbps[ev.To], cap);
                    break;
                case LinkKind.Path:
                    int path = (ev.From * _n) + ev.To;
                    _pathExtraMs[path] += ev.AddLatencyMs;
                    _pathCapMbps[path] = Math.Min(_pathCapMbps[path], cap);
                    break;
                case LinkKind.Source:
                    SourceLink link = _sourceLinks.First(l => l.Source == ev.From && l.Destination == ev.To);
                    link.ExtraMs += ev.AddLatencyMs;
                    link.CapMbps = Math.Min(link.CapMbps, cap);
                    break;
            }
        }

        AnyActive = any;
        _view = null;
    }

    private static void Validate(NetworkEvent e, EdgeTopology topology)
    {
        int sites = topology.SiteCount;
        bool fromOk = e.Kind switch
        {
            LinkKind.Site => true,
            LinkKind.Path => e.From >= 0 && e.From < sites && e.From != e.To,
            _ => e.From >= 0 && e.From < topology.Sources.Count,
        };
        if (!fromOk || e.To < 0 || e.To >= sites)
        {
            throw new ArgumentException($"Network event {e} names a link the topology does not have.", nameof(e));
        }

        if (!(e.StartSeconds < e.EndSeconds) || !(e.AddLatencyMs >= 0) || double.IsInfinity(e.AddLatencyMs)
            || e.BandwidthMbps is double b && !(b > 0 && !double.IsInfinity(b)))
        {
            throw new ArgumentException($"Network event {e} needs start < end, a finite latency >= 0 and a positive bandwidth.", nameof(e));
        }
    }

    private sealed class SourceLink(int source, int ingress, int destination)
    {
        public int Source { get; } = source;

        public int Ingress { get; } = ingress;

        public int Destination { get; } = destination;

        public double ExtraMs { get; set; }

        public double CapMbps { get; set; } = double.PositiveInfinity;
    }
}
