using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;

namespace Foresight.Cli.Tests.Controller;

/// <summary>A floor the HPA's maxReplicas caps is written, journaled and reported as the capped value, not the one needed.</summary>
public sealed class KubernetesFloorCapTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public async Task A_floor_above_maxReplicas_is_written_journaled_and_reported_as_capped()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddUserDeployment("a", replicas: 1);
        h.AddHpa("a", min: 1, max: 4);
        using ReconcileJournal journal = ReconcileJournal.Open(_workspace.Path("journal.db"), h.Clock);
        await using ControllerEngine engine = await h.EngineAsync(journal: journal);

        // The burst at a needs 6 replicas (400 req/s at 70 per replica); the HPA allows 4.
        var commands = new List<EngineCommand>();
        EngineTick? tick = null;
        for (int i = 0; i < 120 && !commands.Any(c => c.Kind == "set-floor"); i++)
        {
            tick = await h.TickOnceAsync(engine);
            commands.AddRange(tick.Commands);
        }

        Assert.Equal(4, h.MinReplicas("a"));
        EngineCommand raise = Assert.Single(commands, c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "applied" });
        Assert.Equal("minReplicas 1 -> 4", raise.Detail);

        // While the burst is still ahead, no pass asks for more than the HPA allows.
        for (int i = 0; i < 4; i++)
        {
            EngineTick next = await h.TickOnceAsync(engine);
            Assert.DoesNotContain(next.Commands, c => c.Kind == "set-floor" && FloorOf(c) > 4);
        }

        // The policy needed 6 and says so; what it got is the HPA's maximum, and the status shows that, not 6.
        Decision decision = tick!.Apps[0].Decisions.Last(d => d is { Kind: "raise-floor", Site: "a" });
        Assert.Equal(4, decision.To);
        Assert.Contains("capped at the HPA's maxReplicas 4", decision.Reason, StringComparison.Ordinal);
        Assert.Equal(4, tick.Apps[0].Placements[0].Floor);
        Assert.Contains(journal.ForApp("shop"), e => e is { Kind: "set-floor", Status: JournalStatus.Done } && e.Detail.StartsWith("minReplicas 1 -> 4", StringComparison.Ordinal));
        Assert.Empty(journal.Unresolved());
    }
}
