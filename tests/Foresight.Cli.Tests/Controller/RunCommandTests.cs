using Foresight.Cli.Commands;

namespace Foresight.Cli.Tests.Controller;

public sealed class RunCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    /// <summary>A two-area scenario with a fast tick: the whole run takes well under a second of simulation.</summary>
    internal static string FastConfig(CliWorkspace workspace, int tickMs = 50, double speedUp = 200)
    {
        workspace.SmallTrace();
        workspace.Sources();
        workspace.Write("scenario.yaml", """
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
        return workspace.Write("controller.yaml", $"""
            orchestrator: simulated
            tickMs: {tickMs}
            simulated:
              scenario: scenario.yaml
              speedUp: {speedUp}
            """);
    }

    [Fact]
    public async Task A_dry_run_prints_planned_commands_and_applies_nothing()
    {
        string config = FastConfig(_workspace);
        var output = new StringWriter();

        int code = await RunCommand.ExecuteAsync(null, config, dryRun: true, ticks: 3, "text", output, CancellationToken.None);

        string text = output.ToString();
        Assert.Equal(0, code);
        Assert.Contains("3 tick(s)", text);
        Assert.Contains("dry-run (nothing applied)", text);
        Assert.DoesNotContain(" applied ", text);
    }

    [Fact]
    public void A_bad_config_exits_2_naming_the_field()
    {
        string config = _workspace.Write("bad.yaml", "tickMs: fast\n");

        (int code, string error) = CliWorkspace.Run("run", "--config", config, "--ticks", "1");

        Assert.Equal(2, code);
        Assert.Contains("bad.yaml:1 [tickMs]", error);
    }

    [Fact]
    public void An_unknown_orchestrator_exits_2()
    {
        (int code, string error) = CliWorkspace.Run("run", "--orchestrator", "nomad", "--ticks", "1");

        Assert.Equal(2, code);
        Assert.Contains("--orchestrator", error);
    }
}
