namespace Foresight.Ingest.Prometheus;

/// <summary>One sample: Unix time in seconds and the value (NaN and ±Inf are kept as Prometheus sent them).</summary>
public readonly record struct PrometheusSample(double TimeSeconds, double Value);

/// <summary>One series of a result: its label set (including <c>__name__</c> when present) and its samples in time order.</summary>
public sealed record PrometheusSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<PrometheusSample> Samples)
{
    /// <summary>The label set as PromQL writes it, e.g. <c>{__name__="up", zone="a"}</c>.</summary>
    public string Describe() =>
        "{" + string.Join(", ", Labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}=\"{l.Value}\"")) + "}";
}

/// <summary>
/// A successful answer of <c>/api/v1/query</c> or <c>/api/v1/query_range</c>. <see cref="ResultType"/> is
/// <c>matrix</c>, <c>vector</c> or <c>scalar</c> (a scalar is one series without labels).
/// </summary>
public sealed record PrometheusResult(string ResultType, IReadOnlyList<PrometheusSeries> Series, IReadOnlyList<string> Warnings);
