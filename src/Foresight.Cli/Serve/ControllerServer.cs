using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Threading.RateLimiting;
using Foresight.Cli.Commands;
using Foresight.Cli.Controller;
using Foresight.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace Foresight.Cli.Serve;

/// <summary>
/// The controller loop hosted in ASP.NET Core: read-only JSON endpoints over its latest status, the journal,
/// /healthz, OpenTelemetry's Prometheus /metrics, and the dashboard. State changes need the bearer token.
/// </summary>
public sealed class ControllerServer : IAsyncDisposable
{
    public const string TokenVariable = "FORESIGHT_TOKEN";

    private const string JsonContentType = "application/json; charset=utf-8";

    private readonly WebApplication _app;

    private readonly IControllerEngine _engine;

    private ControllerServer(WebApplication app, IControllerEngine engine, ControllerLoop loop, Uri address, ConcurrencyLimiter limiter, StatusSnapshot snapshot)
    {
        _app = app;
        _engine = engine;
        Loop = loop;
        Address = address;
        RequestLimiter = limiter;
        Snapshot = snapshot;
    }

    public ControllerLoop Loop { get; }

    /// <summary>Bounds the requests processed at once (all but /healthz); beyond it and its queue, 503 with Retry-After.</summary>
    public ConcurrencyLimiter RequestLimiter { get; }

    /// <summary>The serialised bodies of /api/status and /api/forecasts for the latest publication.</summary>
    public StatusSnapshot Snapshot { get; }

    /// <summary>The JSON options of every endpoint (web defaults, named floating-point literals, not indented).</summary>
    public JsonSerializerOptions JsonOptions => _app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

    /// <summary>The bound address, ending in a slash (the real port when 0 was asked for).</summary>
    public Uri Address { get; }

