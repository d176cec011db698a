using System.Globalization;
using System.Text.RegularExpressions;
using Foresight.Core.Traffic;

namespace Foresight.Ingest.Prometheus;

/// <summary>
/// One application's traffic in Prometheus: a PromQL query returning one series per source, and the label whose value
/// names the source, e.g. <c>sum by (zone) (rate(http_requests_total{app="shop"}[1m]))</c> with label <c>zone</c>.
/// </summary>
/// <param name="App">The app of the keys; <see cref="TraceTable.AnyApp"/> makes a wide trace shared by every app.</param>
public sealed partial record PrometheusTrafficQuery(string App, string Query, string SourceLabel, string Type = TraceTable.DefaultType)
{
    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(App))
        {
            throw new ArgumentException("The app name must not be empty.", nameof(App));
        }

        if (string.IsNullOrWhiteSpace(Query))
        {
            throw new ArgumentException($"The PromQL query of app '{App}' must not be empty.", nameof(Query));
        }

        if (!IsLabelName(SourceLabel))
        {
            throw new ArgumentException($"'{SourceLabel}' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*).", nameof(SourceLabel));
        }
    }

    /// <summary>True for a valid Prometheus label name: <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.</summary>
    public static bool IsLabelName(string? name) => name is not null && LabelName().IsMatch(name);

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();
}

/// <summary>A series the live read has no usable value for, and why. <see cref="Source"/> is null when the whole query came back empty.</summary>
public sealed record MissingLiveReading(string App, string Type, string? Source, string Reason);

/// <summary>The latest reading per key at <see cref="Time"/>, and the keys without one.</summary>
public sealed record LiveSnapshot(DateTimeOffset Time, IReadOnlyList<TrafficSample> Samples, IReadOnlyList<MissingLiveReading> Missing);

/// <summary>
/// Reads traffic from Prometheus: history as a <see cref="TraceTable"/> (range queries) and live samples (instant
/// queries), with one <see cref="PrometheusTrafficQuery"/> per application.
/// </summary>
/// <remarks>
/// <para>History over [start, end] has one row per step (start, start + step, …, the last step not after end). Ranges of
/// more than <see cref="MaxPointsPerRequest"/> steps are split into several range queries, under Prometheus'
/// limit of 11,000 points per series.</para>
/// <para>Missing readings are the trace reader's empty cells: a step a series has no sample for (a gap, a series that
/// appears late or disappears early) and a NaN or ±Inf sample. They are filled by the same documented
/// <see cref="FillRule"/> (linear interpolation by default; ends take the nearest reading) and counted per key in
/// <see cref="TraceTable.Fills"/>. A negative sample is an error, as in a trace file.</para>
/// <para>Errors (each a <see cref="PrometheusException"/> naming the URL and query): a query with no series over the
/// range; a series without the source label, or two series with the same source (aggregate with
/// <c>sum by (label)</c>); a series with no finite sample at all; and every failure of <see cref="PrometheusClient"/>.</para>
/// <para>Live reads report a key without a usable value (no sample within Prometheus' lookback, a NaN or ±Inf sample,
/// an empty query) in <see cref="LiveSnapshot.Missing"/> instead of failing.</para>
/// </remarks>
public sealed class PrometheusTrafficSource
{
    /// <summary>Steps per range query; Prometheus refuses more than 11,000 points per series.</summary>
    public const int MaxPointsPerRequest = 10_000;

    private readonly PrometheusClient _client;
    private readonly IReadOnlyList<PrometheusTrafficQuery> _queries;
    private readonly FillRule _fill;
    private readonly int _pointsPerRequest;
    private readonly TimeProvider _time;

    public PrometheusTrafficSource(
        PrometheusClient client,
        IReadOnlyList<PrometheusTrafficQuery> queries,
        FillRule fill = FillRule.LinearInterpolation,
        TimeProvider? timeProvider = null,
        int pointsPerRequest = MaxPointsPerRequest)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(queries);
        if (queries.Count == 0)
        {
            throw new ArgumentException("Give at least one query.", nameof(queries));
        }

        foreach (PrometheusTrafficQuery q in queries)
        {
            q.Validate();
        }

        if (queries.Select(q => (q.App, q.Type)).Distinct().Count() != queries.Count)
        {
            throw new ArgumentException("Two queries have the same app and type.", nameof(queries));
        }

        if (queries.Any(q => q.App == TraceTable.AnyApp) && queries.Any(q => q.App != TraceTable.AnyApp))
        {
            throw new ArgumentException($"A wide query (app '{TraceTable.AnyApp}') cannot be mixed with named apps.", nameof(queries));
        }

