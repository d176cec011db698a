using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class TimedBucketsTests
{
    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    private static TimedBuckets Buckets(int windowSeconds, params (double At, double Value)[] records)
    {
        var buckets = new TimedBuckets(S(windowSeconds));
        foreach ((double at, double value) in records)
        {
            buckets.Record(S(at), value);
        }

        return buckets;
    }

    private static (double, double)[] Every(int from, int to, Func<int, double> value) =>
        Enumerable.Range(from, to - from + 1).Select(t => ((double)t, value(t))).ToArray();

    public static TheoryData<string, TimedBuckets, double, double> Averages() => new()
    {
        { "partial window: 6 × 10 over the 6 s since the first write", Buckets(60, Every(0, 5, _ => 10)), 5, 10 },
        { "a gap inside the data counts as 0: (10 + 0 + 0 + 0 + 20) / 5", Buckets(10, (0, 10), (4, 20)), 4, 6 },
        { "seconds after the last write leave the denominator: 50 / 5", Buckets(10, Every(0, 4, _ => 10)), 7, 10 },
        { "full window: mean of 10 … 19 = 14.5", Buckets(10, Every(0, 19, t => t)), 19, 14.5 },
        { "a window after the last write: 0", Buckets(10, Every(0, 4, _ => 10)), 14, 0 },
        { "two records in one second are averaged: (10 + 20) / 2", Buckets(10, (3.2, 10), (3.7, 20)), 3, 15 },
        { "a window-long gap resets the first write: only the new 10", Buckets(10, (0, 100), (30, 10)), 30, 10 },
        { "short gap after a full window: (4 × 10 + 50) / 10 (6 … 9 and 15; 10 … 14 are zero)", Buckets(10, [.. Every(0, 9, _ => 10), (15, 50)]), 15, 9 },
        { "a record older than a window before the newest is dropped", Buckets(10, (20, 5), (5, 100)), 20, 5 },
        { "floored to 6 decimals", Buckets(10, (0, 1.0 / 3)), 0, 0.333333 },
        { "never written", Buckets(10), 100, 0 },
    };

    [Theory]
    [MemberData(nameof(Averages))]
    public void Window_average_matches_knative(string because, TimedBuckets buckets, double now, double expected)
    {
        Assert.True(expected == buckets.WindowAverage(S(now)), $"{because}: got {buckets.WindowAverage(S(now))}");
    }

    [Theory]
    [InlineData(14, false)] // 14 − 4 = 10, not more than the window
    [InlineData(15, true)]
    public void Empty_after_more_than_a_window_without_data(double now, bool empty)
    {
        TimedBuckets buckets = Buckets(10, Every(0, 4, _ => 10));
        Assert.Equal(empty, buckets.IsEmpty(S(now)));
    }

    [Fact]
    public void Window_must_be_whole_seconds()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimedBuckets(TimeSpan.FromMilliseconds(1500)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new TimedBuckets(TimeSpan.Zero));
    }
}