    public static async Task<ControllerServer> StartAsync(
        ControllerConfig config, string urls, bool jsonLogs, TimeProvider time, CancellationToken cancellationToken, string? token = null,
        ServeLimits? limits = null)
    {
        limits ??= ServeLimits.Default;
        Uri[] bind = ParseUrls(urls);
        // An explicit token (tests) wins over FORESIGHT_TOKEN, which wins over the config; empty means none.
        token ??= Environment.GetEnvironmentVariable(TokenVariable) is { Length: > 0 } env ? env : config.Token;
        token = string.IsNullOrEmpty(token) ? null : token;
        IControllerEngine engine = await EngineFactory.CreateAsync(config, time, cancellationToken).ConfigureAwait(false);

        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [], ApplicationName = "foresight" });
        builder.WebHost.UseUrls([.. bind.Select(u => u.GetLeftPart(UriPartial.Authority))]);
        builder.Logging.ClearProviders();
        RunCommand.ConfigureLogging(builder.Logging, jsonLogs);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals;
            o.SerializerOptions.WriteIndented = false;
        });
        builder.Services.AddSingleton(time);
        builder.Services.AddSingleton(engine);
        builder.Services.AddSingleton<ICommandJournal>(engine.Journal ?? new InMemoryCommandJournal());
        builder.Services.AddSingleton(sp => new ControllerLoop(
            sp.GetRequiredService<IControllerEngine>(),
            TimeSpan.FromMilliseconds(config.TickMs),
            config.DryRun,
            time,
            sp.GetRequiredService<ICommandJournal>(),
            new ControllerMetrics(() => sp.GetRequiredService<ControllerLoop>().Status, sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()),
            sp.GetRequiredService<ILogger<ControllerLoop>>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ControllerLoop>());
        // The exporter already caches a scrape's text for 300 ms (its default), so /metrics is not re-collected per request.
        builder.Services.AddOpenTelemetry().ConfigureResource(r => r.AddService("foresight")).WithMetrics(m => m.AddMeter(ControllerMetrics.MeterName).AddPrometheusExporter());
        var limiter = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = limits.Concurrency,
            QueueLimit = limits.Queue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        builder.Services.AddRateLimiter(o =>
        {
            // /healthz opts out (DisableRateLimiting below): a busy dashboard must not get the controller restarted.
            PartitionedRateLimiter<HttpContext> concurrency = PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.Get("requests", _ => limiter));
            // The rate comes first and paces requests through its own queue; only what it admits competes for concurrency.
            o.GlobalLimiter = limits.RequestsPerSecond is not { } rate
                ? concurrency
                : PartitionedRateLimiter.CreateChained(
                    PartitionedRateLimiter.Create<HttpContext, string>(_ => RateLimitPartition.GetTokenBucketLimiter("rate", _ => new TokenBucketRateLimiterOptions
                        {
                            // Refilled every 100 ms (every second below 10/s), with a quarter second of burst.
                            TokenLimit = Math.Max(1, rate / 4),
                            TokensPerPeriod = rate >= 10 ? rate / 10 : rate,
                            ReplenishmentPeriod = TimeSpan.FromMilliseconds(rate >= 10 ? 100 : 1000),
                            QueueLimit = limits.Queue,
                            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
                            AutoReplenishment = true,
                        })),
                    concurrency);
            o.RejectionStatusCode = StatusCodes.Status503ServiceUnavailable;
            o.OnRejected = (context, ct) =>
            {
                context.HttpContext.Response.Headers.RetryAfter = "1";
                return new ValueTask(context.HttpContext.Response.WriteAsJsonAsync(new { error = "busy: too many requests, retry after 1 s" }, ct));
            };
        });

        WebApplication app = builder.Build();
        app.UseRateLimiter();
        var loop = app.Services.GetRequiredService<ControllerLoop>();
        var snapshot = new StatusSnapshot(() => loop.Status, app.Services.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions);
        MapEndpoints(app, loop, engine, token, config.TickMs, snapshot);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        string bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ControllerServer(app, engine, loop, new Uri(bound.TrimEnd('/') + "/"), limiter, snapshot);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
        await _engine.DisposeAsync().ConfigureAwait(false); // registered as an instance, so the container leaves it to us
    }

    private static void MapEndpoints(WebApplication app, ControllerLoop loop, IControllerEngine engine, string? token, int tickMs, StatusSnapshot snapshot)
    {
        string dashboard = ReadDashboard().Replace("__TICK_MS__", Math.Max(250, tickMs).ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        app.MapGet("/", () => Results.Content(dashboard, "text/html; charset=utf-8"));
        app.MapGet("/healthz", () =>
        {
            ControllerStatus s = loop.Status;
            return Results.Ok(new { status = "ok", s.Tick, s.Mode, s.Paused, s.DryRun });
        }).DisableRateLimiting();
        app.MapPrometheusScrapingEndpoint("/metrics");
        // The two endpoints dashboards poll are served from bytes serialised once per published tick.
        app.MapGet("/api/status", () => Results.Bytes(snapshot.Status, JsonContentType));
        app.MapGet("/api/forecasts", () => Results.Bytes(snapshot.Forecasts, JsonContentType));
        app.MapGet("/api/placements", () => Results.Ok(loop.Status.Apps.Select(a => new { app = a.Name, a.Placements })));
        app.MapGet("/api/migrations", () => Results.Ok(loop.Status.Apps.SelectMany(a => a.Migrations).OrderByDescending(m => m.Time)));
        app.MapGet("/api/topology", () => engine.Topology is { } t
            ? Results.Ok(new
            {
                sites = t.Sites.Select(s => new { s.Id, s.XKm, s.YKm, kind = s.Kind.ToString().ToLowerInvariant() }),
                sources = t.Sources.Select((s, i) => new { s.Id, s.XKm, s.YKm, site = t.Sites[t.IngressSite[i]].Id }),
            })
            : Results.NotFound(new { error = "this engine has no topology" }));
        app.MapGet("/api/decisions", () => Results.Ok(loop.Status.Apps.SelectMany(a => a.Decisions).OrderByDescending(d => d.Time)));
        app.MapGet("/api/journal", (int? limit) => limit is < 1 or > 10_000
            ? Results.BadRequest(new { error = "limit must be between 1 and 10000" })
            : Results.Ok(loop.Journal.Recent(limit ?? 100)));

        RouteGroupBuilder control = app.MapGroup("/api").AddEndpointFilter(async (context, next) =>
            Authorize(context.HttpContext, token) ?? await next(context).ConfigureAwait(false));
        control.MapPost("/pause", () =>
        {
            loop.Paused = true;
            return Results.Ok(new { paused = true });
        });
        control.MapPost("/resume", () =>
        {
            loop.Paused = false;
            return Results.Ok(new { paused = false });
        });
        control.MapPost("/dry-run", (string? enabled) =>
        {
            if (!bool.TryParse(enabled, out bool on))
            {
                return Results.BadRequest(new { error = "query parameter 'enabled' must be true or false" });
            }

            loop.DryRun = on;
            return Results.Ok(new { dryRun = on });
        });
    }

    /// <summary>Null when the request may change state; otherwise the refusal.</summary>
    private static IResult? Authorize(HttpContext http, string? token)
    {
        if (token is null)
        {
            return Results.Json(new { error = $"state changes are disabled: set {TokenVariable} or 'token' in the config" }, statusCode: StatusCodes.Status403Forbidden);
        }

        string header = http.Request.Headers.Authorization.ToString();
        const string scheme = "Bearer ";
        bool ok = header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase)
            && header.Length > scheme.Length
            && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), Encoding.UTF8.GetBytes(token));
        if (ok)
        {
            return null;
        }

        http.Response.Headers.WWWAuthenticate = "Bearer";
        return Results.Json(new { error = "a valid bearer token is required" }, statusCode: StatusCodes.Status401Unauthorized);
    }


    private static Uri[] ParseUrls(string urls)
    {
        string[] parts = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length == 0)
        {
            throw new InvalidInputException("--urls", "give at least one URL such as http://127.0.0.1:5080");
        }

        return parts.Select(p => Uri.TryCreate(p, UriKind.Absolute, out Uri? u) && u.Scheme == "http" && u.AbsolutePath == "/"
            ? u
            : throw new InvalidInputException("--urls", $"'{p}' is not a URL such as http://127.0.0.1:5080")).ToArray();
    }

    private static string ReadDashboard()
    {
        using Stream stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Foresight.Cli.Serve.dashboard.html")
            ?? throw new InvalidOperationException("The dashboard resource is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
