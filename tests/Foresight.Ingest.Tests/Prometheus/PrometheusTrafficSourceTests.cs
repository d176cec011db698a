using System.Globalization;
using System.Net;
using System.Text;
using Foresight.Core.Traffic;
using Foresight.Ingest.Prometheus;

namespace Foresight.Ingest.Tests.Prometheus;

public sealed class PrometheusTrafficSourceTests
{
    private static readonly Uri _url = new("http://127.0.0.1:9090");
    private static readonly DateTimeOffset _start = DateTimeOffset.FromUnixTimeSeconds(1383260400);

    private static PrometheusTrafficSource Source(HttpMessageHandler handler, string label = "cell", int pointsPerRequest = PrometheusTrafficSource.MaxPointsPerRequest) =>
        new(
            new PrometheusClient(new HttpClient(handler), _url, new PrometheusClientOptions { RetryDelay = TimeSpan.Zero }),
            [new PrometheusTrafficQuery(TraceTable.AnyApp, "milan_activity", label)],
            pointsPerRequest: pointsPerRequest);

    /// <summary>A range answer like Prometheus': for each requested step, each series' value at it (null = no sample).</summary>
    private static FakePrometheusHandler Range(params (string Zone, Func<long, string?> Value)[] series) => new((_, form) =>
    {
        double start = double.Parse(form["start"], CultureInfo.InvariantCulture);
        double end = double.Parse(form["end"], CultureInfo.InvariantCulture);
        double step = double.Parse(form["step"], CultureInfo.InvariantCulture);
        var json = new StringBuilder("""{"status":"success","data":{"resultType":"matrix","result":[""");
        bool firstSeries = true;
        foreach ((string zone, Func<long, string?> value) in series)
        {
            var points = new List<string>();
            for (double t = start; t <= end; t += step)
            {
                if (value((long)t) is string v)
                {
                    points.Add($"[{t.ToString(CultureInfo.InvariantCulture)},\"{v}\"]");
                }
            }

            if (points.Count == 0)
            {
                continue;   // Prometheus leaves out series without samples in the range
            }

            json.Append(firstSeries ? "" : ",").Append($$"""{"metric":{"__name__":"milan_activity","zone":"{{zone}}"},"values":[{{string.Join(',', points)}}]}""");
            firstSeries = false;
        }

        return (HttpStatusCode.OK, json.Append("]}}").ToString());
    });

