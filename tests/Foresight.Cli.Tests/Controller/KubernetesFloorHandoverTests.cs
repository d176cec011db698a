using Foresight.Cli.Controller;
using Foresight.Control.Journal;
using Foresight.Kubernetes;
using Foresight.Orchestration;
using static Foresight.Cli.Tests.Controller.KubernetesClusterHarness;

namespace Foresight.Cli.Tests.Controller;

/// <summary>
/// Floors outlive the replica that raised them: they are on the HPA, which the next leader observes (the cluster, not
/// the old leader's memory, is the state). A new leader adopts what runs, decides with its own (warm) forecast, and the
/// floor then follows that forecast level-triggered; a floor write interrupted by a crash is resolved on restart from
/// the journal's intent and the HPA.
/// </summary>
public sealed class KubernetesFloorHandoverTests
{
    [Fact]
    public async Task A_new_leader_adopts_what_runs_keeps_the_floor_its_own_forecast_still_needs_and_lowers_it_once_the_peak_is_past_its_window()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        var a = new LeaseLeadership(new LeaseElector(h.Cluster.Server.CreateClient(), Ns, "foresight-controller", "replica-a", h.Clock));
        var b = new LeaseLeadership(new LeaseElector(h.Cluster.Server.CreateClient(), Ns, "foresight-controller", "replica-b", h.Clock));
        await using ControllerEngine leader = await h.EngineAsync(leadership: a);
        await using ControllerEngine follower = await h.EngineAsync(leadership: b);

