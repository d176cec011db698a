namespace Foresight.Cli.Controller;

/// <summary>
/// When the next tick is due. Ticks sit on a fixed grid (start + k·period); a tick that ends past one or more grid
/// points skips them and runs at the next point still ahead, so late ticks coalesce instead of piling up.
/// </summary>
public sealed class TickSchedule
{
    private readonly DateTimeOffset _start;
    private readonly TimeSpan _period;

    public TickSchedule(DateTimeOffset start, TimeSpan period)
    {
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), "The tick period must be positive.");
        }

        _start = start;
        _period = period;
    }

    public TimeSpan Period => _period;

    /// <summary>The next due time after a tick that was due at <paramref name="due"/> and finished at <paramref name="now"/>, and how many grid points it skipped.</summary>
    public (DateTimeOffset Next, long Skipped) Next(DateTimeOffset due, DateTimeOffset now)
    {
        DateTimeOffset next = due + _period;
        if (next >= now)
        {
            return (next, 0);
        }

        // Grid points before now have passed: run once, at the first point at or after now.
        long elapsed = (now - _start).Ticks;
        long k = (elapsed + _period.Ticks - 1) / _period.Ticks;
        DateTimeOffset first = _start + TimeSpan.FromTicks(k * _period.Ticks);
        long skipped = (first - next).Ticks / _period.Ticks;
        return (first, skipped);
    }
}
