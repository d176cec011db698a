using System.Globalization;
using Foresight.Core;
using Foresight.Ingest.Prometheus;

namespace Foresight.Cli.Controller;

/// <summary>
/// The current request rate per site of an app, from an instant query through <see cref="PrometheusClient"/> (bounded
/// retries, typed errors): the app's PromQL must return a vector with one series per site, labelled by
/// <see cref="KubernetesApp.SiteLabel"/>. Errors name the app and the query.
/// </summary>
public sealed class PrometheusTrafficObserver(PrometheusClient client, TimeProvider time) : ITrafficObserver
{
    public PrometheusTrafficObserver(HttpClient http, Uri baseAddress, TimeProvider? time = null)
        : this(new PrometheusClient(http, baseAddress, timeProvider: time), time ?? TimeProvider.System)
    {
    }

    public async ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
    {
        string where = $"prometheus query of app '{app.Profile.Name}'";
        PrometheusResult result;
        try
        {
            result = await client.QueryAsync(app.Query, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        catch (PrometheusException e)
        {
            throw new InvalidInputException(where, e.Message, field: "query", inner: e);
        }

        if (result.ResultType != "vector")
        {
            throw new InvalidInputException(where, $"expected an instant vector (one series per site), got {result.ResultType}", field: "query");
        }

        var rates = new double[app.Sites.Count];
        foreach (PrometheusSeries series in result.Series)
        {
            if (!series.Labels.TryGetValue(app.SiteLabel, out string? label))
            {
                throw new InvalidInputException(where, $"series {series.Describe()} has no '{app.SiteLabel}' label; aggregate with sum by ({app.SiteLabel})", field: "siteLabel");
            }

            int site = app.SiteIndex(label);
            if (site < 0 || series.Samples.Count == 0)
            {
                continue; // a site this controller does not manage
            }

            double value = series.Samples[^1].Value;
            if (double.IsNaN(value))
            {
                value = 0; // Prometheus reports NaN for 0/0 rates (no traffic at all): that is no traffic, not an error
            }
            else if (!double.IsFinite(value) || value < 0)
            {
                throw new InvalidInputException(where, $"site '{label}' has rate {value.ToString(CultureInfo.InvariantCulture)}; expected a finite rate >= 0", field: "query");
            }

            rates[site] += value;
        }

        return rates;
    }
}
