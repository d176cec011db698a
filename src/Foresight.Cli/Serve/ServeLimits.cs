namespace Foresight.Cli.Serve;

/// <summary>
/// How much request work <c>serve</c> admits at once. The default leaves the ticks at least one core: requests are
/// processed on at most one core fewer than the machine has (at least one), and a short queue absorbs bursts; beyond
/// it a request gets 503 with Retry-After: 1 (backpressure, not an error).
/// </summary>
public sealed record ServeLimits(int Concurrency, int Queue)
{
    public static ServeLimits Default { get; } = new(Math.Max(1, Environment.ProcessorCount - 1), 16);
}
