using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Ingest.Prometheus;

namespace Foresight.Cli.Controller;

/// <summary>
/// The current request rate per site of an app, read through <see cref="PrometheusTrafficSource.ReadLatestAsync(DateTimeOffset, IReadOnlyCollection{TrafficKey}?, CancellationToken)"/>,
/// the same path (and the same rules for duplicate, negative and non-finite samples) as the history that
/// <c>simulate --prometheus</c> replays. The app's PromQL returns one series per site, labelled by
/// <see cref="KubernetesApp.SiteLabel"/>. A site without a usable sample (none, NaN, ±Inf) keeps its last reading, as the
/// history path fills a trailing gap, and 0 before its first. Errors name the app and the query.
/// </summary>
public sealed class PrometheusTrafficObserver(PrometheusClient client, TimeProvider time) : ITrafficObserver
{
    // Per app: its source, the keys it should report, and each site's last reading. The loop observes one app at a time.
    private readonly Dictionary<string, (PrometheusTrafficSource Source, TrafficKey[] Expected, double[] Last)> _apps = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IReadOnlyList<ObservationWarning>> _warnings = new(StringComparer.Ordinal);

    public PrometheusTrafficObserver(HttpClient http, Uri baseAddress, TimeProvider? time = null)
        : this(new PrometheusClient(http, baseAddress, timeProvider: time), time ?? TimeProvider.System)
    {
    }

    /// <summary>Sites whose latest reading was missing on the last observation of each app, with the reason.</summary>
    public IReadOnlyList<MissingLiveReading> LastMissing { get; private set; } = [];

    public async ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken)
    {
        string where = $"prometheus query of app '{app.Profile.Name}'";
        if (!_apps.TryGetValue(app.Profile.Name, out var reader))
        {
            reader = (
                new PrometheusTrafficSource(client, [new PrometheusTrafficQuery(app.Profile.Name, app.Query, app.SiteLabel)], timeProvider: time),
                app.Sites.Select(s => new TrafficKey(app.Profile.Name, TraceTable.DefaultType, s)).ToArray(),
                new double[app.Sites.Count]);
            _apps.Add(app.Profile.Name, reader);
        }

        (PrometheusTrafficSource source, TrafficKey[] expected, double[] last) = reader;
        LiveSnapshot snapshot;
        try
        {
            snapshot = await source.ReadLatestAsync(time.GetUtcNow(), expected, cancellationToken).ConfigureAwait(false);
        }
        catch (PrometheusException e)
        {
            throw new InvalidInputException(where, e.Message, field: "query", inner: e);
        }

        foreach (TrafficSample sample in snapshot.Samples)
        {
            int site = app.SiteIndex(sample.Key.Source);
            if (site >= 0)
            {
                last[site] = sample.Volume; // other sites are managed elsewhere
            }
        }

        LastMissing = snapshot.Missing;
        _warnings[app.Profile.Name] = Warn(app, snapshot);
        return (double[])last.Clone();
    }

    public IReadOnlyList<ObservationWarning> Warnings(string app) => _warnings.GetValueOrDefault(app) ?? [];

    /// <summary>
    /// A query that matches no series for any configured site reads as no traffic at all, which is rarely true: most
    /// often the query or its site label is wrong. Said once for the app; a site missing alone is said per site.
    /// </summary>
    private static IReadOnlyList<ObservationWarning> Warn(KubernetesApp app, LiveSnapshot snapshot)
    {
        var missing = snapshot.Missing.Where(m => m.Source is null || app.SiteIndex(m.Source) >= 0).ToList();
        if (missing.Count == 0)
        {
            return [];
        }

        bool none = !snapshot.Samples.Any(s => app.SiteIndex(s.Key.Source) >= 0);
        if (none)
        {
            return [new ObservationWarning("no_series", null,
                $"the query matched no series for any of the sites ({string.Join(", ", app.Sites)}) by label '{app.SiteLabel}': traffic is taken as the last readings (0 before any); check the query and siteLabel")];
        }

        return missing.Where(m => m.Source is not null).Select(m => new ObservationWarning(
            m.Reason.StartsWith("the sample is", StringComparison.Ordinal) ? "non_finite" : "missing_site", m.Source,
            $"site '{m.Source}': {m.Reason}; its last reading is kept")).ToList();
    }
}
