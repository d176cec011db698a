using Foresight.Core;

namespace Foresight.Ingest.Prometheus;

/// <summary>What went wrong talking to Prometheus.</summary>
public enum PrometheusErrorKind
{
    /// <summary>No connection (refused, DNS, reset), after the bounded retries.</summary>
    Unreachable,

    /// <summary>No answer within the per-attempt timeout, after the bounded retries.</summary>
    Timeout,

    /// <summary>Prometheus answered <c>status: error</c> (bad PromQL is <c>bad_data</c>, HTTP 400).</summary>
    QueryFailed,

    /// <summary>The answer is not a Prometheus API response (wrong URL, proxy page, truncated JSON).</summary>
    BadResponse,

    /// <summary>The query succeeded but returned no series where data is required.</summary>
    EmptyResult,

    /// <summary>The result cannot be read as traffic (missing source label, duplicate series, negative values).</summary>
    BadResult,
}

/// <summary>
/// A Prometheus request or its result failed. The message names the endpoint URL and the query; it is an
/// <see cref="InvalidInputException"/> (the URL or the PromQL given by the user is wrong), so the CLI exits with 2.
/// </summary>
public sealed class PrometheusException : InvalidInputException
{
    public PrometheusException(PrometheusErrorKind kind, string url, string query, string problem, string? errorType = null, Exception? inner = null)
        : base(url, problem, field: $"query '{query}'", inner: inner)
    {
        Kind = kind;
        Url = url;
        Query = query;
        ErrorType = errorType;
    }

    public PrometheusErrorKind Kind { get; }

    /// <summary>The endpoint, e.g. <c>http://127.0.0.1:9090/api/v1/query_range</c>.</summary>
    public string Url { get; }

    public string Query { get; }

    /// <summary>Prometheus' <c>errorType</c> (<c>bad_data</c>, <c>execution</c>, <c>timeout</c>, ...), when it sent one.</summary>
    public string? ErrorType { get; }
}
