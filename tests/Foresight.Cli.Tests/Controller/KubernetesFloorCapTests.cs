using Foresight.Cli.Controller;
using Foresight.Control.Journal;

namespace Foresight.Cli.Tests.Controller;

/// <summary>A floor the HPA's maxReplicas caps is reported, journaled and kept as the value written, not the one needed.</summary>
public sealed class KubernetesFloorCapTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task A_floor_above_maxReplicas_is_reported_and_journaled_as_written()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 4);
        using ReconcileJournal db = ReconcileJournal.Open(_workspace.Path("journal.db"), h.Clock);
        var journal = new SqliteCommandJournal(db);
        KubernetesEngine engine = await h.EngineAsync(journal: journal);

        // The burst at a needs 6 replicas (400 req/s at 70 per replica); the HPA allows 4.
        List<EngineCommand> commands = await h.TickUntilAsync(engine, c => c.Any(x => x is { Kind: "set-floor", Target: "shop@a" } && x.Detail.Contains("capped", StringComparison.Ordinal)), max: 120);
        commands.AddRange(await h.TickAsync(engine, 6));
        EngineTick tick = await engine.TickAsync(TimeSpan.Zero, dryRun: false, CancellationToken.None);

        Assert.Equal(4, h.MinReplicas("a"));
        var raises = commands.Where(c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "applied" }).ToList();
        Assert.All(raises, c => Assert.DoesNotMatch("^minReplicas ([5-9]|1[0-9])", c.Detail));
        EngineCommand capped = Assert.Single(raises, c => c.Detail.Contains("capped", StringComparison.Ordinal));
        Assert.StartsWith("minReplicas 4 (capped at the HPA's maxReplicas; 6 needed)", capped.Detail, StringComparison.Ordinal);

        Decision decision = tick.Apps[0].Decisions.First(d => d is { Kind: "raise-floor", Site: "a" });
        Assert.Equal(4, decision.To);
        Assert.Equal(4, tick.Apps[0].Placements[0].Floor);
        Assert.Contains(journal.Recent(200), r => r is { Kind: "set-floor", Outcome: "done" } && r.Detail.Contains("minReplicas 4 (capped", StringComparison.Ordinal));
    }
}
