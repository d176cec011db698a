using Foresight.Core.Traffic;
using Foresight.Ingest.Prometheus;

namespace Foresight.IntegrationTests.Prometheus;

/// <summary>History and live reads against the real, backfilled Prometheus.</summary>
[Collection(PrometheusCollection.Name)]
public sealed class PrometheusHistoryTests(PrometheusFixture prometheus) : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private PrometheusTrafficSource Source(string query, string label, int pointsPerRequest = PrometheusTrafficSource.MaxPointsPerRequest) =>
        new(new PrometheusClient(_http, prometheus.Url), [new PrometheusTrafficQuery(TraceTable.AnyApp, query, label)], pointsPerRequest: pointsPerRequest);

    private static void AssertSameTrace(TraceTable expected, TraceTable actual)
    {
        Assert.Equal(expected.TimeSeconds, actual.TimeSeconds);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.Keys.OrderBy(k => k.Source, StringComparer.Ordinal), actual.Keys);
        for (int k = 0; k < expected.Keys.Count; k++)
        {
            int j = actual.Keys.ToList().IndexOf(expected.Keys[k]);
            Assert.Equal(expected.Values[k], actual.Values[j]);
        }
    }

    [Fact]
    public async Task History_equals_the_backfilled_Milan_slice_exactly()
    {
        TraceTable table = await Source(PrometheusFixture.Metric, "cell").ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1));

        Assert.Equal(PrometheusFixture.Hours, table.RowCount);
        Assert.Equal(PrometheusFixture.Cells, table.Keys.Count);
        AssertSameTrace(prometheus.Expected, table);
        Assert.Equal(0, table.Fills.FilledCells);
    }

    [Fact]
    public async Task History_read_in_many_range_queries_equals_one_read()
    {
        TraceTable chunked = await Source(PrometheusFixture.Metric, "cell", pointsPerRequest: 7)
            .ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1));

        AssertSameTrace(prometheus.Expected, chunked);
    }

    [Fact]
    public async Task A_range_over_Prometheus_points_limit_is_split_and_still_reads_the_trace()
    {
        var client = new PrometheusClient(_http, prometheus.Url);
        TimeSpan step = TimeSpan.FromSeconds(20);     // 71 h / 20 s + 1 = 12,781 points, over the 11,000 limit

        PrometheusException refused = await Assert.ThrowsAsync<PrometheusException>(
            () => client.QueryRangeAsync(PrometheusFixture.Metric, prometheus.Start, prometheus.End, step));
        Assert.Contains("11,000", refused.Message);

        TraceTable table = await Source(PrometheusFixture.Metric, "cell").ReadHistoryAsync(prometheus.Start, prometheus.End, step);

        Assert.Equal(12_781, table.RowCount);
        for (int k = 0; k < prometheus.Expected.Keys.Count; k++)
        {
            int j = table.Keys.ToList().IndexOf(prometheus.Expected.Keys[k]);
            for (int h = 0; h < PrometheusFixture.Hours; h++)
            {
                Assert.Equal(prometheus.Expected.Values[k][h], table.Values[j][h * 180]);
            }
        }
    }

    [Fact]
    public async Task Live_returns_the_sample_at_a_time_and_reports_unknown_keys()
    {
        var unknown = new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "cell_nope");
        DateTimeOffset at = prometheus.Hour(5).AddMinutes(2);   // within Prometheus' 5 min lookback of hour 5

        LiveSnapshot snapshot = await Source(PrometheusFixture.Metric, "cell").ReadLatestAsync(at, [.. prometheus.Expected.Keys, unknown]);

        Assert.Equal(PrometheusFixture.Cells, snapshot.Samples.Count);
        for (int k = 0; k < prometheus.Expected.Keys.Count; k++)
        {
            TrafficSample sample = Assert.Single(snapshot.Samples, s => s.Key == prometheus.Expected.Keys[k]);
            Assert.Equal(prometheus.Expected.Values[k][5], sample.Volume);
            Assert.Equal(at, sample.Time);
        }

        MissingLiveReading missing = Assert.Single(snapshot.Missing);
        Assert.Equal("cell_nope", missing.Source);
    }

    [Fact]
    public async Task NaN_Inf_gaps_and_series_that_come_and_go_are_filled_and_counted()
    {
        TraceTable table = await Source(PrometheusFixture.FaultyMetric, "zone").ReadHistoryAsync(prometheus.Start, prometheus.Hour(6), TimeSpan.FromHours(1));

        Assert.Equal(["gone", "holes", "late"], table.Keys.Select(k => k.Source));
        Assert.Equal(new[] { 1.0, 2, 3, 3, 3, 3, 3 }, table.Values[0]);
        Assert.Equal(new[] { 10.0, 20, 30, 40, 50, 60, 70 }, table.Values[1]);   // NaN, +Inf and the gap interpolated
        Assert.Equal(new[] { 5.0, 5, 5, 5, 6, 7, 8 }, table.Values[2]);
        Assert.Equal("linear-interpolation", table.Fills.Rule);
        Assert.Equal(4, table.Fills.FilledByColumn["gone"]);
        Assert.Equal(3, table.Fills.FilledByColumn["holes"]);
        Assert.Equal(3, table.Fills.FilledByColumn["late"]);
        Assert.Equal(10, table.Fills.FilledCells);
    }

    [Theory]
    [InlineData(2, "NaN")]
    [InlineData(3, "+Inf")]
    public async Task Live_reports_a_NaN_or_Inf_sample_as_missing(int hour, string what)
    {
        LiveSnapshot snapshot = await Source(PrometheusFixture.FaultyMetric, "zone").ReadLatestAsync(prometheus.Hour(hour), null);

        MissingLiveReading missing = Assert.Single(snapshot.Missing, m => m.Source == "holes");
        Assert.Contains(what, missing.Reason);
        Assert.DoesNotContain(snapshot.Samples, s => s.Key.Source == "holes");
    }

    [Fact]
    public async Task Live_reports_a_gap_in_an_expected_series_as_missing()
    {
        var holes = new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "holes");
        var late = new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "late");
        LiveSnapshot snapshot = await Source(PrometheusFixture.FaultyMetric, "zone").ReadLatestAsync(prometheus.Hour(4), [holes, late]);

        Assert.Equal(6, Assert.Single(snapshot.Samples, s => s.Key == late).Volume);
        MissingLiveReading missing = Assert.Single(snapshot.Missing, m => m.Source == "holes");
        Assert.Contains("no sample", missing.Reason);
    }
}
