using System.Diagnostics.Metrics;

namespace Foresight.Cli.Controller;

/// <summary>
/// The controller's own instruments (System.Diagnostics.Metrics; OpenTelemetry exports them at /metrics in serve).
/// Gauges read the latest published status, so a scrape never runs controller code.
/// </summary>
public sealed class ControllerMetrics : IDisposable
{
    public const string MeterName = "Foresight.Controller";

    // Ticks take milliseconds to seconds; the default buckets assume milliseconds.
    private static readonly InstrumentAdvice<double> Seconds = new()
    {
        HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    };

    private readonly Meter _meter;
    private readonly Histogram<double> _tickDuration;
    private readonly Histogram<double> _reconcileDuration;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _commands;
    private readonly Counter<long> _skipped;
    private readonly Counter<long> _failedTicks;
    private readonly Counter<long> _observationWarnings;

    public ControllerMetrics(Func<ControllerStatus> status, IMeterFactory? factory = null)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        _tickDuration = _meter.CreateHistogram("foresight.tick.duration", "s", "Duration of one controller tick.", advice: Seconds);
        _reconcileDuration = _meter.CreateHistogram("foresight.reconcile.duration", "s", "Time spent planning and applying orchestrator commands per tick.", advice: Seconds);
        _decisions = _meter.CreateCounter<long>("foresight.decisions", "{decision}", "Placement decisions, by app and kind.");
        _commands = _meter.CreateCounter<long>("foresight.migrations", "{command}", "Orchestrator commands (spin-up, drain, stop, route, floor), by kind and outcome.");
        _skipped = _meter.CreateCounter<long>("foresight.ticks.skipped", "{tick}", "Ticks skipped because the previous tick ran late.");
        _failedTicks = _meter.CreateCounter<long>("foresight.ticks.failed", "{tick}", "Ticks that ended in an error.");
        _observationWarnings = _meter.CreateCounter<long>(
            "foresight.observation.warnings", "{warning}", "Traffic observations taken with a gap (no_series: the query matched nothing), by app and reason.");
        _meter.CreateObservableGauge("foresight.forecast.error", () => Gauge(status().ForecastMase), "1", "Forecast MASE against seasonal naive (below 1 beats it).");
        _meter.CreateObservableGauge("foresight.forecast.coverage", () => Gauge(status().ForecastCoverage90), "1", "Share of observations inside the 90% forecast interval.");
        _meter.CreateObservableGauge(
            "foresight.fallback",
            () => status().Apps.Select(a => new Measurement<int>(a.ReactiveOnly ? 1 : 0, new KeyValuePair<string, object?>("app", a.Name))),
            "1",
            "1 while an app's decisions are reactive-only (forecasts off).");
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

    public void RecordFailedTick() => _failedTicks.Add(1);

    public void RecordObservationWarning(string app, string reason) =>
        _observationWarnings.Add(1, new KeyValuePair<string, object?>("app", app), new KeyValuePair<string, object?>("reason", reason));

    public void RecordDecision(string app, string kind) =>
        _decisions.Add(1, new KeyValuePair<string, object?>("app", app), new KeyValuePair<string, object?>("kind", kind));

    public void RecordCommand(string kind, string outcome) =>
        _commands.Add(1, new KeyValuePair<string, object?>("kind", kind), new KeyValuePair<string, object?>("outcome", outcome));

    public void Dispose() => _meter.Dispose();

    private static IEnumerable<Measurement<double>> Gauge(double? value) =>
        value is double v ? [new Measurement<double>(v)] : [];
}