        if (!Enum.IsDefined(fill))
        {
            throw new ArgumentOutOfRangeException(nameof(fill), fill, "Unknown fill rule.");
        }

        if (pointsPerRequest is < 1 or > 11_000)
        {
            throw new ArgumentOutOfRangeException(nameof(pointsPerRequest), pointsPerRequest, "Between 1 and 11,000 points per request.");
        }

        _client = client;
        _queries = queries;
        _fill = fill;
        _time = timeProvider ?? TimeProvider.System;
        _pointsPerRequest = pointsPerRequest;
    }

    /// <summary>Reads [start, end] at <paramref name="step"/> into a trace table whose time 0 is <paramref name="start"/>.</summary>
    public async Task<TraceTable> ReadHistoryAsync(DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken cancellationToken = default)
    {
        if (step < TimeSpan.FromMilliseconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be at least 1 ms.");
        }

        if (end < start)
        {
            throw new ArgumentException("The end must not be before the start.", nameof(end));
        }

        long count = ((end - start).Ticks / step.Ticks) + 1;
        if (count > int.MaxValue / 2)
        {
            throw new ArgumentException($"{count} steps is too many; use a larger step.", nameof(step));
        }

        int n = (int)count;
        double stepSeconds = step.TotalSeconds;
        double startUnix = start.ToUnixTimeMilliseconds() / 1000.0;
        var timeSeconds = new double[n];
        for (int i = 0; i < n; i++)
        {
            timeSeconds[i] = i * stepSeconds;
        }

        var keys = new List<TrafficKey>();
        var columns = new List<double[]>();
        foreach (PrometheusTrafficQuery q in _queries)
        {
            var byKey = new Dictionary<TrafficKey, double[]>();
            string url = new Uri(_client.BaseAddress, "api/v1/query_range").AbsoluteUri;
            for (int first = 0; first < n; first += _pointsPerRequest)
            {
                int last = Math.Min(n - 1, first + _pointsPerRequest - 1);
                PrometheusResult result = await _client.QueryRangeAsync(
                    q.Query, start + (step * first), start + (step * last), step, cancellationToken).ConfigureAwait(false);
                var seenInChunk = new Dictionary<string, PrometheusSeries>(StringComparer.Ordinal);
                foreach (PrometheusSeries series in result.Series)
                {
                    string source = SourceOf(series, q, url, seenInChunk);
                    var key = new TrafficKey(q.App, q.Type, source);
                    if (!byKey.TryGetValue(key, out double[]? column))
                    {
                        column = new double[n];
                        column.AsSpan().Fill(double.NaN);
                        byKey.Add(key, column);
                    }

                    foreach (PrometheusSample sample in series.Samples)
                    {
                        double offset = (sample.TimeSeconds - startUnix) / stepSeconds;
                        int index = (int)Math.Round(offset);
                        if (index < first || index > last || Math.Abs(offset - index) > 1e-6)
                        {
                            throw new PrometheusException(
                                PrometheusErrorKind.BadResponse, url, q.Query, $"sample at {Describe(sample.TimeSeconds)} is not on the requested step grid");
                        }

                        CheckNotNegative(sample, series, url, q.Query);

                        // NaN and ±Inf stay NaN: a missing reading, filled below.
                        column[index] = double.IsFinite(sample.Value) ? sample.Value : double.NaN;
                    }
                }
            }

            if (byKey.Count == 0)
            {
                throw new PrometheusException(
                    PrometheusErrorKind.EmptyResult,
                    url,
                    q.Query,
                    $"no series between {start:O} and {end:O} for app '{q.App}' (check the metric name, the label filters and the time range: " +
                    "each step only sees samples within Prometheus' lookback, 5 minutes by default)");
            }

            foreach ((TrafficKey key, double[] column) in byKey.OrderBy(p => p.Key.Source, StringComparer.Ordinal))
            {
                keys.Add(key);
                columns.Add(column);
            }
        }

        var filledByColumn = new Dictionary<string, long>(StringComparer.Ordinal);
        long filled = 0;
        for (int j = 0; j < keys.Count; j++)
        {
            string name = keys[j].App == TraceTable.AnyApp ? keys[j].Source : keys[j].ToString();
            long f = MissingValueFill.Apply(timeSeconds, columns[j], _fill);
            if (f < 0)
            {
                PrometheusTrafficQuery q = _queries.First(x => x.App == keys[j].App && x.Type == keys[j].Type);
                throw new PrometheusException(
                    PrometheusErrorKind.BadResult,
                    new Uri(_client.BaseAddress, "api/v1/query_range").AbsoluteUri,
                    q.Query,
                    $"series {q.SourceLabel}=\"{keys[j].Source}\" has no finite sample between {start:O} and {end:O} (all NaN or ±Inf), so there is nothing to fill from");
            }

            if (f > 0)
            {
                filledByColumn[name] = f;
                filled += f;
            }
        }

        return new TraceTable(
            $"prometheus {_client.BaseAddress}",
            timeSeconds,
            start,
            keys,
            columns.ToArray(),
            // query_range answers on the step grid, so the history is on it as a file read onto a grid is.
            new FillReport(TraceReadOptions.RuleName(_fill), filled, filledByColumn) { GridStepSeconds = stepSeconds });
    }

    /// <summary>The latest reading per key now (by the source's <see cref="TimeProvider"/>).</summary>
    public Task<LiveSnapshot> ReadLatestAsync(IReadOnlyCollection<TrafficKey>? expected = null, CancellationToken cancellationToken = default) =>
        ReadLatestAsync(_time.GetUtcNow(), expected, cancellationToken);

    /// <summary>
    /// The latest reading per key at <paramref name="time"/> (Prometheus' instant query: the last sample within its
    /// lookback). Keys in <paramref name="expected"/> without a sample are reported missing, as are NaN or ±Inf samples.
    /// </summary>
    public async Task<LiveSnapshot> ReadLatestAsync(
        DateTimeOffset time, IReadOnlyCollection<TrafficKey>? expected, CancellationToken cancellationToken = default)
    {
        var samples = new List<TrafficSample>();
        var missing = new List<MissingLiveReading>();
        foreach (PrometheusTrafficQuery q in _queries)
        {
            string url = new Uri(_client.BaseAddress, "api/v1/query").AbsoluteUri;
            PrometheusResult result = await _client.QueryAsync(q.Query, time, cancellationToken).ConfigureAwait(false);
            var seen = new Dictionary<string, PrometheusSeries>(StringComparer.Ordinal);
            foreach (PrometheusSeries series in result.Series)
            {
                string source = SourceOf(series, q, url, seen);
                if (series.Samples.Count == 0)
                {
                    missing.Add(new MissingLiveReading(q.App, q.Type, source, "no sample"));
                    continue;
                }

                PrometheusSample sample = series.Samples[^1];
                CheckNotNegative(sample, series, url, q.Query);
                if (!double.IsFinite(sample.Value))
                {
                    missing.Add(new MissingLiveReading(q.App, q.Type, source, $"the sample is {Format(sample.Value)}"));
                    continue;
                }

                samples.Add(new TrafficSample(new TrafficKey(q.App, q.Type, source), time, sample.Value));
            }

            bool any = false;
            foreach (TrafficKey key in expected?.Where(k => k.App == q.App && k.Type == q.Type) ?? [])
            {
                any = true;
                if (!seen.ContainsKey(key.Source))
                {
                    missing.Add(new MissingLiveReading(q.App, q.Type, key.Source, $"no sample at {time:O} or within Prometheus' lookback before it"));
                }
            }

            if (result.Series.Count == 0 && !any)
            {
                missing.Add(new MissingLiveReading(q.App, q.Type, null, $"the query returned no series at {time:O}"));
            }
        }

        return new LiveSnapshot(time, samples, missing);
    }

    private static string SourceOf(PrometheusSeries series, PrometheusTrafficQuery q, string url, Dictionary<string, PrometheusSeries> seen)
    {
        if (!series.Labels.TryGetValue(q.SourceLabel, out string? source) || source.Length == 0)
        {
            throw new PrometheusException(
                PrometheusErrorKind.BadResult,
                url,
                q.Query,
                $"series {series.Describe()} has no label '{q.SourceLabel}' naming its source; keep it in the result, e.g. sum by ({q.SourceLabel}) (...)");
        }

        if (!seen.TryAdd(source, series))
        {
            throw new PrometheusException(
                PrometheusErrorKind.BadResult,
                url,
                q.Query,
                $"two series have {q.SourceLabel}=\"{source}\" ({seen[source].Describe()} and {series.Describe()}); " +
                $"aggregate them to one per source, e.g. sum by ({q.SourceLabel}) (...)");
        }

        return source;
    }

    private static void CheckNotNegative(PrometheusSample sample, PrometheusSeries series, string url, string query)
    {
        if (sample.Value < 0 && !double.IsNegativeInfinity(sample.Value))
        {
            throw new PrometheusException(
                PrometheusErrorKind.BadResult,
                url,
                query,
                $"series {series.Describe()} has a negative value {Format(sample.Value)} at {Describe(sample.TimeSeconds)}; traffic cannot be negative");
        }
    }

    private static string Describe(double unixSeconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unixSeconds * 1000)).ToString("O", CultureInfo.InvariantCulture);

    private static string Format(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };
}
