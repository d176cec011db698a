namespace Foresight.Core.Apps;

/// <summary>
/// An application's QoS and runtime profile.
/// An instance is an M/M/c server: <see cref="Concurrency"/> workers, each serving one request in
/// <see cref="ServiceTimeMs"/> on average (so the CPU cost per request is ServiceTimeMs of one core).
/// </summary>
public sealed record AppProfile
{
    public required string Name { get; init; }

    /// <summary>End-to-end latency objective (RTT + queueing + service) per request.</summary>
    public double LatencySloMs { get; init; } = 100;

    /// <summary>Mean service time of one request on one worker (the CPU cost per request).</summary>
    public double ServiceTimeMs { get; init; } = 20;

    /// <summary>Workers per instance; also the CPU cores an instance reserves.</summary>
    public int Concurrency { get; init; } = 2;

    /// <summary>Time from spin-up to the process accepting requests.</summary>
    public double ColdStartSeconds { get; init; } = 10;

    /// <summary>Time over which a fresh instance's capacity ramps from <see cref="WarmupStartCapacity"/> to full.</summary>
    public double WarmupSeconds { get; init; } = 20;

    /// <summary>Fraction of full capacity an instance has at the start of warm-up (JIT, caches, connection pools).</summary>
    public double WarmupStartCapacity { get; init; } = 0.3;

    public int MinInstances { get; init; } = 1;

    public int MaxInstances { get; init; } = 50;

    /// <summary>Requests per instance queued beyond which new requests are dropped.</summary>
    public int QueueLimitPerInstance { get; init; } = 200;

    /// <summary>Time a draining instance keeps serving in-flight work before it may stop.</summary>
    public double DrainSeconds { get; init; } = 5;

    /// <summary>
    /// The reactive algorithm behind the predictive policy's always-on safety net for this app; null: the policy's
    /// default. (The hpa and kpa baselines always run their own algorithm.)
    /// </summary>
    public ReactiveAlgorithm? Reactive { get; init; }

    /// <summary>
    /// What one request over its latency SLO (or dropped) costs, in instance-seconds: the price of a miss against the
    /// price of capacity. Set, it sizes the predictive floors newsvendor-style (<c>PlanningQuantiles.Newsvendor</c>);
    /// null: the policy's default (<c>PredictiveOptions.MissCost</c>, else its fixed planning quantile).
    /// </summary>
    public double? MissCost { get; init; }

    /// <summary>Size of one request on the wire, KB (what a bandwidth cap on a link counts).</summary>
    public double RequestKb { get; init; } = 1;

    /// <summary>Size of one response on the wire, KB.</summary>
    public double ResponseKb { get; init; } = 10;

    /// <summary>
    /// Megabits one request occupies on a full-duplex link: the larger direction, since that one fills first.
    /// </summary>
    public double MegabitsPerRequest => Math.Max(RequestKb, ResponseKb) * 8 / 1000;

    /// <summary>Requests per second one fully warm instance can serve (c / service time).</summary>
    public double InstanceCapacityRps => Concurrency * 1000.0 / ServiceTimeMs;

    /// <summary>Returns the first invalid field, or null when the profile is valid.</summary>
    public string? Validate()
    {
        if (string.IsNullOrWhiteSpace(Name))
        {
            return "name: must not be empty";
        }

        if (!(LatencySloMs > 0) || double.IsInfinity(LatencySloMs))
        {
            return "latencySloMs: must be a positive number";
        }

        if (!(ServiceTimeMs > 0) || double.IsInfinity(ServiceTimeMs))
        {
            return "serviceTimeMs: must be a positive number";
        }

        if (Concurrency < 1 || Concurrency > 1024)
        {
            return "concurrency: must be between 1 and 1024";
        }

        if (!(ColdStartSeconds >= 0) || double.IsInfinity(ColdStartSeconds))
        {
            return "coldStartSeconds: must be zero or positive";
        }

        if (!(WarmupSeconds >= 0) || double.IsInfinity(WarmupSeconds))
        {
            return "warmupSeconds: must be zero or positive";
        }

        if (!(WarmupStartCapacity > 0 && WarmupStartCapacity <= 1))
        {
            return "warmupStartCapacity: must be in (0, 1]";
        }

        if (MinInstances < 1)
        {
            return "minInstances: must be at least 1";
        }

        if (MaxInstances < MinInstances)
        {
            return "maxInstances: must be at least minInstances";
        }

        if (QueueLimitPerInstance < 1)
        {
            return "queueLimitPerInstance: must be at least 1";
        }

        if (!(DrainSeconds >= 0) || double.IsInfinity(DrainSeconds))
        {
            return "drainSeconds: must be zero or positive";
        }

        if (!(RequestKb >= 0) || double.IsInfinity(RequestKb))
        {
            return "requestKb: must be zero or positive";
        }

        if (!(ResponseKb >= 0) || double.IsInfinity(ResponseKb))
        {
            return "responseKb: must be zero or positive";
        }

        if (MissCost is { } missCost && (!(missCost >= 0) || double.IsInfinity(missCost)))
        {
            return "missCost: must be zero or a positive number (instance-seconds per missed request)";
        }

        if (Reactive is { } reactive && !Enum.IsDefined(reactive))
        {
            return "reactive: must be hpa or kpa";
        }

        return null;
    }
}
