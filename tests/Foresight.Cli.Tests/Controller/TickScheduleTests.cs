using Foresight.Cli.Controller;

namespace Foresight.Cli.Tests.Controller;

public sealed class TickScheduleTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(0, 40, 100, 0)]    // on time: the next grid point
    [InlineData(0, 100, 100, 0)]   // ended exactly on the next point: run it
    [InlineData(0, 350, 400, 3)]   // 100, 200 and 300 passed during the tick: skip them, run at 400
    [InlineData(0, 300, 300, 2)]   // 100 and 200 passed; 300 is now
    [InlineData(500, 720, 800, 2)] // a late tick later in the run
    public void A_late_tick_skips_the_points_it_missed_and_runs_once_at_the_next(int dueMs, int nowMs, int nextMs, long skipped)
    {
        var schedule = new TickSchedule(Start, TimeSpan.FromMilliseconds(100));

        (DateTimeOffset next, long missed) = schedule.Next(Start.AddMilliseconds(dueMs), Start.AddMilliseconds(nowMs));

        Assert.Equal(Start.AddMilliseconds(nextMs), next);
        Assert.Equal(skipped, missed);
    }
}
