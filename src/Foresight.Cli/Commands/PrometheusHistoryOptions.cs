using System.CommandLine;
using System.Globalization;
using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Ingest.Prometheus;

namespace Foresight.Cli.Commands;

/// <summary>The <c>simulate</c> options that replay history from Prometheus instead of a trace file.</summary>
public sealed record PrometheusHistoryArgs(string Url, string? PromQl, string? SourceLabel, string? Start, string? End, string Step);

/// <summary>
/// <c>--prometheus URL --promql QUERY --source-label LABEL --start T --end T [--step 1h]</c>: the query's series, one per
/// value of the source label, become a wide trace (its sources shared by every app of the scenario).
/// </summary>
public sealed class PrometheusHistoryOptions
{
    private readonly Option<string?> _url = new("--prometheus") { Description = "Read the trace from this Prometheus server (http://host:port) instead of a file." };
    private readonly Option<string?> _promql = new("--promql") { Description = "With --prometheus: the PromQL giving traffic per source, e.g. sum by (zone) (rate(requests_total[5m]))." };
    private readonly Option<string?> _label = new("--source-label") { Description = "With --prometheus: the label naming each series' source (e.g. zone)." };
    private readonly Option<string?> _start = new("--start") { Description = "With --prometheus: first time to read (ISO-8601 or Unix seconds)." };
    private readonly Option<string?> _end = new("--end") { Description = "With --prometheus: last time to read (ISO-8601 or Unix seconds)." };
    private readonly Option<string> _step = new("--step")
    {
        Description = "With --prometheus: the trace row interval, e.g. 1h, 5m, 60 (seconds; default 1h). With --trace: the trace's step " +
            "(default: inferred from the rows); rows off its grid are moved onto it, and steps with no row are missing readings, filled and counted.",
        DefaultValueFactory = _ => "1h",
    };

    public IEnumerable<Option> All => [_url, _promql, _label, _start, _end, _step];

    public PrometheusHistoryArgs? Bind(ParseResult parse)
    {
        string? url = parse.GetValue(_url);
        if (url is null)
        {
            // --step also gives a trace file's step; SimulateCommand checks it (TraceStep).
            foreach (Option option in new Option[] { _promql, _label, _start, _end })
            {
                if (parse.GetResult(option) is { Implicit: false })
                {
                    throw new InvalidInputException(option.Name, "is only used with --prometheus URL");
                }
            }

            return null;
        }

        return new PrometheusHistoryArgs(url, parse.GetValue(_promql), parse.GetValue(_label), parse.GetValue(_start), parse.GetValue(_end), parse.GetValue(_step) ?? "1h");
    }

    /// <summary>The <c>--step</c> given without <c>--prometheus</c> (the step of a trace file), or null.</summary>
    public string? TraceStep(ParseResult parse) =>
        parse.GetValue(_url) is null && parse.GetResult(_step) is { Implicit: false } ? parse.GetValue(_step) : null;

    /// <summary>Reads the history; every problem is an <see cref="InvalidInputException"/> naming the option.</summary>
    public static TraceTable Read(PrometheusHistoryArgs args, TimeProvider? timeProvider = null)
    {
        if (!Uri.TryCreate(args.Url, UriKind.Absolute, out Uri? url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidInputException("--prometheus", $"'{args.Url}' is not an http:// or https:// URL");
        }

        string promql = Require(args.PromQl, "--promql", "the PromQL query giving traffic per source");
        string label = Require(args.SourceLabel, "--source-label", "the label naming each series' source");
        if (!PrometheusTrafficQuery.IsLabelName(label))
        {
            throw new InvalidInputException("--source-label", $"'{label}' is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)");
        }

        DateTimeOffset start = ParseTime(Require(args.Start, "--start", "the first time to read"), "--start");
        DateTimeOffset end = ParseTime(Require(args.End, "--end", "the last time to read"), "--end");
        if (end <= start)
        {
            throw new InvalidInputException("--end", $"{end:O} is not after --start {start:O}");
        }

        TimeSpan step = TimeSpan.FromSeconds(ParseStep(args.Step));
        if ((end - start) / step > 10_000_000)
        {
            throw new InvalidInputException("--step", $"{args.Step} makes more than 10 million rows between --start and --end; use a larger step");
        }

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };   // the client's own per-attempt timeout rules
        var client = new PrometheusClient(http, url, timeProvider: timeProvider);
        var source = new PrometheusTrafficSource(client, [new PrometheusTrafficQuery(TraceTable.AnyApp, promql, label)], timeProvider: timeProvider);
        try
        {
            return source.ReadHistoryAsync(start, end, step).GetAwaiter().GetResult();
        }
        catch (PrometheusException e)
        {
            string option = e.Kind is PrometheusErrorKind.Unreachable or PrometheusErrorKind.Timeout or PrometheusErrorKind.BadResponse ? "--prometheus" : "--promql";
            throw new InvalidInputException(option, e.Message, inner: e);
        }
    }

    private static string Require(string? value, string option, string what) =>
        string.IsNullOrWhiteSpace(value) ? throw new InvalidInputException(option, $"required with --prometheus: {what}") : value;

    internal static DateTimeOffset ParseTime(string text, string option)
    {
        string t = text.Trim();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double unix) && double.IsFinite(unix)
            && unix is >= 0 and < 253_402_300_800)
        {
            return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(unix * 1000));
        }

        if (DateTimeOffset.TryParse(t, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AllowWhiteSpaces, out DateTimeOffset time))
        {
            return time;
        }

        throw new InvalidInputException(option, $"'{text}' is not a time: use ISO-8601 (2013-11-01T00:00:00Z) or Unix seconds");
    }

    internal static double ParseStep(string text)
    {
        try
        {
            double seconds = SimulateCommand.ParseDuration(text);
            return seconds >= 0.001 ? seconds : throw new InvalidInputException("--step", $"'{text}' is shorter than 1 ms");
        }
        catch (InvalidInputException e) when (e.File == "--duration")
        {
            throw new InvalidInputException("--step", $"'{text}' is not a positive step such as 1h, 5m or 60 (seconds)");
        }
    }
}
