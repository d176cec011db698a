using System.CommandLine;
using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using Foresight.Core;
using Microsoft.Extensions.Logging;

namespace Foresight.Cli.Commands;

/// <summary><c>foresight run</c>: the continuous controller loop against the simulated cluster or Kubernetes.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var orchestrator = new Option<string?>("--orchestrator") { Description = "simulated (default) or kubernetes; overrides the config's orchestrator." };
        var config = new Option<string?>("--config") { Description = "Controller config (YAML); see examples/controller.yaml. Default: simulated milan." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print the planned changes without applying them." };
        var ticks = new Option<long?>("--ticks") { Description = "Stop after this many ticks (default: run until Ctrl+C)." };
        var logFormat = new Option<string>("--log-format") { Description = "Logs on standard error: text or json.", DefaultValueFactory = _ => "text" };
        var journal = new Option<string?>("--journal") { Description = "SQLite reconcile journal (every command is written to it before it is issued); overrides the config's journal." };
        var maxAge = new Option<string?>("--journal-max-age") { Description = "Keep resolved journal rows this long (e.g. 24h, 7d); overrides journalRetention.maxAge." };
        var maxRows = new Option<int?>("--journal-max-rows") { Description = "Keep at most this many resolved journal rows; overrides journalRetention.maxRows." };
        var command = new Command("run", "Run the controller loop: observe, forecast, decide, reconcile every tick.")
        {
            orchestrator, config, dryRun, ticks, logFormat, journal, maxAge, maxRows,
        };
        command.SetAction((parse, ct) => ExecuteAsync(
            parse.GetValue(orchestrator), parse.GetValue(config), parse.GetValue(dryRun), parse.GetValue(ticks), parse.GetValue(logFormat)!, Console.Out, ct,
            parse.GetValue(journal), parse.GetValue(maxAge), parse.GetValue(maxRows)));
        return command;
    }

    public static async Task<int> ExecuteAsync(
        string? orchestrator, string? configPath, bool dryRun, long? ticks, string logFormat, TextWriter output, CancellationToken cancellationToken,
        string? journal = null, string? journalMaxAge = null, int? journalMaxRows = null)
    {
        ControllerConfig config = LoadConfig(configPath, orchestrator);
        if (journal is not null)
        {
            config = config with { Journal = Path.GetFullPath(journal) };
        }

        config = config with { JournalRetention = ApplyRetention(config.JournalRetention, journalMaxAge, journalMaxRows) };

        if (ticks is <= 0)
        {
            throw new InvalidInputException("--ticks", "must be a positive number of ticks");
        }

        using ILoggerFactory logs = CreateLogging(logFormat);
        await using IControllerEngine engine = await EngineFactory.CreateAsync(config, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        var loop = new ControllerLoop(
            engine,
            TimeSpan.FromMilliseconds(config.TickMs),
            dryRun || config.DryRun,
            TimeProvider.System,
            logger: logs.CreateLogger<ControllerLoop>(),
            onCommand: r => output.WriteLine($"tick {r.Tick,5}  {r.Outcome,-7}  {r.Kind,-13}  {r.Target}  {r.Detail}{(r.Error is null ? "" : $"  error: {r.Error}")}"));
        loop.Published += s =>
        {
            if (s.Message is { } message)
            {
                output.WriteLine($"tick {s.Tick,5}  {message}");
            }
        };

        try
        {
            await loop.RunAsync(ticks, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C: a clean stop.
        }

        ControllerStatus status = loop.Status;
        output.WriteLine(
            $"{status.Tick} tick(s), {status.SkippedTicks} skipped, last tick {status.TickDurationMs:F1} ms, " +
            $"{(status.DryRun ? "dry-run (nothing applied)" : "applied")}, mode {status.Mode}");

        // A run that never completed a tick did nothing it was asked to: say so in the exit code (2 when the cause is bad input).
        if (status.Tick > 0 && loop.FailedTicks == status.Tick && loop.LastFailure is { } failure)
        {
            output.WriteLine($"every tick failed; the last: {status.Message}");
            return failure is InvalidInputException ? ExitCodes.BadInput : ExitCodes.InternalError;
        }

        return ExitCodes.Ok;
    }

    /// <summary>The command line's --journal-max-age and --journal-max-rows over the config's journalRetention.</summary>
    public static JournalRetention ApplyRetention(JournalRetention retention, string? maxAge, int? maxRows)
    {
        if (maxAge is not null)
        {
            if (!JournalRetention.TryParseAge(maxAge, out TimeSpan age))
            {
                throw new InvalidInputException("--journal-max-age", $"'{maxAge}' is not a duration; write e.g. 24h, 90m, 7d or a number of seconds");
            }

            if (JournalRetention.CheckMaxAge(age) is { } problem)
            {
                throw new InvalidInputException("--journal-max-age", $"{maxAge} {problem}");
            }

            retention = retention with { MaxAge = age };
        }

        if (maxRows is int rows)
        {
            if (JournalRetention.CheckMaxRows(rows) is { } problem)
            {
                throw new InvalidInputException("--journal-max-rows", $"{rows} {problem}");
            }

            retention = retention with { MaxRows = rows };
        }

        return retention;
    }

    public static ControllerConfig LoadConfig(string? configPath, string? orchestrator)
    {
        ControllerConfig config = configPath is null ? new ControllerConfig() : ControllerConfigLoader.LoadFile(configPath);
        if (orchestrator is not null)
        {
            string mode = orchestrator.Trim().ToLowerInvariant();
            if (mode is not ("simulated" or "kubernetes"))
            {
                throw new InvalidInputException("--orchestrator", $"unknown orchestrator '{orchestrator}'; expected simulated or kubernetes");
            }

            if (mode == "kubernetes" && config.Kubernetes is null)
            {
                throw new InvalidInputException(configPath ?? "--config", "--orchestrator kubernetes needs a config with a kubernetes section (see examples/controller.yaml)", field: "kubernetes");
            }

            config = config with { Orchestrator = mode };
        }

        return config;
    }

    /// <summary>Structured logs on standard error (standard output carries the commands), as text or JSON lines.</summary>
    public static ILoggerFactory CreateLogging(string logFormat)
    {
        bool json = logFormat switch
        {
            "json" => true,
            "text" => false,
            _ => throw new InvalidInputException("--log-format", $"unknown format '{logFormat}'; expected text or json"),
        };
        return LoggerFactory.Create(b => ConfigureLogging(b, json));
    }

    public static void ConfigureLogging(ILoggingBuilder builder, bool json)
    {
        builder.AddFilter("Microsoft", LogLevel.Warning);
        builder.AddConsole(o =>
        {
            o.LogToStandardErrorThreshold = LogLevel.Trace;
            o.FormatterName = json ? "json" : "simple";
        });
        if (json)
        {
            builder.AddJsonConsole();
        }
        else
        {
            builder.AddSimpleConsole(o => o.SingleLine = true);
        }
    }
}
