using System.Diagnostics.Metrics;

namespace Foresight.Cli.Controller;

/// <summary>
/// The controller's own instruments (System.Diagnostics.Metrics; OpenTelemetry exports them at /metrics in serve).
/// Gauges read the latest published status, so a scrape never runs controller code. Counters start at 0 (per app
/// once the apps are known) so a first scrape lists every series a dashboard queries.
/// </summary>
public sealed class ControllerMetrics : IDisposable
{
    public const string MeterName = "Foresight.Controller";

    private static readonly string[] DecisionKinds = ["raise-floor", "scale-up", "scale-down"];
    private static readonly string[] CommandKinds = ["spin-up", "drain", "stop", "set-route", "set-floor"];
    private static readonly string[] Outcomes = ["applied", "planned", "failed"];
    private static readonly string[] WarningReasons = ["no_series", "missing_site", "non_finite"];

    // Ticks take milliseconds to seconds; the default buckets assume milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private readonly Meter _meter;
    private readonly Histogram<double> _tickDuration;
    private readonly Histogram<double> _tickLateness;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _moves;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _failedTicks;
    private readonly Counter<long> _observationWarnings;
    private readonly HashSet<string> _seededApps = new(StringComparer.Ordinal);

    public ControllerMetrics(Func<ControllerStatus> status, IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _tickDuration = _meter.CreateHistogram("foresight.tick.duration", "s", "Duration of one controller tick.", advice: Seconds);
        _tickLateness = _meter.CreateHistogram("foresight.tick.lateness", "s", "How long after its due time a tick started.", advice: Seconds);
        _reconcileDuration = _meter.CreateHistogram("foresight.reconcile.duration", "s", "Time spent planning and applying orchestrator commands per tick.", advice: Seconds);
        _decisions = _meter.CreateCounter<long>("foresight.decisions", "{decision}", "Placement decisions, by app and kind.");
        _commands = _meter.CreateCounter<long>("foresight.migrations", "{command}", "Orchestrator commands (spin-up, drain, stop, route, floor), by kind and outcome.");
        _moves = _meter.CreateCounter<long>(
            "foresight.traffic.moves", "{replica}", "Desired replicas moved from one site to another (a migration: taken off 'from', added at 'to' in one tick), by app.");
        _skipped = _meter.CreateCounter<long>("foresight.ticks.skipped", "{tick}", "Ticks skipped because the previous tick ran late.");
        _failedTicks = _meter.CreateCounter<long>("foresight.ticks.failed", "{tick}", "Ticks that ended in an error.");
        _observationWarnings = _meter.CreateCounter<long>(
            "foresight.observation.warnings", "{warning}", "Traffic observations taken with a gap (no_series: the query matched nothing), by app and reason.");
        _meter.CreateObservableGauge("foresight.forecast.error", () => Gauge(status().ForecastMase), "1", "Forecast MASE against seasonal naive (below 1 beats it).");
        _meter.CreateObservableGauge("foresight.forecast.coverage", () => Gauge(status().ForecastCoverage90), "1", "Share of observations inside the 90% forecast interval.");
        _meter.CreateObservableGauge(
            "foresight.fallback",
            () => status().Apps.Select(a => new Measurement<int>(a.ReactiveOnly ? 1 : 0, Tag("app", a.Name))),
            "1",
            "1 while an app's decisions are reactive-only (forecasts off).");
        _meter.CreateObservableGauge(
            "foresight.instances",
            () => status().Apps.SelectMany(a => a.Placements.Select(p => new Measurement<int>(p.Live, Tag("app", a.Name), Tag("site", p.Site)))),
            "{instance}",
            "Live instances (not draining) per app and site.");
        _meter.CreateObservableGauge(
            "foresight.instances.ready",
            () => status().Apps.SelectMany(a => a.Placements.Select(p => new Measurement<int>(p.Ready, Tag("app", a.Name), Tag("site", p.Site)))),
            "{instance}",
            "Ready instances per app and site.");
        _meter.CreateObservableGauge(
            "foresight.instances.desired",
            () => status().Apps.SelectMany(a => a.Placements.Select(p => new Measurement<int>(p.Desired, Tag("app", a.Name), Tag("site", p.Site)))),
            "{instance}",
            "Instances the controller wants per app and site (the larger of reactive and predictive).");
        _meter.CreateObservableGauge("foresight.demand.actual", () => ActualDemand(status()), "{request}/s", "Observed requests per second entering per app and site.");
        _meter.CreateObservableGauge(
            "foresight.demand.forecast", () => ForecastDemand(status()), "{request}/s", "Forecast requests per second per app and site at the lead time ahead, by quantile.");
    }

