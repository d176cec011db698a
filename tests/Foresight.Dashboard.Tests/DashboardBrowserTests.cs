using Foresight.Cli.Commands;
using Foresight.Cli.Serve;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace Foresight.Dashboard.Tests;

/// <summary>
/// End to end: <c>serve</c> in-process on a free 127.0.0.1 port with a fast simulated config, and the dashboard in
/// headless Chromium (Debian's <c>chromium</c> package; Playwright's own browser download is not used).
/// </summary>
public sealed class DashboardBrowserTests(ITestOutputHelper output) : IDisposable
{
    private const string Chromium = "/usr/bin/chromium";
    private readonly string _dir = Directory.CreateTempSubdirectory("foresight-dashboard-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task The_dashboard_shows_forecast_bands_and_placements_and_updates()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (apt-get install -y chromium).");

        var config = RunCommand.LoadConfig(WriteFastConfig(), null);
        await using ControllerServer server = await ControllerServer.StartAsync(
            config, "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, token: "");
        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await LaunchChromiumAsync(playwright);
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });

        IResponse? response = await page.GotoAsync(server.Address.ToString());
        Assert.NotNull(response);
        Assert.True(response!.Ok, $"GET / returned {response.Status}");

        // Forecast bands: one chart per (app, site), with a band polygon where the model predicts.
        await page.WaitForSelectorAsync("svg.band polygon.forecast", new PageWaitForSelectorOptions { Timeout = 15_000 });
        Assert.True(await page.Locator("svg.band polyline.actual").CountAsync() > 0, "no actual-traffic line drawn");
        Assert.True(await page.Locator("svg.band polyline.median").CountAsync() > 0, "no forecast median drawn");
        string points = await page.Locator("svg.band polygon.forecast").First.GetAttributeAsync("points") ?? "";
        Assert.True(points.Split(' ').Length >= 4, $"the forecast band has too few points: '{points}'");

        // The placement table has one row per (app, site), with the loop's numbers.
        int rows = await page.Locator("#placements tbody tr").CountAsync();
        int sites = server.Loop.Status.Apps.Sum(a => a.Sites.Count);
        Assert.Equal(sites, rows);

        // It updates: the tick counter and engine time move between two polls.
        // Both read in one evaluation: read one at a time, a poll landing in between pairs an old tick with a new time.
        const string Read = "() => [document.getElementById('tick').textContent, document.getElementById('engine-time').textContent]";
        string[] first = await page.EvaluateAsync<string[]>(Read);
        string tick1 = first[0], time1 = first[1];
        await page.WaitForFunctionAsync(
            "([t]) => document.getElementById('tick').textContent !== t", new object[] { tick1 }, new PageWaitForFunctionOptions { Timeout = 15_000 });
        string[] second = await page.EvaluateAsync<string[]>(Read);
        string tick2 = second[0], time2 = second[1];
        Assert.True(long.Parse(tick2) > long.Parse(tick1), $"tick went from {tick1} to {tick2}");
        Assert.NotEqual(time1, time2);

        string screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is suspiciously small");
        output.WriteLine($"dashboard screenshot: {screenshot}");
        Console.WriteLine($"dashboard screenshot: {screenshot}");
    }

    [Fact]
    public async Task The_site_map_draws_bikenyc_and_moves_with_the_ticks()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: install the Debian package 'chromium' (apt-get install -y chromium).");

        string config = Path.Combine(_dir, "controller.yaml");
        File.WriteAllText(config, """
            tickMs: 250
            simulated:
              scenario: bikenyc
              speedUp: 240
            """);
        await using ControllerServer server = await ControllerServer.StartAsync(
            RunCommand.LoadConfig(config, null), "http://127.0.0.1:0", jsonLogs: false, TimeProvider.System, CancellationToken.None, token: "");
        using var http = new HttpClient { BaseAddress = server.Address };
        using var topology = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync("api/topology"));
        int sites = topology.RootElement.GetProperty("sites").GetArrayLength();
        int sources = topology.RootElement.GetProperty("sources").GetArrayLength();
        Assert.True(sites >= 6 && sources >= 50, $"bikenyc has 6 edge sites and 81 areas; the topology gave {sites} sites and {sources} sources");

        using IPlaywright playwright = await Playwright.CreateAsync();
        await using IBrowser browser = await LaunchChromiumAsync(playwright);
        IPage page = await browser.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        IResponse? response = await page.GotoAsync(server.Address.ToString());
        Assert.True(response?.Ok, $"GET / returned {response?.Status}");

        // Every site and source at its place, with a forecast-demand circle where the model predicts.
        await page.WaitForSelectorAsync("#map g.site-marker", new PageWaitForSelectorOptions { Timeout = 30_000 });
        Assert.Equal(sites, await page.Locator("#map g.site-marker").CountAsync());
        Assert.Equal(sources, await page.Locator("#map circle.source").CountAsync());
        await page.WaitForSelectorAsync("#map circle.demand", new PageWaitForSelectorOptions { Timeout = 30_000 });
        string[] positions = await page.EvaluateAsync<string[]>("() => Array.from(document.querySelectorAll('#map circle.source')).map(c => c.getAttribute('cx') + ',' + c.getAttribute('cy'))");
        Assert.True(positions.Distinct().Count() > sources / 2, "the sources are not drawn at their own coordinates");

        // It moves: instances per site and the demand circles change as ticks advance.
        const string Picture = """
            () => Array.from(document.querySelectorAll('#map g.site-marker')).map(g => g.dataset.site + '=' + g.dataset.instances).join(' ')
              + ' | ' + Array.from(document.querySelectorAll('#map circle.demand')).map(c => c.getAttribute('r')).join(' ')
            """;
        string before = await page.EvaluateAsync<string>(Picture);
        await page.WaitForFunctionAsync($"([was]) => ({Picture})() !== was", new object[] { before }, new PageWaitForFunctionOptions { Timeout = 60_000 });
        string after = await page.EvaluateAsync<string>(Picture);
        output.WriteLine($"map before: {before}\nmap after:  {after}");
        Assert.NotEqual(before, after);

        // Charts have labelled axes; decisions show the forecast's confidence where there was a forecast.
        Assert.True(await page.Locator("svg.band text.tick").CountAsync() > 0, "no time labels on the charts");
        Assert.True(await page.Locator("svg.band text.unit", new PageLocatorOptions { HasTextString = "req/s" }).CountAsync() > 0, "no unit on the charts");
        await page.WaitForFunctionAsync(
            "() => Array.from(document.querySelectorAll('#decisions tbody tr td:nth-child(6)')).some(td => /%$/.test(td.textContent))",
            null, new PageWaitForFunctionOptions { Timeout = 30_000 });

        // bikenyc's commuters pull capacity across Manhattan: a migration arrow appears between two drawn sites.
        await page.WaitForSelectorAsync("#map path.migration", new PageWaitForSelectorOptions { Timeout = 120_000 });
        string[] arrow = await page.EvaluateAsync<string[]>("() => { const p = document.querySelector('#map path.migration'); return [p.dataset.from, p.dataset.to, p.getAttribute('marker-end')]; }");
        Assert.NotEqual(arrow[0], arrow[1]);
        Assert.Equal("url(#arrow)", arrow[2]);
        Assert.Equal(1, await page.Locator($"#map g.site-marker[data-site='{arrow[0]}']").CountAsync());
        Assert.Equal(1, await page.Locator($"#map g.site-marker[data-site='{arrow[1]}']").CountAsync());

        // Taken while the arrow is drawn (arrows stay 30 engine minutes, about 7 s here); the map alone as well.
        string screenshot = Path.Combine(AppContext.BaseDirectory, "TestResults", "dashboard-bikenyc.png");
        Directory.CreateDirectory(Path.GetDirectoryName(screenshot)!);
        await page.Locator(".mapbox").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.ChangeExtension(screenshot, null) + "-map.png" });
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = screenshot, FullPage = true });
        Assert.True(await page.Locator("#map path.migration").CountAsync() > 0, "the migration arrow was gone by the screenshot");
        Assert.True(new FileInfo(screenshot).Length > 10_000, "the screenshot is suspiciously small");
        output.WriteLine($"dashboard screenshot: {screenshot}");
        Console.WriteLine($"dashboard screenshot: {screenshot}");
    }

    /// <summary>
    /// Two areas trading traffic, one app, 250 ms ticks at 100 simulated seconds per wall second. Twenty trace days
    /// (8 simulated hours) keep the scenario running for minutes, so a slow machine still sees it move.
    /// </summary>
    private string WriteFastConfig()
    {
        var lines = new List<string> { "timestamp,area_1,area_2" };
        var start = new DateTimeOffset(2024, 3, 4, 0, 0, 0, TimeSpan.FromHours(1));
        for (int h = 0; h < 24 * 20; h++)
        {
            double phase = Math.Sin(h * Math.PI / 6);
            lines.Add($"{start.AddHours(h):yyyy-MM-ddTHH:mm:sszzz},{100 + (80 * phase):F0},{100 - (80 * phase):F0}");
        }

        File.WriteAllText(Path.Combine(_dir, "trace.csv"), string.Join('\n', lines) + "\n");
        File.WriteAllText(Path.Combine(_dir, "areas.csv"), "area_id,x_km,y_km\n1,0,0\n2,14,3\n");
        File.WriteAllText(Path.Combine(_dir, "scenario.yaml"), """
            name: two-areas
            trace: trace.csv
            sources: areas.csv
            timeScale: 60
            seed: 7
            sites: { method: kmeans, k: 2, serversPerSite: 2, cpuPerServer: 16 }
            apps:
              - name: api
                peakRps: 900
                coldStartSeconds: 3
                warmupSeconds: 5
            """);
        string config = Path.Combine(_dir, "controller.yaml");
        File.WriteAllText(config, """
            tickMs: 250
            simulated:
              scenario: scenario.yaml
              speedUp: 100
            """);
        return config;
    }

    /// <summary>Debian's Chromium, headless, as this machine and CI run it (Playwright's own browsers cannot be installed).</summary>
    private static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright) =>
        playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        });
}
