using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Foresight.Cli.Commands;
using Foresight.Cli.Serve;

namespace Foresight.Cli.Tests.Controller;

public sealed class ServeTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private async Task<ControllerServer> Start(string? token)
    {
        var config = RunCommand.LoadConfig(RunCommandTests.FastConfig(_workspace), null);
        return await ControllerServer.StartAsync(config, "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, token ?? "");
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

    private static async Task WaitForTicks(ControllerServer server, long ticks)
    {
        for (int i = 0; i < 200 && server.Loop.Status.Tick < ticks; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(server.Loop.Status.Tick >= ticks);
    }
}
