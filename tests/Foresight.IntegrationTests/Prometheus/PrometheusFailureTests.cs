using Foresight.Core.Traffic;
using Foresight.Ingest.Prometheus;

namespace Foresight.IntegrationTests.Prometheus;

/// <summary>Each failure mode against the real Prometheus gives its defined error or report, never a crash.</summary>
[Collection(PrometheusCollection.Name)]
public sealed class PrometheusFailureTests(PrometheusFixture prometheus) : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private PrometheusTrafficSource Source(string query, string label = "zone", Uri? url = null) =>
        new(new PrometheusClient(_http, url ?? prometheus.Url), [new PrometheusTrafficQuery(TraceTable.AnyApp, query, label)]);

    [Fact]
    public async Task Unreachable_names_the_url_after_bounded_retries()
    {
        var url = new Uri($"http://127.0.0.1:{PrometheusFixture.FreePort()}/");
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(PrometheusFixture.Metric, url: url).ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1)));

        Assert.Equal(PrometheusErrorKind.Unreachable, e.Kind);
        Assert.StartsWith($"{url}api/v1/query_range", e.Message);
        Assert.Contains("cannot reach Prometheus", e.Message);
        Assert.Contains("after 3 attempts", e.Message);
    }

    [Fact]
    public async Task Bad_PromQL_surfaces_Prometheus_message()
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source($"sum by (zone) ({PrometheusFixture.Metric}").ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1)));

        Assert.Equal(PrometheusErrorKind.QueryFailed, e.Kind);
        Assert.Equal("bad_data", e.ErrorType);
        Assert.Contains("parse error", e.Message);
        Assert.Contains($"sum by (zone) ({PrometheusFixture.Metric}", e.Message);
    }

    [Fact]
    public async Task An_empty_result_is_an_error_for_history_and_no_data_for_live()
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source("foresight_no_such_metric").ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1)));
        Assert.Equal(PrometheusErrorKind.EmptyResult, e.Kind);

        LiveSnapshot live = await Source("foresight_no_such_metric").ReadLatestAsync(prometheus.Start, null);
        Assert.Empty(live.Samples);
        Assert.Contains("no series", Assert.Single(live.Missing).Reason);
    }

    [Fact]
    public async Task A_range_outside_the_data_is_empty()
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(PrometheusFixture.Metric, "cell").ReadHistoryAsync(prometheus.Start.AddDays(-30), prometheus.Start.AddDays(-29), TimeSpan.FromHours(1)));
        Assert.Equal(PrometheusErrorKind.EmptyResult, e.Kind);
    }

    [Fact]
    public async Task A_series_of_only_NaN_is_an_error_naming_it()
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source(PrometheusFixture.AllNanMetric).ReadHistoryAsync(prometheus.Start, prometheus.Hour(6), TimeSpan.FromHours(1)));

        Assert.Equal(PrometheusErrorKind.BadResult, e.Kind);
        Assert.Contains("zone=\"x\" has no finite sample", e.Message);
    }

    [Fact]
    public async Task A_query_without_the_source_label_says_how_to_keep_it()
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Source($"sum({PrometheusFixture.Metric})").ReadHistoryAsync(prometheus.Start, prometheus.End, TimeSpan.FromHours(1)));

        Assert.Contains("no label 'zone'", e.Message);
    }
}
