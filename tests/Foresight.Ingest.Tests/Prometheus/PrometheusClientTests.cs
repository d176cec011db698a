using System.Net;
using Foresight.Core;
using Foresight.Ingest.Prometheus;

namespace Foresight.Ingest.Tests.Prometheus;

/// <summary>The client against answers captured from a real Prometheus 2.42 (backfilled with NaN, +Inf and a gap).</summary>
public sealed class PrometheusClientTests
{
    // Captured from /api/v1/query_range?query=milan_activity&start=1383260400&end=1383278400&step=3600.
    internal const string MatrixJson =
        """{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"__name__":"milan_activity","cell":"cell_1"},"values":[[1383260400,"13"],[1383264000,"11"],[1383267600,"NaN"],[1383271200,"+Inf"],[1383278400,"9"]]},{"metric":{"__name__":"milan_activity","cell":"cell_2"},"values":[[1383260400,"5"]]}]}}""";

    // Captured from /api/v1/query?query=milan_activity&time=1383264000.5.
    internal const string VectorJson =
        """{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"milan_activity","cell":"cell_1"},"value":[1383264000.500,"11"]}]}}""";

    internal const string EmptyVectorJson = """{"status":"success","data":{"resultType":"vector","result":[]}}""";

    // Captured: query=sum(milan_activity (HTTP 400).
    internal const string BadPromQlJson =
        """{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:19: parse error: unclosed left parenthesis"}""";

    private static readonly Uri _url = new("http://127.0.0.1:9090");

    private static readonly PrometheusClientOptions _fast = new() { RetryDelay = TimeSpan.Zero };

    private static PrometheusClient Client(HttpMessageHandler handler, PrometheusClientOptions? options = null) =>
        new(new HttpClient(handler), _url, options ?? _fast);