    public void RecordTick(double seconds, double reconcileSeconds, long skipped)
    {
        _tickDuration.Record(seconds);
        _reconcileDuration.Record(reconcileSeconds);
        if (skipped > 0)
        {
            _skipped.Add(skipped);
        }
    }

    public void RecordLateness(double seconds) => _tickLateness.Record(Math.Max(0, seconds));

    public void RecordFailedTick() => _failedTicks.Add(1);

    public void RecordObservationWarning(string app, string reason) => _observationWarnings.Add(1, Tag("app", app), Tag("reason", reason));

    public void RecordDecision(string app, string kind) => _decisions.Add(1, Tag("app", app), Tag("kind", kind));

    public void RecordCommand(string kind, string outcome) => _commands.Add(1, Tag("kind", kind), Tag("outcome", outcome));

    public void RecordMove(string app, string from, string to, int replicas) => _moves.Add(replicas, Tag("app", app), Tag("from", from), Tag("to", to));

    /// <summary>
    /// Starts the counters at 0 (the labelled ones for apps not seen before), so their series exist before the first event.
    /// Called every tick rather than at construction: a measurement before the exporter listens is lost.
    /// </summary>
    public void SeedApps(IEnumerable<string> apps)
    {
        bool first = _seededApps.Count == 0;
        foreach (string app in apps)
        {
            if (!_seededApps.Add(app))
            {
                continue;
            }

            foreach (string kind in DecisionKinds)
            {
                _decisions.Add(0, Tag("app", app), Tag("kind", kind));
            }

            foreach (string reason in WarningReasons)
            {
                _observationWarnings.Add(0, Tag("app", app), Tag("reason", reason));
            }

            _moves.Add(0, Tag("app", app), Tag("from", ""), Tag("to", ""));
        }

        if (first && _seededApps.Count > 0)
        {
            _failedTicks.Add(0);
            _skipped.Add(0);
            foreach (string kind in CommandKinds)
            {
                foreach (string outcome in Outcomes)
                {
                    _commands.Add(0, Tag("kind", kind), Tag("outcome", outcome));
                }
            }
        }
    }

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?> Tag(string key, string value) => new(key, value);

    private static IEnumerable<Measurement<double>> Gauge(double? value) =>
        value is double v ? [new Measurement<double>(v)] : [];

    private static IEnumerable<Measurement<double>> ActualDemand(ControllerStatus status) =>
        from a in status.Apps
        from series in a.Actual
        where series.Rps.Count > 0
        select new Measurement<double>(series.Rps[^1], Tag("app", a.Name), Tag("site", series.Site));

    /// <summary>Each band's step nearest the lead time (the forecast a decision acts on), or its last step when the horizon is shorter.</summary>
    private static IEnumerable<Measurement<double>> ForecastDemand(ControllerStatus status)
    {
        foreach (AppStatus a in status.Apps)
        {
            foreach (ForecastBand band in a.Forecasts)
            {
                if (band.Times.Count == 0)
                {
                    continue;
                }

                double at = status.EngineSeconds + a.LeadTimeSeconds;
                int k = 0;
                while (k < band.Times.Count - 1 && band.Times[k] < at)
                {
                    k++;
                }

                yield return new Measurement<double>(band.P05[k], Tag("app", a.Name), Tag("site", band.Site), Tag("quantile", "0.05"));
                yield return new Measurement<double>(band.P50[k], Tag("app", a.Name), Tag("site", band.Site), Tag("quantile", "0.5"));
                yield return new Measurement<double>(band.P95[k], Tag("app", a.Name), Tag("site", band.Site), Tag("quantile", "0.95"));
            }
        }
    }
}
