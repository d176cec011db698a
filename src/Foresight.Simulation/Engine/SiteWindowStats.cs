namespace Foresight.Simulation.Engine;

/// <summary>Requests entering at one site over a time window, and how they fared.</summary>
/// <param name="Requests">Arrivals at the ingress site.</param>
/// <param name="Violations">Requests over the SLO plus requests dropped.</param>
/// <param name="Served">Requests served (the weight of <paramref name="LatencySumMs"/>).</param>
/// <param name="LatencySumMs">Sum of sampled end-to-end latency over the served requests.</param>
public readonly record struct SiteWindow(double Requests, double Violations, double Served, double LatencySumMs)
{
    public double SloViolationRate => Requests > 0 ? Math.Min(1, Violations / Requests) : 0;

    public double MeanLatencyMs => Served > 0 ? LatencySumMs / Served : 0;

    public static SiteWindow operator +(SiteWindow x, SiteWindow y) =>
        new(x.Requests + y.Requests, x.Violations + y.Violations, x.Served + y.Served, x.LatencySumMs + y.LatencySumMs);
}

/// <summary>
/// Per (app, ingress site), fixed time buckets of what the users entering there saw. Every policy replays the same
/// arrivals, so the same window can be compared across policies (e.g. around one migration's demand rise).
/// </summary>
public sealed class SiteWindowStats
{
    private readonly List<SiteWindow>[][] _buckets; // [app][site] -> buckets

    public SiteWindowStats(int apps, int sites, double bucketSeconds)
    {
        if (!(bucketSeconds > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(bucketSeconds));
        }

        BucketSeconds = bucketSeconds;
        _buckets = new List<SiteWindow>[apps][];
        for (int a = 0; a < apps; a++)
        {
            _buckets[a] = new List<SiteWindow>[sites];
            for (int s = 0; s < sites; s++)
            {
                _buckets[a][s] = [];
            }
        }
    }

    public double BucketSeconds { get; }

    /// <summary>The bucket number of each list's first element: 0 unless <see cref="ForgetBefore"/> dropped older ones.</summary>
    public int Offset { get; private set; }

    /// <summary>Drops the buckets that end before <paramref name="time"/> (a long-running controller's bound).</summary>
    public void ForgetBefore(double time)
    {
        int drop = Math.Max(0, (int)(time / BucketSeconds) - Offset);
        foreach (List<SiteWindow>[] app in _buckets)
        {
            foreach (List<SiteWindow> list in app)
            {
                list.RemoveRange(0, Math.Min(drop, list.Count));
            }
        }

        Offset += drop;
    }

    public int AppCount => _buckets.Length;

    public int SiteCount => _buckets.Length == 0 ? 0 : _buckets[0].Length;

    public void Add(int app, int site, double time, SiteWindow value)
    {
        List<SiteWindow> list = _buckets[app][site];
        int bucket = (int)(time / BucketSeconds) - Offset;
        if (bucket < 0)
        {
            return; // older than the kept history
        }

        while (list.Count <= bucket)
        {
            list.Add(default);
        }

        list[bucket] += value;
    }

    /// <summary>Sum over the buckets that start in [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public SiteWindow Window(int app, int site, double from, double to)
    {
        List<SiteWindow> list = _buckets[app][site];
        int first = Math.Max(0, (int)Math.Ceiling((from / BucketSeconds) - 1e-9) - Offset);
        int last = Math.Min(list.Count, (int)Math.Ceiling((to / BucketSeconds) - 1e-9) - Offset);
        SiteWindow sum = default;
        for (int b = first; b < last; b++)
        {
            sum += list[b];
        }

        return sum;
    }
}
