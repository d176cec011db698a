using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using Foresight.Kubernetes;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// Floors outlive the replica that raised them: they are recorded on the HPA, a new leader adopts and restores them,
/// and a floor write interrupted by a crash is resolved on restart by reading the HPA.
/// </summary>
public sealed class KubernetesFloorHandoverTests
{
    [Fact]
    public async Task A_new_leader_restores_after_its_hold_a_floor_the_previous_leader_raised()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        var a = new LeaseLeadership(new LeaseElector(h.Cluster.Server.CreateClient(), Ns, "foresight-controller", "replica-a", h.Clock));
        KubernetesEngine leader = await h.EngineAsync(leadership: a);

        await h.TickUntilAsync(leader, _ => h.MinReplicas() > 1);
        int floor = h.MinReplicas();
        Assert.True(floor > 1);
        Assert.Equal("1", h.HpaAnnotations()![Names.OriginalMinReplicasAnnotation]!.GetValue<string>());
        Assert.Equal(floor.ToString(System.Globalization.CultureInfo.InvariantCulture), h.HpaAnnotations()![Names.FloorAnnotation]!.GetValue<string>());
        DateTimeOffset holdUntil = DateTimeOffset.Parse(h.HpaAnnotations()![Names.HoldUntilAnnotation]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(holdUntil > h.Clock.GetUtcNow());

        // Replica a dies. Replica b starts cold (its forecaster is still warming up, so it predicts nothing itself) and
        // takes the lease over once a's has expired.
        var b = new LeaseLeadership(new LeaseElector(h.Cluster.Server.CreateClient(), Ns, "foresight-controller", "replica-b", h.Clock));
        KubernetesEngine successor = await h.EngineAsync(traffic: new FlatTraffic(), leadership: b);
        var beforeHold = new List<EngineCommand>();
        EngineTick? last = null;
        while (h.Clock.GetUtcNow() + TimeSpan.FromSeconds(5) < holdUntil)
        {
            h.Clock.Advance(TimeSpan.FromSeconds(5));
            last = await successor.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);
            beforeHold.AddRange(last.Commands);
        }

        Assert.Null(last!.Message); // b leads by now (the lease lasts 15 s; the hold is longer)
        Assert.Empty(beforeHold);
        Assert.Equal(floor, h.MinReplicas());
        Assert.Equal(floor, last.Apps[0].Placements[0].Floor); // adopted, and shown

        List<EngineCommand> after = await h.TickAsync(successor, ticks: 3);

        Assert.Equal("applied", Assert.Single(after, c => c is { Kind: "restore-floor", Target: "shop@a" }).Outcome);
        Assert.Equal(1, h.MinReplicas());
        Assert.Null(h.HpaAnnotations()?[Names.OriginalMinReplicasAnnotation]);
        Assert.Null(h.HpaAnnotations()?[Names.FloorAnnotation]);
        Assert.Null(h.HpaAnnotations()?[Names.HoldUntilAnnotation]);
    }

    [Fact]
    public async Task A_crash_between_the_journaled_intent_and_the_floor_write_is_rolled_back_on_restart()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        string path = Path.Combine(Path.GetTempPath(), $"foresight-floors-{Guid.NewGuid():N}.db");
        try
        {
            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                KubernetesOrchestrator kube = await h.OrchestratorAsync();
                KubernetesEngine engine = await h.EngineAsync(journal: new SqliteCommandJournal(journal), floors: new CrashingFloors(new KubernetesFloors(kube), writeFirst: false));
                await CrashAsync(h, engine);

                JournalEntry intent = Assert.Single(journal.Unresolved());
                Assert.Equal("set-floor", intent.Kind);
                Assert.StartsWith("minReplicas ", intent.Detail, StringComparison.Ordinal);
                Assert.Equal(1, h.MinReplicas()); // never written
            }

            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                KubernetesEngine restarted = await h.EngineAsync(traffic: new FlatTraffic(), journal: new SqliteCommandJournal(journal));
                await h.TickAsync(restarted);

                Assert.Empty(journal.Unresolved());
                JournalEntry resolved = journal.ForApp("shop").Last(e => e.Kind == "set-floor");
                Assert.Equal(JournalStatus.RolledBack, resolved.Status);
                Assert.Equal(1, h.MinReplicas());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_crash_after_the_floor_write_but_before_its_outcome_is_found_done_on_restart_and_restored_after_the_hold()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        string path = Path.Combine(Path.GetTempPath(), $"foresight-floors-{Guid.NewGuid():N}.db");
        try
        {
            int floor;
            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                KubernetesOrchestrator kube = await h.OrchestratorAsync();
                KubernetesEngine engine = await h.EngineAsync(journal: new SqliteCommandJournal(journal), floors: new CrashingFloors(new KubernetesFloors(kube), writeFirst: true));
                await CrashAsync(h, engine);

                Assert.Equal("set-floor", Assert.Single(journal.Unresolved()).Kind);
                floor = h.MinReplicas();
                Assert.True(floor > 1); // written, outcome lost
            }

            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                KubernetesEngine restarted = await h.EngineAsync(traffic: new FlatTraffic(), journal: new SqliteCommandJournal(journal));
                await h.TickAsync(restarted);

                JournalEntry resolved = journal.ForApp("shop").Last(e => e.Kind == "set-floor");
                Assert.Equal(JournalStatus.Done, resolved.Status);
                Assert.EndsWith("| found on the HPA after a restart", resolved.Detail, StringComparison.Ordinal);
                Assert.Equal(floor, h.MinReplicas());

                await h.TickAsync(restarted, ticks: 16); // past the 65 s hold

                Assert.Equal(1, h.MinReplicas());
                JournalEntry restore = Assert.Single(journal.ForApp("shop"), e => e.Kind == "restore-floor");
                Assert.Equal(JournalStatus.Done, restore.Status);
                Assert.Empty(journal.Unresolved());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Ticks until the floor write "kills the process" (an exception the engine does not handle).</summary>
    private static async Task CrashAsync(KubernetesClusterHarness h, KubernetesEngine engine)
    {
        for (int i = 0; i < 80; i++)
        {
            try
            {
                await h.TickAsync(engine);
            }
            catch (ProcessKilledException)
            {
                return;
            }
        }

        Assert.Fail("no floor was written within 80 ticks");
    }

    private sealed class ProcessKilledException() : Exception("killed");

    /// <summary>
    /// The process dies in the first write of a floor above the HPA's own minimum (1): before the HPA patch, or after it
    /// and before its outcome is journaled.
    /// </summary>
    private sealed class CrashingFloors(IPredictiveFloors inner, bool writeFirst) : IPredictiveFloors
    {
        public async ValueTask<int?> SetPredictiveFloorAsync(string app, string site, int minReplicas, DateTimeOffset holdUntil, CancellationToken cancellationToken)
        {
            if (minReplicas <= 1)
            {
                return await inner.SetPredictiveFloorAsync(app, site, minReplicas, holdUntil, cancellationToken);
            }

            if (writeFirst)
            {
                await inner.SetPredictiveFloorAsync(app, site, minReplicas, holdUntil, cancellationToken);
            }

            throw new ProcessKilledException();
        }

        public ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
            inner.RestorePredictiveFloorAsync(app, site, cancellationToken);

        public ValueTask<PredictiveFloorState?> ReadPredictiveFloorAsync(string app, string site, CancellationToken cancellationToken) =>
            inner.ReadPredictiveFloorAsync(app, site, cancellationToken);
    }

    private sealed class FlatTraffic : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken) => ValueTask.FromResult(new[] { 10.0, 20.0 });
    }
}
