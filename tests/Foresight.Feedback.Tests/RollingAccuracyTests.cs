using Foresight.Core.Forecasts;
using Foresight.Feedback.Accuracy;

namespace Foresight.Feedback.Tests;

public sealed class RollingAccuracyTests
{
    // Step 0 quantiles at levels 0.05, 0.1, 0.5, 0.9, 0.95: 80, 90, 100, 110, 120.
    private static Forecast Fan() => new(
        "app/site",
        DateTimeOffset.UnixEpoch,
        TimeSpan.FromSeconds(5),
        [0.05, 0.1, 0.5, 0.9, 0.95],
        [[80, 0], [90, 0], [100, 0], [110, 0], [120, 0]]);

    [Fact]
    public void A_point_inside_both_intervals_is_scored_by_hand()
    {
        // actual 105: pinball 0.05·25 + 0.1·15 + 0.5·5 + 0.1·5 + 0.05·15 = 6.5, over 5 levels = 1.3.
        ScoredPoint p = ScoredPoint.Score(105, Fan(), 0, 95);

        Assert.Equal(1.3, p.Pinball, 12);
        Assert.Equal(5, p.AbsError, 12);
        Assert.Equal(10, p.NaiveAbsError, 12);
        Assert.True(p.In80);
        Assert.True(p.In90);
    }

    [Fact]
    public void A_point_outside_the_80_interval_but_inside_the_90_interval_is_scored_by_hand()
    {
        // actual 115: 0.05·35 + 0.1·25 + 0.5·15 + 0.9·5 + 0.05·5 = 16.5, / 5 = 3.3.
        ScoredPoint p = ScoredPoint.Score(115, Fan(), 0, 100);

        Assert.Equal(3.3, p.Pinball, 12);
        Assert.Equal(15, p.AbsError, 12);
        Assert.False(p.In80);
        Assert.True(p.In90);
    }

    [Fact]
    public void Interval_bounds_count_as_covered()
    {
        Assert.True(ScoredPoint.Score(110, Fan(), 0, 100).In80);
        Assert.True(ScoredPoint.Score(80, Fan(), 0, 100).In90);
    }

    [Fact]
    public void The_window_keeps_the_last_N_points_and_MASE_uses_only_points_with_a_naive_value()
    {
        var w = new RollingAccuracy(2);
        Assert.Equal(AccuracySnapshot.Empty, w.Snapshot());

        w.Record(105, Fan(), 0, 95);   // pinball 1.3, |e| 5, naive 10, in 80 and 90
        w.Record(115, Fan(), 0, 100);  // pinball 3.3, |e| 15, naive 15, in 90 only
        AccuracySnapshot s = w.Snapshot();
        Assert.Equal(2, s.Points);
        Assert.Equal(2.3, s.MeanPinball!.Value, 12);
        Assert.Equal(0.5, s.Coverage80);
        Assert.Equal(1.0, s.Coverage90);
        Assert.Equal(20.0 / 25.0, s.Mase!.Value, 12);
        Assert.Equal(2, s.MasePoints);

        // actual 70, no naive value yet: pinball (0.95·10 + 0.9·20 + 0.5·30 + 0.1·40 + 0.05·50) / 5 = 9.8. Evicts the first.
        w.Record(70, Fan(), 0, double.NaN);
        s = w.Snapshot();
        Assert.Equal(2, s.Points);
        Assert.Equal((3.3 + 9.8) / 2, s.MeanPinball!.Value, 12);
        Assert.Equal(0.0, s.Coverage80);
        Assert.Equal(0.5, s.Coverage90);
        Assert.Equal(1.0, s.Mase!.Value, 12); // only the 115 point: 15 / 15
        Assert.Equal(1, s.MasePoints);
        Assert.Equal(3, w.Recorded);
    }

    [Fact]
    public void MASE_is_null_while_undefined()
    {
        var w = new RollingAccuracy(10);
        w.Record(105, Fan(), 0, double.NaN);
        Assert.Null(w.Snapshot().Mase);

        w.Record(105, Fan(), 0, 105); // naive error 0: the scale is undefined
        Assert.Null(w.Snapshot().Mase);
        Assert.NotNull(w.Snapshot().MeanPinball);
    }

    [Fact]
    public void Running_sums_match_a_brute_force_recomputation_after_many_laps()
    {
        var rng = new Random(7);
        var w = new RollingAccuracy(37);
        var all = new List<ScoredPoint>();
        for (int i = 0; i < 5000; i++)
        {
            var p = new ScoredPoint(rng.NextDouble() * 1e6, rng.NextDouble() * 1e3, i % 5 == 0 ? double.NaN : rng.NextDouble() * 1e3, rng.Next(2) == 0, rng.Next(2) == 0);
            w.Record(p);
            all.Add(p);
        }

        ScoredPoint[] last = all.Skip(all.Count - 37).ToArray();
        ScoredPoint[] withNaive = last.Where(p => !double.IsNaN(p.NaiveAbsError)).ToArray();
        AccuracySnapshot s = w.Snapshot();
        Assert.Equal(last.Average(p => p.Pinball), s.MeanPinball!.Value, 6);
        Assert.Equal(last.Count(p => p.In80) / 37.0, s.Coverage80!.Value, 12);
        Assert.Equal(last.Count(p => p.In90) / 37.0, s.Coverage90!.Value, 12);
        Assert.Equal(withNaive.Sum(p => p.AbsError) / withNaive.Sum(p => p.NaiveAbsError), s.Mase!.Value, 9);
    }

    [Fact]
    public void The_tracker_keeps_each_series_and_aggregates_per_app()
    {
        var t = new AccuracyTracker<int>(seriesWindow: 10);
        t.Record(0, 0, 105, Fan(), 0, 95);
        t.Record(0, 1, 115, Fan(), 0, 100);
        t.Record(1, 0, 70, Fan(), 0, double.NaN);

        Assert.Equal(1.3, t.ForSeries(0, 0).MeanPinball!.Value, 12);
        Assert.Equal(3.3, t.ForSeries(0, 1).MeanPinball!.Value, 12);
        AccuracySnapshot app0 = t.ForApp(0);
        Assert.Equal(2, app0.Points);
        Assert.Equal(0.8, app0.Mase!.Value, 12);
        Assert.Equal(1, t.ForApp(1).Points);
        Assert.Equal(AccuracySnapshot.Empty, t.ForApp(2));
        Assert.Equal(AccuracySnapshot.Empty, t.ForSeries(0, 5));
    }
}