    [Fact]
    public async Task Captured_matrix_becomes_a_table_with_NaN_Inf_and_gap_filled_and_counted()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, PrometheusClientTests.MatrixJson);
        TraceTable table = await Source(handler).ReadHistoryAsync(_start, _start.AddHours(5), TimeSpan.FromHours(1));

        Assert.Equal(new[] { 0.0, 3600, 7200, 10800, 14400, 18000 }, table.TimeSeconds);
        Assert.Equal(_start, table.StartTime);
        Assert.Equal(["cell_1", "cell_2"], table.Keys.Select(k => k.Source));
        Assert.All(table.Keys, k => Assert.Equal(TraceTable.AnyApp, k.App));

        // cell_1: 13, 11, NaN, +Inf, (gap), 9 -> the three missing steps interpolate from 11 to 9 over 4 h.
        Assert.Equal(new[] { 13, 11, 10.5, 10, 9.5, 9 }, table.Values[0]);
        // cell_2 only has its first sample: the trailing steps carry it.
        Assert.Equal(new[] { 5.0, 5, 5, 5, 5, 5 }, table.Values[1]);
        Assert.Equal("linear-interpolation", table.Fills.Rule);
        Assert.Equal(8, table.Fills.FilledCells);
        Assert.Equal(3, table.Fills.FilledByColumn["cell_1"]);
        Assert.Equal(5, table.Fills.FilledByColumn["cell_2"]);
    }

    [Fact]
    public async Task Long_ranges_are_split_under_the_points_limit_and_joined_seamlessly()
    {
        var handler = Range(("a", t => ((t - 1383260400) / 10).ToString(CultureInfo.InvariantCulture)), ("b", _ => "1"));
        PrometheusTrafficSource source = Source(handler, "zone");

        // 25,001 steps of 10 s: three requests of at most 10,000 points.
        TraceTable table = await source.ReadHistoryAsync(_start, _start.AddSeconds(250_000), TimeSpan.FromSeconds(10));

        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r =>
        {
            double points = ((double.Parse(r.Form["end"], CultureInfo.InvariantCulture) - double.Parse(r.Form["start"], CultureInfo.InvariantCulture)) / 10) + 1;
            Assert.InRange(points, 1, PrometheusTrafficSource.MaxPointsPerRequest);
        });
        Assert.Equal("1383360400", handler.Requests[1].Form["start"]);
        Assert.Equal(25_001, table.RowCount);
        Assert.Equal(Enumerable.Range(0, 25_001).Select(i => (double)i), table.Values[0]);
        Assert.Equal(0, table.Fills.FilledCells);
    }

    [Fact]
    public async Task A_series_that_appears_late_and_one_that_disappears_are_filled_at_their_ends()
    {
        var handler = Range(("late", t => t >= _start.ToUnixTimeSeconds() + 7200 ? "4" : null), ("gone", t => t < _start.ToUnixTimeSeconds() + 3600 ? "6" : null));
        TraceTable table = await Source(handler, "zone", pointsPerRequest: 2).ReadHistoryAsync(_start, _start.AddHours(3), TimeSpan.FromHours(1));

        Assert.Equal(["gone", "late"], table.Keys.Select(k => k.Source));
        Assert.Equal(new[] { 6.0, 6, 6, 6 }, table.Values[0]);
        Assert.Equal(new[] { 4.0, 4, 4, 4 }, table.Values[1]);
        Assert.Equal(3, table.Fills.FilledByColumn["gone"]);
        Assert.Equal(2, table.Fills.FilledByColumn["late"]);
    }

    [Fact]
    public async Task An_empty_result_is_an_error_naming_the_query()
    {
        var handler = Range();
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(handler, "zone").ReadHistoryAsync(_start, _start.AddHours(3), TimeSpan.FromHours(1)));

        Assert.Equal(PrometheusErrorKind.EmptyResult, e.Kind);
        Assert.Contains("no series between", e.Message);
        Assert.Contains("milan_activity", e.Message);
    }

    [Fact]
    public async Task A_series_of_only_NaN_is_an_error()
    {
        var handler = Range(("a", _ => "1"), ("b", _ => "NaN"));
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(handler, "zone").ReadHistoryAsync(_start, _start.AddHours(3), TimeSpan.FromHours(1)));

        Assert.Equal(PrometheusErrorKind.BadResult, e.Kind);
        Assert.Contains("zone=\"b\" has no finite sample", e.Message);
    }

    [Fact]
    public async Task A_missing_source_label_says_how_to_keep_it()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, PrometheusClientTests.MatrixJson);
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(handler, "zone").ReadHistoryAsync(_start, _start.AddHours(5), TimeSpan.FromHours(1)));

        Assert.Contains("has no label 'zone'", e.Message);
        Assert.Contains("sum by (zone)", e.Message);
    }

    [Fact]
    public async Task Two_series_for_one_source_must_be_aggregated()
    {
        string body = """{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"zone":"a","pod":"1"},"values":[[1383260400,"1"]]},{"metric":{"zone":"a","pod":"2"},"values":[[1383260400,"2"]]}]}}""";
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(FakePrometheusHandler.Always(HttpStatusCode.OK, body), "zone").ReadHistoryAsync(_start, _start, TimeSpan.FromHours(1)));

        Assert.Contains("two series have zone=\"a\"", e.Message);
    }

    [Fact]
    public async Task A_negative_sample_is_an_error()
    {
        var handler = Range(("a", t => t == _start.ToUnixTimeSeconds() + 3600 ? "-2" : "1"));
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(handler, "zone").ReadHistoryAsync(_start, _start.AddHours(3), TimeSpan.FromHours(1)));

        Assert.Contains("negative value -2", e.Message);
        Assert.Contains("2013-11-01T00:00:00", e.Message);
    }

    [Fact]
    public async Task Live_reads_the_latest_value_and_reports_keys_without_one()
    {
        string body = """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"zone":"a"},"value":[1383264000,"7"]},{"metric":{"zone":"b"},"value":[1383264000,"NaN"]}]}}""";
        PrometheusTrafficSource source = Source(FakePrometheusHandler.Always(HttpStatusCode.OK, body), "zone");
        TrafficKey Key(string zone) => new(TraceTable.AnyApp, TraceTable.DefaultType, zone);
        DateTimeOffset at = DateTimeOffset.FromUnixTimeSeconds(1383264000);

        LiveSnapshot snapshot = await source.ReadLatestAsync(at, [Key("a"), Key("b"), Key("c")]);

        Assert.Equal(new TrafficSample(Key("a"), at, 7), Assert.Single(snapshot.Samples));
        Assert.Equal(["b", "c"], snapshot.Missing.Select(m => m.Source));
        Assert.Contains("NaN", snapshot.Missing[0].Reason);
        Assert.Contains("no sample", snapshot.Missing[1].Reason);
    }

    [Fact]
    public async Task Live_reports_an_empty_query_as_no_data_and_reads_now_from_the_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.FromUnixTimeSeconds(1383264000));
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, PrometheusClientTests.EmptyVectorJson);
        var source = new PrometheusTrafficSource(
            new PrometheusClient(new HttpClient(handler), _url),
            [new PrometheusTrafficQuery("shop", "rate(x[1m])", "zone")],
            timeProvider: time);

        LiveSnapshot snapshot = await source.ReadLatestAsync();

        Assert.Empty(snapshot.Samples);
        MissingLiveReading missing = Assert.Single(snapshot.Missing);
        Assert.Equal("shop", missing.App);
        Assert.Null(missing.Source);
        Assert.Contains("no series", missing.Reason);
        Assert.Equal("1383264000", handler.Requests[0].Form["time"]);
    }

    [Theory]
    [InlineData("", "up", "zone")]
    [InlineData("shop", " ", "zone")]
    [InlineData("shop", "up", "1zone")]
    [InlineData("shop", "up", "zo-ne")]
    public void Invalid_queries_are_rejected_up_front(string app, string query, string label)
    {
        var client = new PrometheusClient(new HttpClient(new RefusingHandler()), _url);
        Assert.Throws<ArgumentException>(() => new PrometheusTrafficSource(client, [new PrometheusTrafficQuery(app, query, label)]));
    }
}
