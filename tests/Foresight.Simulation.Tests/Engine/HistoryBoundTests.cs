using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Tests.Engine;

/// <summary>A long-running controller forgets old per-bucket history (design note 0017); what it keeps must read the same.</summary>
public sealed class HistoryBoundTests
{
    [Fact]
    public void Site_windows_forget_old_buckets_and_keep_the_recent_sums()
    {
        var stats = new SiteWindowStats(apps: 1, sites: 2, bucketSeconds: 10);
        for (int t = 0; t < 1_000; t++)
        {
            stats.Add(0, 1, t, new SiteWindow(1, 0, 1, 5));
        }

        SiteWindow before = stats.Window(0, 1, 900, 1_000);
        stats.ForgetBefore(800);

        Assert.Equal(80, stats.Offset);
        Assert.Equal(before, stats.Window(0, 1, 900, 1_000));
        Assert.Equal(default, stats.Window(0, 1, 0, 700)); // forgotten, not counted twice
        stats.Add(0, 1, 100, new SiteWindow(1, 0, 1, 5)); // older than the kept history: ignored
        stats.Add(0, 1, 1_005, new SiteWindow(2, 0, 2, 5));
        Assert.Equal(before.Requests + 2, stats.Window(0, 1, 900, 1_010).Requests);
    }

    [Fact]
    public void Forgetting_twice_or_past_the_end_is_safe()
    {
        var stats = new SiteWindowStats(apps: 1, sites: 1, bucketSeconds: 10);
        stats.Add(0, 0, 5, new SiteWindow(1, 0, 1, 1));
        stats.ForgetBefore(500);
        stats.ForgetBefore(400);
        stats.Add(0, 0, 505, new SiteWindow(3, 0, 3, 1));

        Assert.Equal(3, stats.Window(0, 0, 500, 510).Requests);
    }
}
