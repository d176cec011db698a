using System.Globalization;
using System.Text.Json;
using Foresight.Core;

namespace Foresight.Cli.Controller;

/// <summary>Reads the current request rate per site of one app.</summary>
public interface ITrafficObserver
{
    /// <summary>Requests per second per site, in the order of <see cref="KubernetesApp.Sites"/> (0 where nothing was reported).</summary>
    ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken);
}

/// <summary>
/// A minimal instant-query client of the Prometheus HTTP API (<c>GET /api/v1/query</c>): the app's PromQL must return a
/// vector with one series per site, labelled by <see cref="KubernetesApp.SiteLabel"/>. Errors name the app and query.
/// </summary>
public sealed class PrometheusTrafficObserver(HttpClient http, Uri baseAddress) : ITrafficObserver
{
    public async ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
    {
        var uri = new Uri(baseAddress, "api/v1/query?query=" + Uri.EscapeDataString(app.Query));
        string where = $"prometheus query of app '{app.Profile.Name}'";
        using HttpResponseMessage response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        string body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        JsonDocument json;
        try
        {
            json = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            throw new InvalidInputException(where, $"HTTP {(int)response.StatusCode}: the response is not JSON ({e.Message})", field: "query", inner: e);
        }

        using (json)
        {
            JsonElement root = json.RootElement;
            if (!root.TryGetProperty("status", out JsonElement status) || status.GetString() != "success")
            {
                string error = root.TryGetProperty("error", out JsonElement e) ? e.GetString() ?? "" : body;
                throw new InvalidInputException(where, $"HTTP {(int)response.StatusCode}: {error}", field: "query");
            }

            JsonElement data = root.GetProperty("data");
            string type = data.GetProperty("resultType").GetString() ?? "";
            if (type != "vector")
            {
                throw new InvalidInputException(where, $"expected an instant vector (one series per site), got {type}", field: "query");
            }

            var rates = new double[app.Sites.Count];
            foreach (JsonElement series in data.GetProperty("result").EnumerateArray())
            {
                if (!series.GetProperty("metric").TryGetProperty(app.SiteLabel, out JsonElement label))
                {
                    throw new InvalidInputException(where, $"a series has no '{app.SiteLabel}' label; aggregate with sum by ({app.SiteLabel})", field: "siteLabel");
                }

                int site = IndexOf(app.Sites, label.GetString());
                if (site < 0)
                {
                    continue; // a site this controller does not manage
                }

                string text = series.GetProperty("value")[1].GetString() ?? "";
                if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || !double.IsFinite(value) || value < 0)
                {
                    // Prometheus reports NaN for 0/0 rates (no traffic at all): that is no traffic, not an error.
                    value = text == "NaN" ? 0 : throw new InvalidInputException(where, $"site '{label.GetString()}' has rate '{text}'; expected a finite rate >= 0", field: "query");
                }

                rates[site] += value;
            }

            return rates;
        }
    }

    private static int IndexOf(IReadOnlyList<string> sites, string? site)
    {
        for (int i = 0; i < sites.Count; i++)
        {
            if (string.Equals(sites[i], site, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
