namespace Foresight.Cli.Serve;

/// <summary>
/// How much request work <c>serve</c> admits, so that the ticks keep their CPU however hard the API is polled.
/// <see cref="Concurrency"/> requests are processed at once (by default one fewer than the cores, at least one) and
/// <see cref="Queue"/> wait; <see cref="RequestsPerSecond"/>, when set, caps the rate as well, because requests that
/// are each short still add up to whole cores. Beyond either, 503 with Retry-After: 1 (backpressure, not an error).
/// /healthz is outside both bounds.
/// </summary>
public sealed record ServeLimits(int Concurrency, int Queue, int? RequestsPerSecond = null)
{
    /// <summary>
    /// One core fewer than the machine's for requests, 32 waiting (a request waits at most ~32 ms at the rate cap), and
    /// 1000 requests/s: 32 dashboards polling three endpoints every 250-ms tick need 384/s.
    /// </summary>
    public static ServeLimits Default { get; } = new(Math.Max(1, Environment.ProcessorCount - 1), Queue: 32, RequestsPerSecond: 1000);
}
