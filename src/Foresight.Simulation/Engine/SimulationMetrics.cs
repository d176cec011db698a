namespace Foresight.Simulation.Engine;

/// <summary>Accumulated outcome of one simulation run, per app.</summary>
public sealed class SimulationMetrics
{
    public SimulationMetrics(int apps, double timelineBucketSeconds = 60)
    {
        Requests = new double[apps];
        Dropped = new double[apps];
        Unserved = new double[apps];
        FailoverRequests = new double[apps];
        LinkDropped = new double[apps];
        SloViolations = new double[apps];
        InstanceSeconds = new double[apps];
        Latency = new LatencyHistogram[apps];
        for (int a = 0; a < apps; a++)
        {
            Latency[a] = new LatencyHistogram();
        }

        TimelineBucketSeconds = timelineBucketSeconds;
    }

    public double[] Requests { get; }

    /// <summary>Requests lost: queue overflow, or no instance able to serve.</summary>
    public double[] Dropped { get; }

    /// <summary>The part of <see cref="Dropped"/> lost because the app had no routable instance at all.</summary>
    public double[] Unserved { get; }

    /// <summary>The part of <see cref="Dropped"/> lost on a network link loaded past its bandwidth.</summary>
    public double[] LinkDropped { get; }

    /// <summary>Requests whose route named no site with a routable instance, sent to the nearest one instead.</summary>
    public double[] FailoverRequests { get; }

    /// <summary>Expected number of requests over their app's latency SLO (dropped requests count separately).</summary>
    public double[] SloViolations { get; }

    public double[] InstanceSeconds { get; }

    public LatencyHistogram[] Latency { get; }

    public double TimelineBucketSeconds { get; }

    /// <summary>Per time bucket from <see cref="TimelineOffset"/> on: requests and SLO violations summed over apps.</summary>
    public List<TimelinePoint> Timeline { get; } = [];

    /// <summary>The bucket number of <c>Timeline[0]</c>: 0 unless <see cref="ForgetBefore"/> dropped older buckets.</summary>
    public int TimelineOffset { get; private set; }

    /// <summary>Drops the timeline buckets that end before <paramref name="time"/> (a long-running controller's bound).</summary>
    public void ForgetBefore(double time)
    {
        int drop = Math.Min(Timeline.Count, Math.Max(0, (int)(time / TimelineBucketSeconds) - TimelineOffset));
        Timeline.RemoveRange(0, drop);
        TimelineOffset += drop;
    }

    public double TotalRequests => Requests.Sum();

    public double TotalDropped => Dropped.Sum();

    public double TotalViolations => SloViolations.Sum();

    public double TotalInstanceSeconds => InstanceSeconds.Sum();

    public LatencyHistogram CombinedLatency()
    {
        var all = new LatencyHistogram();
        foreach (LatencyHistogram h in Latency)
        {
            all.Merge(h);
        }

        return all;
    }

    /// <summary>Counts dropped requests, in total and in the timeline bucket of <paramref name="time"/>.</summary>
    internal void AddDropped(int app, double requests, double time)
    {
        Dropped[app] += requests;
        PointAt(time).Dropped += requests;
    }

    internal void RecordStep(int app, double arrivals, double violations, long step, double time)
    {
        TimelinePoint point = PointAt(time);
        point.Requests += arrivals;
        point.SloViolations += violations;
    }

    private TimelinePoint PointAt(double time)
    {
        int bucket = Math.Max(0, (int)(time / TimelineBucketSeconds) - TimelineOffset);
        while (Timeline.Count <= bucket)
        {
            Timeline.Add(new TimelinePoint((TimelineOffset + Timeline.Count) * TimelineBucketSeconds));
        }

        return Timeline[bucket];
    }
}

public sealed class TimelinePoint(double startSeconds)
{
    public double StartSeconds { get; } = startSeconds;

    public double Requests { get; set; }

    public double SloViolations { get; set; }

    /// <summary>Requests dropped in this bucket (not included in <see cref="SloViolations"/>).</summary>
    public double Dropped { get; set; }

    public double Instances { get; set; }
}
