using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Foresight.Cli.Controller;
using Foresight.Cli.Serve;

namespace Foresight.Benchmarks.Reliability;

/// <summary>
/// <c>http-load --clients N --requests R --seconds S</c>: <c>serve</c> started in-process on 127.0.0.1 (simulated bikenyc,
/// ticks running, a journal), first left alone for <c>--baseline-seconds</c>, then hit by N concurrent clients cycling
/// through /api/status, /api/forecasts and /metrics until R requests or S seconds, whichever comes first. One request
/// in twenty is a state change (pause, resume, dry-run) without the token or with a wrong one: each must be refused
/// (401 or 403) and leave the loop as it was. Tick lateness is the gap between consecutive tick publications beyond the
/// tick period, so a tick that starts late or runs long shows in it.
/// <para>
/// serve bounds concurrent request processing (<see cref="ServeLimits"/>); beyond it a request gets 503 with
/// Retry-After. Those are counted as shed (intended backpressure), not as errors, and a client waits the Retry-After
/// before its next request unless <c>--honour-retry-after false</c>. Clients run in the same process as the server,
/// so their CPU is reported with the server's (<c>processCpuSeconds</c>): on a small machine they compete with it.
/// </para>
/// </summary>
public static class HttpLoad
{
    public sealed record Phase(string Name, double Seconds, long Ticks, long SkippedTicks, double TickLatenessP50Ms, double TickLatenessP99Ms, double TickDurationP99Ms);

    public sealed record Result(
        int Clients, long RequestsAsked, double SecondsAsked, int TickMs, long Requests, double Seconds, double RequestsPerSecond,
        double LatencyP50Ms, double LatencyP99Ms, double LatencyMaxMs, long Errors, IReadOnlyDictionary<string, long> ByEndpoint,
        long UnauthorizedAttempts, long UnauthorizedRefused, long UnauthorizedShed, long UnauthorizedAccepted, bool LoopUntouched,
        long Served, double ServedPerSecond, long Shed, bool HonourRetryAfter, int ServeConcurrency, int ServeQueue, int? ServeRequestsPerSecond,
        bool ClientsInProcess, int ProcessorCount, double ProcessCpuSeconds, IReadOnlyList<Phase> Phases);

    private static readonly string[] Reads = ["/api/status", "/api/forecasts", "/metrics"];
    private static readonly (HttpMethod Method, string Path)[] Writes = [(HttpMethod.Post, "/api/pause"), (HttpMethod.Post, "/api/resume"), (HttpMethod.Post, "/api/dry-run?enabled=true")];

    public static async Task<Result> RunAsync(Options o)
    {
        int clients = (int)o.Number("clients", 32, 1, 1024);
        long requests = (long)o.Number("requests", 60_000, 1, 100_000_000);
        double seconds = o.Number("seconds", 60, 1, 3600);
        double baselineSeconds = o.Number("baseline-seconds", 15, 1, 3600);
        int tickMs = (int)o.Number("tick-ms", 250, 10, 60_000);
        bool honourRetryAfter = o.Text("honour-retry-after") is not { } honour
            || (bool.TryParse(honour, out bool h) ? h : throw new Foresight.Core.InvalidInputException("--honour-retry-after", $"'{honour}' is not true or false"));
        int? rate = o.Text("rate") is null ? ServeLimits.Default.RequestsPerSecond : (int)o.Number("rate", 0, 1, 1_000_000);
        var limits = new ServeLimits(
            (int)o.Number("concurrency", ServeLimits.Default.Concurrency, 1, 1024), (int)o.Number("queue", ServeLimits.Default.Queue, 0, 100_000), rate);
        string journal = Path.Combine(Path.GetTempPath(), $"foresight-http-load-{Environment.ProcessId}.db");
        ProcessFigures.DeleteJournal(journal);
        var config = new ControllerConfig
        {
            TickMs = tickMs,
            Journal = journal,
            Simulated = new SimulatedConfig { Scenario = o.Text("scenario") ?? "bikenyc", SpeedUp = 60 },
            Source = "http-load",
        };
        string token = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        using var cts = new CancellationTokenSource();
        await using ControllerServer server = await ControllerServer.StartAsync(config, "http://127.0.0.1:0", false, TimeProvider.System, cts.Token, token, limits);
        ControllerLoop loop = server.Loop;

        var publications = new ConcurrentQueue<(long Timestamp, double DurationMs, long Skipped)>();
        loop.Published += s => publications.Enqueue((Stopwatch.GetTimestamp(), s.TickDurationMs, s.SkippedTicks));
        Console.WriteLine($"serve on {server.Address}, tick {tickMs} ms; baseline {baselineSeconds} s without load");

        await Task.Delay(TimeSpan.FromSeconds(baselineSeconds));
        long loadStart = Stopwatch.GetTimestamp();
        Console.WriteLine(
            $"load: {clients} in-process clients, at most {requests} requests or {seconds} s; serve admits {limits.Concurrency} at once + {limits.Queue} queued, at most {limits.RequestsPerSecond?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "any"}/s; " +
            $"Retry-After {(honourRetryAfter ? "honoured" : "ignored")}");
        TimeSpan cpuStart = Process.GetCurrentProcess().TotalProcessorTime;

        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = clients, UseProxy = false };
        using var http = new HttpClient(handler) { BaseAddress = server.Address, Timeout = TimeSpan.FromSeconds(30) };
        long issued = 0;
        long errors = 0;
        long unauthorized = 0;
        long refused = 0;
        long refusedShed = 0;
        long accepted = 0;
        long shed = 0;
        var latencies = new ConcurrentBag<List<double>>();
        var byEndpoint = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        TimeSpan limit = TimeSpan.FromSeconds(seconds);
        var wall = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var mine = new List<double>();
            latencies.Add(mine);
            while (wall.Elapsed < limit)
            {
                long i = Interlocked.Increment(ref issued);
                if (i > requests)
                {
                    break;
                }

                if (i % 20 == 0)
                {
                    (HttpMethod method, string path) = Writes[(int)(i / 20 % Writes.Length)];
                    using var request = new HttpRequestMessage(method, path);
                    if (i % 40 == 0)
                    {
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "not-the-token");
                    }

                    Interlocked.Increment(ref unauthorized);
                    try
                    {
                        using HttpResponseMessage response = await http.SendAsync(request);
                        Interlocked.Increment(ref response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden
                            ? ref refused
                            : ref response.StatusCode == HttpStatusCode.ServiceUnavailable ? ref refusedShed : ref accepted);
                        await BackOff(response);
                    }
                    catch (HttpRequestException)
                    {
                        Interlocked.Increment(ref errors);
                    }

                    continue;
                }

