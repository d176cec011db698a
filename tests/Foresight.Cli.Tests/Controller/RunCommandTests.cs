using Foresight.Cli.Commands;
using Foresight.Control.Journal;

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
    public async Task Every_applied_command_is_in_the_sqlite_journal_and_a_second_run_continues_it()
    {
        string config = FastConfig(_workspace);
        string db = _workspace.Path("journal.db");

        var first = new StringWriter();
        Assert.Equal(0, await RunCommand.ExecuteAsync(null, config, dryRun: false, ticks: 30, "text", first, CancellationToken.None, journal: db));
        // "tick N  applied  spin-up  app@site  request-id": the journal also holds the start-up replay's commands.
        var printed = first.ToString().Split('\n')
            .Where(l => l.Contains(" applied ", StringComparison.Ordinal))
            .Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .ToList();
        Assert.NotEmpty(printed);

        HashSet<string?> firstRequests;
        using (ReconcileJournal journal = ReconcileJournal.Open(db, TimeProvider.System))
        {
            IReadOnlyList<JournalEntry> entries = journal.Recent(100_000);
            Assert.Empty(journal.Unresolved());
            foreach ((string printedKind, string journalKind) in new[] { ("spin-up", JournalKinds.SpinUp), ("drain", JournalKinds.Drain), ("stop", JournalKinds.Stop), ("set-route", JournalKinds.Route) })
            {
                Assert.True(
                    printed.Count(p => p[3] == printedKind) <= entries.Count(e => e.Kind == journalKind && e.Status == JournalStatus.Done),
                    $"fewer journaled {journalKind} rows than applied");
            }

            var done = entries.Where(e => e.Kind == JournalKinds.SpinUp && e.Status == JournalStatus.Done).Select(e => e.RequestId).ToHashSet();
            Assert.All(printed.Where(p => p[3] == "spin-up"), p => Assert.Contains(p[5], done));
            firstRequests = entries.Where(e => e.RequestId is not null).Select(e => e.RequestId).ToHashSet();
        }

        // A restarted controller resolves what it finds and goes on numbering its requests after the last one.
        Assert.Equal(0, await RunCommand.ExecuteAsync(null, config, dryRun: false, ticks: 30, "text", new StringWriter(), CancellationToken.None, journal: db));
        using (ReconcileJournal journal = ReconcileJournal.Open(db, TimeProvider.System))
        {
            var again = journal.Recent(100_000).Where(e => e.RequestId is not null).Select(e => e.RequestId).ToList();
            Assert.Equal(again.Count, again.Distinct().Count());
            Assert.True(again.Count >= firstRequests.Count);
        }
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
