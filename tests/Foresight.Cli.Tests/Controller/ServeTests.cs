using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Foresight.Cli.Commands;
using Foresight.Cli.Controller;
using Foresight.Cli.Serve;

namespace Foresight.Cli.Tests.Controller;

public sealed class ServeTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private async Task<ControllerServer> Start(string? token, ServeLimits? limits = null)
    {
        var config = RunCommand.LoadConfig(RunCommandTests.FastConfig(_workspace), null);
        return await ControllerServer.StartAsync(config, "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, token ?? "", limits);
    }

    [Fact]
    public async Task Status_and_forecasts_are_served_from_the_snapshot_of_the_latest_tick()
    {
        await using ControllerServer server = await Start("x");
        using var http = new HttpClient { BaseAddress = server.Address };
        await WaitForTicks(server, 2);

        // Driven by hand so that the published status is known at each step.
        ControllerStatus current = server.Loop.Status;
        var snapshot = new StatusSnapshot(() => current, server.JsonOptions);
        byte[] first = snapshot.Status.ToArray();
        Assert.Equal(StatusSnapshot.SerializeStatus(current, server.JsonOptions), first);
        Assert.Equal(StatusSnapshot.SerializeForecasts(current, server.JsonOptions), snapshot.Forecasts.ToArray());
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(snapshot.Status, out ArraySegment<byte> a1));
        Assert.True(System.Runtime.InteropServices.MemoryMarshal.TryGetArray(snapshot.Status, out ArraySegment<byte> a2));
        Assert.Same(a1.Array, a2.Array); // serialised once per publication, not per request

        await WaitForTicks(server, current.Tick + 1);
        current = server.Loop.Status;
        Assert.Equal(StatusSnapshot.SerializeStatus(current, server.JsonOptions), snapshot.Status.ToArray());
        Assert.Equal(StatusSnapshot.SerializeForecasts(current, server.JsonOptions), snapshot.Forecasts.ToArray());
        Assert.NotEqual(first, snapshot.Status.ToArray());

        // Over HTTP: the body is the server's snapshot, and a later tick shows through it.
        long tick = server.Loop.Status.Tick;
        await WaitForTicks(server, tick + 1);
        using JsonDocument served = JsonDocument.Parse(await http.GetByteArrayAsync("api/status"));
        Assert.True(served.RootElement.GetProperty("tick").GetInt64() > tick, "a new tick must invalidate the cached body");
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await http.GetByteArrayAsync("api/forecasts")).RootElement.ValueKind);
    }

    [Fact]
    public async Task Requests_beyond_the_concurrency_bound_get_503_with_retry_after()
    {
        await using ControllerServer server = await Start("t0ken", new ServeLimits(Concurrency: 1, Queue: 0));
        using var http = new HttpClient { BaseAddress = server.Address };
        await WaitForTicks(server, 1);

        using (System.Threading.RateLimiting.RateLimitLease held = server.RequestLimiter.AttemptAcquire())
        {
            Assert.True(held.IsAcquired);
            HttpResponseMessage busy = await http.GetAsync("api/status");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, busy.StatusCode);
            Assert.Equal(TimeSpan.FromSeconds(1), busy.Headers.RetryAfter?.Delta);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.GetAsync("metrics")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await http.PostAsync("api/pause", null)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
            Assert.False(server.Loop.Paused);
        }

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("api/status")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsync("api/pause", null)).StatusCode);
        Assert.False(server.Loop.Paused);
    }

    [Fact]
    public async Task State_changes_need_the_bearer_token()
    {
        await using ControllerServer server = await Start("t0ken");
        using var http = new HttpClient { BaseAddress = server.Address };

        HttpResponseMessage anonymous = await http.PostAsync("api/pause", null);
        var wrong = new HttpRequestMessage(HttpMethod.Post, "api/pause") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "guess") } };
        HttpResponseMessage wrongToken = await http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongToken.StatusCode);
        Assert.False(server.Loop.Paused);

        var pause = new HttpRequestMessage(HttpMethod.Post, "api/pause") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "t0ken") } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(pause)).StatusCode);
        Assert.True(server.Loop.Paused);

        var dryRun = new HttpRequestMessage(HttpMethod.Post, "api/dry-run?enabled=true") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "t0ken") } };
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(dryRun)).StatusCode);
        Assert.True(server.Loop.DryRun);
    }

    [Fact]
    public async Task Without_a_token_state_changes_are_disabled()
    {
        await using ControllerServer server = await Start(token: null);
        using var http = new HttpClient { BaseAddress = server.Address };

        var request = new HttpRequestMessage(HttpMethod.Post, "api/resume") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "") } };
        HttpResponseMessage response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("FORESIGHT_TOKEN", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_read_endpoints_and_metrics_serve_the_loop_state()
    {
        await using ControllerServer server = await Start("x");
        using var http = new HttpClient { BaseAddress = server.Address };
        await WaitForTicks(server, 3);

        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        using JsonDocument status = JsonDocument.Parse(await http.GetStringAsync("api/status"));
        JsonElement app = status.RootElement.GetProperty("apps")[0];
        Assert.Equal("api", app.GetProperty("name").GetString());
        Assert.Equal(app.GetProperty("sites").GetArrayLength(), app.GetProperty("placements").GetArrayLength());
        Assert.True(app.GetProperty("forecasts").GetArrayLength() > 0, "the warm-up replay should leave a fitted model");

        // The feedback loop's state per app: accuracy, thresholds with their changes, fallback and retrain history.
        JsonElement feedback = app.GetProperty("feedback");
        Assert.Equal("api", feedback.GetProperty("app").GetString());
        Assert.InRange(feedback.GetProperty("confidenceThreshold").GetDouble(), 0.5, 0.9);
        Assert.Equal(JsonValueKind.Array, feedback.GetProperty("recentThresholdChanges").ValueKind);
        Assert.False(string.IsNullOrEmpty(feedback.GetProperty("fallbackReason").GetString()));
        Assert.True(feedback.GetProperty("recentRetrains").GetArrayLength() >= 1, "the warm-up fit is the first retrain record");
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await http.GetStringAsync("api/journal?limit=5")).RootElement.ValueKind);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await http.GetStringAsync("api/decisions")).RootElement.ValueKind);
        Assert.Equal(JsonValueKind.Array, JsonDocument.Parse(await http.GetStringAsync("api/forecasts")).RootElement.ValueKind);
        Assert.Equal(HttpStatusCode.BadRequest, (await http.GetAsync("api/journal?limit=0")).StatusCode);

        bool coverageBefore = server.Loop.Status.ForecastCoverage90 is not null;
        string metrics = await http.GetStringAsync("metrics");
        bool coverageAfter = server.Loop.Status.ForecastCoverage90 is not null;
        Assert.Contains("foresight_tick_duration_seconds_count", metrics);
        Assert.Contains("foresight_reconcile_duration_seconds_count", metrics);
        Assert.Contains("foresight_fallback{", metrics);
        // Accuracy gauges report only once forecasts have been scored against a season of history.
        // (A tick can publish the first coverage while the scrape runs: only the states on both sides of it are certain.)
        bool covered = metrics.Contains("foresight_forecast_coverage", StringComparison.Ordinal);
        Assert.True(covered ? coverageAfter : !coverageBefore, $"coverage in the scrape: {covered}; in the status before: {coverageBefore}, after: {coverageAfter}");
        Assert.Contains("id=\"placements\"", await http.GetStringAsync(""), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Requests_beyond_the_rate_bound_get_503_and_health_probes_do_not()
    {
        await using ControllerServer server = await Start("t0ken", new ServeLimits(Concurrency: 4, Queue: 0, RequestsPerSecond: 1));
        using var http = new HttpClient { BaseAddress = server.Address };

        // One token a second with no queue: of five requests in a row at most two (the token and one refill) pass.
        var statuses = new List<HttpStatusCode>();
        for (int i = 0; i < 5; i++)
        {
            statuses.Add((await http.GetAsync("api/forecasts")).StatusCode);
        }

        Assert.Contains(HttpStatusCode.ServiceUnavailable, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, s.ToString()));
        for (int i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("healthz")).StatusCode);
        }
    }

    private static async Task WaitForTicks(ControllerServer server, long ticks)
    {
        for (int i = 0; i < 200 && server.Loop.Status.Tick < ticks; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(server.Loop.Status.Tick >= ticks);
    }
}