                string endpoint = Reads[(int)(i % Reads.Length)];
                long t0 = Stopwatch.GetTimestamp();
                try
                {
                    using HttpResponseMessage response = await http.GetAsync(endpoint);
                    _ = await response.Content.ReadAsByteArrayAsync();
                    if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
                    {
                        Interlocked.Increment(ref shed);
                        await BackOff(response);
                        continue;
                    }

                    mine.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
                    byEndpoint.AddOrUpdate(endpoint, 1, (_, n) => n + 1);
                    if (!response.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref errors);
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    Interlocked.Increment(ref errors);
                }
            }
        })).ToArray();
        await Task.WhenAll(workers);
        double loadSeconds = wall.Elapsed.TotalSeconds;
        double cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpuStart).TotalSeconds;
        long loadEnd = Stopwatch.GetTimestamp();
        bool untouched = !loop.Paused && !loop.DryRun;
        await cts.CancelAsync();

        var all = latencies.SelectMany(l => l).ToList();
        long done = all.Count + shed + unauthorized;
        var snapshot = publications.ToArray();
        var phases = new List<Phase>
        {
            PhaseOf("baseline (no load)", snapshot, 0, loadStart, tickMs),
            PhaseOf("under load", snapshot, loadStart, loadEnd, tickMs),
        };
        var result = new Result(
            clients, requests, seconds, tickMs, done, loadSeconds, done / loadSeconds,
            ProcessFigures.Percentile(all, 0.5), ProcessFigures.Percentile(all, 0.99), all.Count == 0 ? 0 : all.Max(), errors,
            new SortedDictionary<string, long>(byEndpoint, StringComparer.Ordinal), unauthorized, refused, refusedShed, accepted, untouched,
            all.Count, all.Count / loadSeconds, shed, honourRetryAfter, limits.Concurrency, limits.Queue, limits.RequestsPerSecond,
            ClientsInProcess: true, Environment.ProcessorCount, cpuSeconds, phases);
        Console.WriteLine(
            $"{done} requests in {loadSeconds:F1} s = {result.RequestsPerSecond:F0}/s; reads served {all.Count} = {result.ServedPerSecond:F0}/s, " +
            $"p50 {result.LatencyP50Ms:F2} ms p99 {result.LatencyP99Ms:F2} ms; {shed} reads shed with 503; {errors} errors; " +
            $"unauthorized state changes {refused}/{unauthorized} refused, {refusedShed} shed with 503, {accepted} accepted; loop untouched: {untouched}; " +
            $"process CPU {cpuSeconds:F1} s over {loadSeconds:F1} s on {Environment.ProcessorCount} cores (clients included)");
        foreach (Phase p in phases)
        {
            Console.WriteLine($"{p.Name,-20} {p.Ticks} ticks, {p.SkippedTicks} skipped; lateness p50 {p.TickLatenessP50Ms:F1} ms p99 {p.TickLatenessP99Ms:F1} ms; tick p99 {p.TickDurationP99Ms:F1} ms");
        }

        ProcessFigures.DeleteJournal(journal);
        return result;

        // A polite client waits what the server asks before coming back.
        Task BackOff(HttpResponseMessage response) =>
            honourRetryAfter && response.StatusCode == HttpStatusCode.ServiceUnavailable && response.Headers.RetryAfter?.Delta is { } wait
                ? Task.Delay(wait)
                : Task.CompletedTask;
    }

    private static Phase PhaseOf(string name, (long Timestamp, double DurationMs, long Skipped)[] publications, long from, long to, int tickMs)
    {
        var inside = publications.Where(p => p.Timestamp >= from && p.Timestamp < to).ToArray();
        var lateness = new List<double>();
        for (int i = 1; i < inside.Length; i++)
        {
            double gap = (inside[i].Timestamp - inside[i - 1].Timestamp) * 1000.0 / Stopwatch.Frequency;
            lateness.Add(Math.Max(0, gap - tickMs));
        }

        double phaseSeconds = inside.Length < 2 ? 0 : (inside[^1].Timestamp - inside[0].Timestamp) / (double)Stopwatch.Frequency;
        long skipped = inside.Length == 0 ? 0 : inside[^1].Skipped - inside[0].Skipped;
        return new Phase(
            name, phaseSeconds, inside.Length, skipped, ProcessFigures.Percentile(lateness, 0.5), ProcessFigures.Percentile(lateness, 0.99),
            ProcessFigures.Percentile(inside.Select(p => p.DurationMs).ToList(), 0.99));
    }
}