        // Both replicas observe the same traffic; a leads (it ticks first) until it has raised the floor ahead of a burst.
        var followerCommands = new List<EngineCommand>();
        EngineTick? standby = null;
        for (int i = 0; i < 80 && h.MinReplicas() <= 1; i++)
        {
            h.Cluster.Advance(TimeSpan.FromSeconds(5));
            await leader.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);
            standby = await follower.TickAsync(TimeSpan.FromSeconds(5), dryRun: false, CancellationToken.None);
            followerCommands.AddRange(standby.Commands);
        }

        int floor = h.MinReplicas();
        Assert.True(floor > 1, "the leader raised no floor");
        Assert.Empty(followerCommands);
        Assert.Contains("standby", standby!.Message, StringComparison.Ordinal);
        Assert.Equal("1", h.HpaAnnotations()![Names.OriginalMinReplicasAnnotation]!.GetValue<string>());
        string[] podsAtB = PodsAt(h, "b");
        Assert.NotEmpty(podsAtB); // b has no HPA: the leader started b's instances itself

        // Replica a dies. b takes the lease over once a's has expired: it adopts what runs (b's pods: no spin-up, no
        // stop), decides with its own forecast (warm: it observed all along), which still sees the burst ahead, so the
        // floor a raised stays; b lowers it itself (back to the HPA's own minReplicas) once the predicted peak has left
        // the window the floor covers (closer than the 35 s lead time: the capacity is in place by then, and removing
        // it is the HPA's call).
        var taken = new List<(double Phase, EngineCommand Command)>();
        EngineTick? first = null;
        for (int i = 0; i < 20; i++) // to the end of the burst
        {
            EngineTick tick = await h.TickOnceAsync(follower);
            double phase = (h.Clock.GetUtcNow() - h.Start).TotalSeconds % Period;
            taken.AddRange(tick.Commands.Select(c => (phase, c)));
            if (first is null && tick.Message?.Contains("holds the lease", StringComparison.Ordinal) == true)
            {
                first = tick;
                Assert.True(phase < BurstStart - 35, $"b took over at phase {phase}, too late for this test");
            }
        }

        Assert.NotNull(first);
        Assert.DoesNotContain(first.Commands, c => c.Kind == "set-floor");
        Assert.Equal(floor, first.Apps[0].Placements[0].Floor);
        Assert.DoesNotContain(taken, t => t.Command.Kind is "spin-up" or "stop" or "drain");
        Assert.Equal(podsAtB, PodsAt(h, "b"));
        (double lowerPhase, EngineCommand lower) = Assert.Single(taken, t => t.Command is { Kind: "set-floor", Target: "shop@a" });
        Assert.Equal(($"minReplicas {floor} -> 1", "applied"), (lower.Detail, lower.Outcome));
        Assert.InRange(lowerPhase, BurstStart - 35 - 5, BurstStart + 15);
        Assert.Equal(1, h.MinReplicas());
        Assert.Null(h.HpaAnnotations()?[Names.OriginalMinReplicasAnnotation]);
    }

    [Fact]
    public async Task A_new_leader_whose_first_decision_is_deferred_keeps_the_floors_it_adopted()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        await using ControllerEngine leader = await h.EngineAsync(leadership: new SwitchableLeadership("replica-a"));
        await h.TickUntilAsync(leader, _ => h.MinReplicas() > 1);
        int floor = h.MinReplicas();

        // Replica b takes over; the cluster read its first decision needs fails (the one before it, adopting, worked),
        // so its policy has not decided yet: the pass must not hand the floor back to the HPA on the adopted placement.
        var lease = new SwitchableLeadership("replica-b") { Leading = true };
        FlakyObserve flaky = null!;
        await using ControllerEngine successor = await h.EngineAsync(traffic: new FlatTraffic(), leadership: lease, orchestrator: kube => flaky = new FlakyObserve(kube));
        flaky.FailCall = 2;
        EngineTick deferred = await h.TickOnceAsync(successor);

        Assert.Contains("decision deferred", deferred.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(deferred.Commands, c => c.Kind == "set-floor");
        Assert.Equal(floor, h.MinReplicas());
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
                await using ControllerEngine engine = await h.EngineAsync(journal: journal, orchestrator: kube => new CrashingFloors(kube, writeFirst: false));
                await CrashAsync(h, engine);

                JournalEntry intent = Assert.Single(journal.Unresolved());
                Assert.Equal("set-floor", intent.Kind);
                Assert.StartsWith("minReplicas 1 -> ", intent.Detail, StringComparison.Ordinal);
                Assert.Equal(1, h.MinReplicas()); // never written
            }

            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                await using ControllerEngine restarted = await h.EngineAsync(traffic: new FlatTraffic(), journal: journal);
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
    public async Task A_crash_after_the_floor_write_but_before_its_outcome_is_found_done_on_restart_and_the_floor_then_follows_the_new_forecast()
    {
        await using var h = new KubernetesClusterHarness();
        h.AddHpa("a", min: 1, max: 10);
        string path = Path.Combine(Path.GetTempPath(), $"foresight-floors-{Guid.NewGuid():N}.db");
        try
        {
            int floor;
            long crashed;
            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                await using ControllerEngine engine = await h.EngineAsync(journal: journal, orchestrator: kube => new CrashingFloors(kube, writeFirst: true));
                await CrashAsync(h, engine);

                JournalEntry intent = Assert.Single(journal.Unresolved());
                Assert.Equal("set-floor", intent.Kind);
                crashed = intent.Seq;
                floor = h.MinReplicas();
                Assert.True(floor > 1); // written, outcome lost
            }

            using (ReconcileJournal journal = ReconcileJournal.Open(path, h.Clock))
            {
                // The restarted controller's forecast is cold and the traffic is flat: nothing is predicted, so once the
                // intent is resolved, the level-triggered pass hands the minimum back to the HPA.
                await using ControllerEngine restarted = await h.EngineAsync(traffic: new FlatTraffic(), journal: journal);
                List<EngineCommand> commands = await h.TickAsync(restarted);

                JournalEntry resolved = Assert.Single(journal.ForApp("shop"), e => e.Seq == crashed);
                Assert.Equal(JournalStatus.Done, resolved.Status);
                Assert.Contains("confirmed by the cluster after restart", resolved.Detail, StringComparison.Ordinal);
                JournalEntry lowered = journal.ForApp("shop").Last(e => e.Kind == "set-floor");
                Assert.True(lowered.Seq > crashed);
                Assert.Equal(JournalStatus.Done, lowered.Status);
                Assert.StartsWith($"minReplicas {floor} -> 1", lowered.Detail, StringComparison.Ordinal);
                Assert.Contains(commands, c => c is { Kind: "set-floor", Target: "shop@a", Outcome: "applied" } && c.Detail == $"minReplicas {floor} -> 1");
                Assert.Equal(1, h.MinReplicas());
                Assert.Empty(journal.Unresolved());
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static string[] PodsAt(KubernetesClusterHarness h, string site) =>
        h.Cluster.Server.List("pods")
            .Where(p => p["metadata"]?["name"]?.GetValue<string>()?.StartsWith($"shop-{site}-", StringComparison.Ordinal) == true)
            .Select(p => p["metadata"]!["name"]!.GetValue<string>())
            .Order(StringComparer.Ordinal)
            .ToArray();

    /// <summary>Ticks until the floor write "kills the process" (an exception the engine does not handle).</summary>
    private static async Task CrashAsync(KubernetesClusterHarness h, IControllerEngine engine)
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
    /// The adapter, except that the process dies in the first write of a floor above the HPA's own minimum (1): before
    /// the HPA patch, or after it and before its outcome is journaled.
    /// </summary>
    private sealed class CrashingFloors(IOrchestrator inner, bool writeFirst) : IOrchestrator
    {
        public async ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken)
        {
            if (minReplicas <= 1)
            {
                return await inner.SetFloorAsync(app, siteId, minReplicas, cancellationToken);
            }

            if (writeFirst)
            {
                await inner.SetFloorAsync(app, siteId, minReplicas, cancellationToken);
            }

            throw new ProcessKilledException();
        }

        public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) => inner.ObserveAsync(cancellationToken);

        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => inner.SpinUpAsync(request, cancellationToken);

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) =>
            inner.WaitUntilReadyAsync(id, timeout, cancellationToken);

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) => inner.SetRouteAsync(route, cancellationToken);

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => inner.DrainAsync(id, cancellationToken);

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => inner.StopAsync(id, cancellationToken);
    }

    /// <summary>The adapter, except that its <see cref="FailCall"/>-th observation (counted from 1) fails as an API outage would.</summary>
    private sealed class FlakyObserve(IOrchestrator inner) : IOrchestrator
    {
        private int _calls;

        public int FailCall { get; set; }

        public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) =>
            ++_calls == FailCall ? throw new OrchestratorException("the API server is unavailable", isTransient: true) : inner.ObserveAsync(cancellationToken);

        public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) =>
            inner.SetFloorAsync(app, siteId, minReplicas, cancellationToken);

        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => inner.SpinUpAsync(request, cancellationToken);

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) =>
            inner.WaitUntilReadyAsync(id, timeout, cancellationToken);

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) => inner.SetRouteAsync(route, cancellationToken);

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => inner.DrainAsync(id, cancellationToken);

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => inner.StopAsync(id, cancellationToken);
    }

    private sealed class FlatTraffic : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken) => ValueTask.FromResult(new[] { 10.0, 20.0 });
    }
}
