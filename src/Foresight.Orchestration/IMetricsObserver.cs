namespace Foresight.Orchestration;

/// <summary>
/// The observation port: what a metrics pipeline measures of a cluster's traffic, beside <see cref="IOrchestrator"/>'s
/// objects. Policies read traffic only through it, so the same policy runs against the simulator (which measures
/// every step) and against Kubernetes (where Prometheus does). Apps are indexed in the controller's profile order and
/// sites in its topology order.
/// <para>
/// Contract:
/// <list type="bullet">
/// <item>Readings only ever describe the past: nothing here reveals demand that has not arrived yet.</item>
/// <item><see cref="RefreshAsync"/> brings the readings up to now; the queries between two refreshes answer from the same readings.</item>
/// <item>A site without a reading counts as 0 requests per second; <see cref="Warnings"/> says why.</item>
/// </list>
/// </para>
/// </summary>
public interface IMetricsObserver
{
    /// <summary>Seconds between two fresh readings: the finest window worth asking for.</summary>
    double SampleSeconds { get; }

    /// <summary>Takes the latest readings (a scrape). A source that measures continuously returns at once.</summary>
    ValueTask RefreshAsync(CancellationToken cancellationToken);

    /// <summary>Mean requests per second of the app entering at each site over the last <paramref name="windowSeconds"/>.</summary>
    void IngressRates(int app, double windowSeconds, Span<double> ratesBySite);

    /// <summary>The instance's CPU utilization (a fraction of its request) over the metrics window; null when not measured.</summary>
    double? InstanceUtilization(InstanceId id);

    /// <summary>Requests in flight over all of the app's instances now (what Knative's queue-proxy reports).</summary>
    double Concurrency(int app);

    /// <summary>Why some readings are missing since the last refresh (for example, a query that matched no series).</summary>
    IReadOnlyList<string> Warnings => [];
}