    [Fact]
    public async Task A_matrix_parses_labels_times_and_values_including_NaN_and_Inf()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, MatrixJson);
        PrometheusResult result = await Client(handler).QueryRangeAsync(
            "milan_activity", DateTimeOffset.FromUnixTimeSeconds(1383260400), DateTimeOffset.FromUnixTimeSeconds(1383278400), TimeSpan.FromHours(1));

        Assert.Equal("matrix", result.ResultType);
        Assert.Equal(2, result.Series.Count);
        Assert.Equal("cell_1", result.Series[0].Labels["cell"]);
        Assert.Equal("milan_activity", result.Series[0].Labels["__name__"]);
        double[] values = result.Series[0].Samples.Select(s => s.Value).ToArray();
        Assert.Equal(13, values[0]);
        Assert.Equal(11, values[1]);
        Assert.True(double.IsNaN(values[2]));
        Assert.Equal(double.PositiveInfinity, values[3]);
        Assert.Equal(9, values[4]);
        Assert.Equal(1383278400, result.Series[0].Samples[4].TimeSeconds);
        Assert.Single(result.Series[1].Samples);

        (string path, IReadOnlyDictionary<string, string> form) = Assert.Single(handler.Requests);
        Assert.Equal("/api/v1/query_range", path);
        Assert.Equal("milan_activity", form["query"]);
        Assert.Equal("1383260400", form["start"]);
        Assert.Equal("1383278400", form["end"]);
        Assert.Equal("3600", form["step"]);
    }

    [Fact]
    public async Task A_vector_keeps_fractional_timestamps()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, VectorJson);
        PrometheusResult result = await Client(handler).QueryAsync("milan_activity", DateTimeOffset.FromUnixTimeMilliseconds(1383264000500));

        PrometheusSeries series = Assert.Single(result.Series);
        Assert.Equal("vector", result.ResultType);
        Assert.Equal(new PrometheusSample(1383264000.5, 11), Assert.Single(series.Samples));
        Assert.Equal("1383264000.5", handler.Requests[0].Form["time"]);
        Assert.Equal("/api/v1/query", handler.Requests[0].Path);
    }

    [Theory]
    [InlineData("NaN", double.NaN)]
    [InlineData("+Inf", double.PositiveInfinity)]
    [InlineData("-Inf", double.NegativeInfinity)]
    [InlineData("1e+06", 1e6)]
    [InlineData("0.1", 0.1)]
    [InlineData("-3", -3.0)]
    public void Values_parse_as_Go_formats_them(string text, double expected)
    {
        Assert.True(PrometheusJson.TryParseValue(text, out double value));
        Assert.Equal(expected, value);
    }

    [Fact]
    public async Task Bad_PromQL_surfaces_the_error_type_and_message_with_url_and_query()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.BadRequest, BadPromQlJson);
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Client(handler).QueryAsync("sum(milan_activity", DateTimeOffset.FromUnixTimeSeconds(1383264000)));

        Assert.Equal(PrometheusErrorKind.QueryFailed, e.Kind);
        Assert.Equal("bad_data", e.ErrorType);
        Assert.Contains("unclosed left parenthesis", e.Message);
        Assert.Contains("http://127.0.0.1:9090/api/v1/query", e.Message);
        Assert.Contains("sum(milan_activity", e.Message);
        Assert.IsAssignableFrom<InvalidInputException>(e);
        Assert.Single(handler.Requests);    // a query error is not retried
    }

    [Fact]
    public async Task A_non_api_answer_is_a_clear_error()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.NotFound, "404 page not found");
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Client(handler).QueryAsync("up", DateTimeOffset.FromUnixTimeSeconds(0)));

        Assert.Equal(PrometheusErrorKind.BadResponse, e.Kind);
        Assert.Contains("HTTP 404", e.Message);
        Assert.Contains("base address", e.Message);
    }

    [Theory]
    [InlineData("""{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,2]]}]}}""")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"value":[1,"2"]}]}}""")]
    [InlineData("""{"status":"success"}""")]
    [InlineData("""{"data":{}}""")]
    [InlineData("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1,"two"]}]}}""")]
    public async Task Malformed_json_is_a_bad_response_not_a_crash(string body)
    {
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Client(FakePrometheusHandler.Always(HttpStatusCode.OK, body)).QueryAsync("up", DateTimeOffset.FromUnixTimeSeconds(0)));
        Assert.Equal(PrometheusErrorKind.BadResponse, e.Kind);
    }

    [Fact]
    public async Task A_scalar_is_one_series_without_labels()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.OK, """{"status":"success","data":{"resultType":"scalar","result":[1383264000,"2"]}}""");
        PrometheusResult result = await Client(handler).QueryAsync("1+1", DateTimeOffset.FromUnixTimeSeconds(1383264000));
        Assert.Empty(Assert.Single(result.Series).Labels);
        Assert.Equal(2, result.Series[0].Samples[0].Value);
    }

    [Fact]
    public async Task Unavailable_is_retried_a_bounded_number_of_times_then_succeeds()
    {
        int calls = 0;
        var handler = new FakePrometheusHandler((_, _) => ++calls < 3
            ? (HttpStatusCode.ServiceUnavailable, "Service Unavailable")
            : (HttpStatusCode.OK, VectorJson));

        PrometheusResult result = await Client(handler).QueryAsync("milan_activity", DateTimeOffset.FromUnixTimeSeconds(1383264000));

        Assert.Single(result.Series);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task Connection_refused_gives_up_after_the_retries_naming_the_url()
    {
        var handler = new RefusingHandler();
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Client(handler, _fast with { MaxRetries = 3 }).QueryAsync("up", DateTimeOffset.FromUnixTimeSeconds(0)));

        Assert.Equal(PrometheusErrorKind.Unreachable, e.Kind);
        Assert.Equal(4, handler.Calls);
        Assert.Contains("cannot reach Prometheus", e.Message);
        Assert.Contains("after 4 attempts", e.Message);
        Assert.StartsWith("http://127.0.0.1:9090/api/v1/query", e.Message);
    }

    [Fact]
    public async Task Unavailable_to_the_end_is_an_unreachable_error()
    {
        var handler = FakePrometheusHandler.Always(HttpStatusCode.ServiceUnavailable, "Service Unavailable");
        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(
            () => Client(handler).QueryAsync("up", DateTimeOffset.FromUnixTimeSeconds(0)));
        Assert.Equal(PrometheusErrorKind.Unreachable, e.Kind);
        Assert.Equal(3, handler.Requests.Count);
        Assert.Contains("HTTP 503", e.Message);
    }

    [Fact]
    public async Task A_hanging_server_times_out_on_the_time_provider()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var handler = new HangingHandler();
        var client = new PrometheusClient(
            new HttpClient(handler), _url, new PrometheusClientOptions { MaxRetries = 0, AttemptTimeout = TimeSpan.FromSeconds(5) }, time);

        Task<PrometheusResult> query = client.QueryAsync("up", DateTimeOffset.FromUnixTimeSeconds(0));
        await handler.Started.Task;
        time.Advance(TimeSpan.FromSeconds(5));

        PrometheusException e = await Assert.ThrowsAsync<PrometheusException>(() => query);
        Assert.Equal(PrometheusErrorKind.Timeout, e.Kind);
        Assert.Contains("no answer within 5 s", e.Message);
    }

    private sealed class HangingHandler : HttpMessageHandler
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Task.Delay(Timeout.Infinite, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}
