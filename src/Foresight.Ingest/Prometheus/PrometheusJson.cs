using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Foresight.Ingest.Prometheus;

/// <summary>
/// Parses the Prometheus HTTP API's JSON envelope (<c>{"status", "data": {"resultType", "result"}, "errorType",
/// "error", "warnings"}</c>). Sample values are strings, including <c>"NaN"</c>, <c>"+Inf"</c> and <c>"-Inf"</c>.
/// </summary>
internal static class PrometheusJson
{
    public static PrometheusResult Parse(string body, HttpStatusCode status, string url, string query)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new PrometheusException(
                PrometheusErrorKind.BadResponse,
                url,
                query,
                $"HTTP {(int)status} {status} with a body that is not Prometheus API JSON ({e.Message}); " +
                $"is the URL the Prometheus server's base address? Body starts: '{Shorten(body)}'",
                inner: e);
        }

        using (doc)
        {
            JsonElement root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("status", out JsonElement statusElement))
            {
                throw Bad(url, query, status, "no 'status' field", body);
            }

            string? state = statusElement.ValueKind == JsonValueKind.String ? statusElement.GetString() : null;
            if (state == "error")
            {
                string errorType = StringOr(root, "errorType", "unknown");
                string error = StringOr(root, "error", "(no message)");
                throw new PrometheusException(
                    PrometheusErrorKind.QueryFailed,
                    url,
                    query,
                    $"Prometheus rejected the query (HTTP {(int)status}, {errorType}): {error}",
                    errorType);
            }

            if (state != "success")
            {
                throw Bad(url, query, status, $"unknown status '{Shorten(statusElement.ToString())}'", body);
            }

            if (!root.TryGetProperty("data", out JsonElement data) || data.ValueKind != JsonValueKind.Object
                || !data.TryGetProperty("resultType", out JsonElement typeElement) || typeElement.ValueKind != JsonValueKind.String
                || !data.TryGetProperty("result", out JsonElement result))
            {
                throw Bad(url, query, status, "a success without data.resultType and data.result", body);
            }

            string resultType = typeElement.GetString()!;
            var warnings = new List<string>();
            if (root.TryGetProperty("warnings", out JsonElement w) && w.ValueKind == JsonValueKind.Array)
            {
                warnings.AddRange(w.EnumerateArray().Select(x => x.ToString()));
            }

            var series = new List<PrometheusSeries>();
            switch (resultType)
            {
                case "matrix" when result.ValueKind == JsonValueKind.Array:
                    foreach (JsonElement s in result.EnumerateArray())
                    {
                        var samples = new List<PrometheusSample>();
                        if (s.TryGetProperty("values", out JsonElement values) && values.ValueKind == JsonValueKind.Array)
                        {
                            foreach (JsonElement pair in values.EnumerateArray())
                            {
                                samples.Add(Sample(pair, url, query, status, body));
                            }
                        }

                        series.Add(new PrometheusSeries(Labels(s, url, query, status, body), samples));
                    }

                    break;
                case "vector" when result.ValueKind == JsonValueKind.Array:
                    foreach (JsonElement s in result.EnumerateArray())
                    {
                        PrometheusSample[] samples = s.TryGetProperty("value", out JsonElement value) ? [Sample(value, url, query, status, body)] : [];
                        series.Add(new PrometheusSeries(Labels(s, url, query, status, body), samples));
                    }

                    break;
                case "scalar":
                    series.Add(new PrometheusSeries(new Dictionary<string, string>(), [Sample(result, url, query, status, body)]));
                    break;
                default:
                    throw new PrometheusException(
                        PrometheusErrorKind.BadResult,
                        url,
                        query,
                        $"result type '{resultType}' cannot be read as traffic (expected matrix, vector or scalar)");
            }

            return new PrometheusResult(resultType, series, warnings);
        }
    }

    /// <summary>Parses a sample value as Prometheus formats it (Go's strconv): numbers, <c>NaN</c>, <c>+Inf</c>, <c>-Inf</c>.</summary>
    public static bool TryParseValue(string? text, out double value)
    {
        switch (text)
        {
            case "NaN":
                value = double.NaN;
                return true;
            case "+Inf" or "Inf":
                value = double.PositiveInfinity;
                return true;
            case "-Inf":
                value = double.NegativeInfinity;
                return true;
            case null:
                value = 0;
                return false;
            default:
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        }
    }

    private static Dictionary<string, string> Labels(JsonElement series, string url, string query, HttpStatusCode status, string body)
    {
        if (series.ValueKind != JsonValueKind.Object || !series.TryGetProperty("metric", out JsonElement metric) || metric.ValueKind != JsonValueKind.Object)
        {
            throw Bad(url, query, status, "a series without a 'metric' object", body);
        }

        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (JsonProperty label in metric.EnumerateObject())
        {
            labels[label.Name] = label.Value.ValueKind == JsonValueKind.String ? label.Value.GetString()! : label.Value.ToString();
        }

        return labels;
    }

    private static PrometheusSample Sample(JsonElement pair, string url, string query, HttpStatusCode status, string body)
    {
        if (pair.ValueKind != JsonValueKind.Array || pair.GetArrayLength() != 2
            || pair[0].ValueKind != JsonValueKind.Number || pair[1].ValueKind != JsonValueKind.String
            || !TryParseValue(pair[1].GetString(), out double value))
        {
            throw Bad(url, query, status, $"a sample that is not [unix time, \"value\"]: {Shorten(pair.ToString())}", body);
        }

        return new PrometheusSample(pair[0].GetDouble(), value);
    }

    private static string StringOr(JsonElement root, string name, string fallback) =>
        root.TryGetProperty(name, out JsonElement e) && e.ValueKind == JsonValueKind.String ? e.GetString()! : fallback;

    private static PrometheusException Bad(string url, string query, HttpStatusCode status, string problem, string body) =>
        new(PrometheusErrorKind.BadResponse, url, query, $"HTTP {(int)status}: not a Prometheus API response: {problem}; body starts: '{Shorten(body)}'");

    private static string Shorten(string text) => text.Length <= 200 ? text : text[..200] + "…";
}
