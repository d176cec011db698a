using System.CommandLine;
using Foresight.Cli.Controller;
using Foresight.Cli.Serve;
using Foresight.Core;

namespace Foresight.Cli.Commands;

/// <summary><c>foresight serve</c>: the controller loop plus its HTTP API, /metrics and the live dashboard.</summary>
public static class ServeCommand
{
    public const string DefaultUrls = "http://127.0.0.1:5080";

    public static Command Create()
    {
        var urls = new Option<string>("--urls") { Description = "Where to listen (127.0.0.1 only by default).", DefaultValueFactory = _ => DefaultUrls };
        var config = new Option<string?>("--config") { Description = "Controller config (YAML); default: simulated milan, sped up." };
        var orchestrator = new Option<string?>("--orchestrator") { Description = "simulated or kubernetes; overrides the config." };
        var dryRun = new Option<bool>("--dry-run") { Description = "Start in dry-run: plan without applying." };
        var logFormat = new Option<string>("--log-format") { Description = "Logs on standard error: text or json.", DefaultValueFactory = _ => "text" };
        var command = new Command("serve", "Run the controller with an HTTP API, /metrics and a live dashboard.")
        {
            urls, config, orchestrator, dryRun, logFormat,
        };
        command.SetAction(async (parse, ct) =>
        {
            ControllerConfig loaded = RunCommand.LoadConfig(parse.GetValue(config), parse.GetValue(orchestrator));
            if (parse.GetValue(dryRun))
            {
                loaded = loaded with { DryRun = true };
            }

            await using ControllerServer server = await ControllerServer.StartAsync(
                loaded, parse.GetValue(urls)!, ParseLogFormat(parse.GetValue(logFormat)!), TimeProvider.System, ct).ConfigureAwait(false);
            Console.Out.WriteLine($"foresight serve: dashboard at {server.Address}  (metrics at {server.Address}metrics; Ctrl+C to stop)");
            try
            {
                await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C.
            }

            return ExitCodes.Ok;
        });
        return command;
    }

    private static bool ParseLogFormat(string text) => text switch
    {
        "json" => true,
        "text" => false,
        _ => throw new InvalidInputException("--log-format", $"unknown format '{text}'; expected text or json"),
    };
}
