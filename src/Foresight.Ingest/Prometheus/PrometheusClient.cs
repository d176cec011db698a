using System.Globalization;
using System.Net;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Foresight.Ingest.Prometheus;

/// <summary>Retries and timeouts of <see cref="PrometheusClient"/>.</summary>
public sealed record PrometheusClientOptions
{
    public static PrometheusClientOptions Default { get; } = new();

    /// <summary>Retries after the first attempt of a transient failure (no connection, timeout, HTTP 502/503/504). Default 2.</summary>
    public int MaxRetries { get; init; } = 2;

    /// <summary>Delay before the first retry; it doubles for each further one. Default 200 ms.</summary>
    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Time allowed for one attempt, reading the whole answer included. Default 30 s.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (MaxRetries < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxRetries), MaxRetries, "MaxRetries must not be negative.");
        }

        if (RetryDelay < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(RetryDelay), RetryDelay, "RetryDelay must not be negative.");
        }

        if (AttemptTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(AttemptTimeout), AttemptTimeout, "AttemptTimeout must be positive.");
        }
    }
}

/// <summary>
/// A small client of the Prometheus HTTP API: instant queries (<c>/api/v1/query</c>) and range queries
/// (<c>/api/v1/query_range</c>), sent as form POSTs so long PromQL fits.
/// </summary>
/// <remarks>
/// Transient failures (no connection, a timeout, HTTP 502/503/504) are retried a bounded number of times with
/// exponential backoff (Polly, on the given <see cref="TimeProvider"/>); then, like every other failure, they become a
/// <see cref="PrometheusException"/> naming the endpoint URL and the query. A <c>status: error</c> answer (bad PromQL,
/// a query over Prometheus' limits) is not retried: its <c>errorType</c> and message are passed on as they are.
/// Caller cancellation is never turned into an error.
/// </remarks>
public sealed class PrometheusClient
{
    private readonly HttpClient _http;
    private readonly Uri _base;
    private readonly PrometheusClientOptions _options;
    private readonly ResiliencePipeline<Reply> _pipeline;

    public PrometheusClient(HttpClient http, Uri baseAddress, PrometheusClientOptions? options = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(baseAddress);
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{baseAddress}' is not an absolute http or https URL.", nameof(baseAddress));
        }

        _options = options ?? PrometheusClientOptions.Default;
        _options.Validate();
        _http = http;

        // A base with a path prefix (http://host/prometheus) keeps it: the API paths are resolved relative to it.
        _base = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");

        var builder = new ResiliencePipelineBuilder<Reply> { TimeProvider = timeProvider ?? TimeProvider.System };
        if (_options.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions<Reply>
            {
                MaxRetryAttempts = _options.MaxRetries,
                Delay = _options.RetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = false,
                ShouldHandle = new PredicateBuilder<Reply>()
                    .Handle<HttpRequestException>()
                    .Handle<TimeoutRejectedException>()
                    .HandleResult(r => IsTransient(r.Status)),
            });
        }

        _pipeline = builder.AddTimeout(_options.AttemptTimeout).Build();
    }

    public Uri BaseAddress => _base;

    /// <summary>Evaluates <paramref name="query"/> at one instant: a vector (or scalar) result.</summary>
    public Task<PrometheusResult> QueryAsync(string query, DateTimeOffset time, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        return SendAsync("api/v1/query", query, [new("query", query), new("time", Unix(time))], cancellationToken);
    }

    /// <summary>
    /// Evaluates <paramref name="query"/> at start, start + step, … up to end: a matrix result. Prometheus refuses more
    /// than 11,000 points per series; <see cref="PrometheusTrafficSource"/> splits long ranges.
    /// </summary>
    public Task<PrometheusResult> QueryRangeAsync(
        string query, DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(query);
        if (step < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be at least 1 ms.");
        }

        if (end < start)
        {
            throw new ArgumentException("The end must not be before the start.", nameof(end));
        }

        return SendAsync(
            "api/v1/query_range",
            query,
            [new("query", query), new("start", Unix(start)), new("end", Unix(end)), new("step", step.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture))],
            cancellationToken);
    }

    /// <summary>Prometheus' time format: Unix seconds, with milliseconds when there are any.</summary>
    internal static string Unix(DateTimeOffset time) =>
        (time.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private async Task<PrometheusResult> SendAsync(
        string path, string query, KeyValuePair<string, string>[] form, CancellationToken cancellationToken)
    {
        var url = new Uri(_base, path);
        string where = url.AbsoluteUri;
        int attempts = 0;
        Reply reply;
        try
        {
            reply = await _pipeline.ExecuteAsync(
                async ct =>
                {
                    attempts++;
                    using var content = new FormUrlEncodedContent(form);
                    using HttpResponseMessage response = await _http.PostAsync(url, content, ct).ConfigureAwait(false);
                    string body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                    return new Reply(response.StatusCode, body);
                },
                cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new PrometheusException(
                PrometheusErrorKind.Unreachable, where, query, $"cannot reach Prometheus ({e.Message}) after {Attempts(attempts)}", inner: e);
        }
        catch (TimeoutRejectedException e)
        {
            throw new PrometheusException(
                PrometheusErrorKind.Timeout, where, query, $"no answer within {_options.AttemptTimeout.TotalSeconds:0.###} s, {Attempts(attempts)}", inner: e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            // HttpClient's own Timeout fired (it surfaces as a cancellation nobody asked for).
            throw new PrometheusException(
                PrometheusErrorKind.Timeout, where, query, $"no answer within the HTTP client's timeout, {Attempts(attempts)}", inner: e);
        }

        if (IsTransient(reply.Status)
            && !reply.Body.TrimStart().StartsWith('{'))
        {
            throw new PrometheusException(
                PrometheusErrorKind.Unreachable, where, query, $"HTTP {(int)reply.Status} {reply.Status} after {Attempts(attempts)}");
        }

        return PrometheusJson.Parse(reply.Body, reply.Status, where, query);
    }

    private static string Attempts(int n) => n == 1 ? "1 attempt" : $"{n} attempts";

    private readonly record struct Reply(HttpStatusCode Status, string Body);

    /// <summary>Gateway and overload answers: a proxy or a restarting Prometheus, worth another try.</summary>
    private static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;
}
