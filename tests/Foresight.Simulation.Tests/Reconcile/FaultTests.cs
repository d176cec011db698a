using Foresight.Control.Faults;
using Foresight.Control.Journal;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;

namespace Foresight.Simulation.Tests.Reconcile;

/// <summary>Each orchestrator fault ends in a safe state that shows in the pass outcome and in the journal.</summary>
public sealed class FaultTests
{
    private static List<ReconcileOutcome> Drive(
        ReconcileRig rig,
        JournaledReconciler controller,
        DesiredPlacement desired,
        Action<double>? everySecond = null,
        double maxSeconds = 400)
    {
        var outcomes = new List<ReconcileOutcome>();
        for (double t = 0; t < maxSeconds; t++)
        {
            everySecond?.Invoke(t);
            if ((int)t % 5 == 0)
            {
                outcomes.Add(controller.ReconcileAsync(desired, rig.Demand(), CancellationToken.None).AsTask().GetAwaiter().GetResult());
                rig.AssertSafe();
                if (rig.Converged(desired))
                {
                    rig.AssertNoLeak();
                    return outcomes;
                }
            }

            rig.Sim.Step();
            rig.AssertSafe();
        }

        Assert.Fail($"did not converge: {ReconcileRig.Describe(rig.Sim.Snapshot())}");
        return outcomes;
    }

    private static JournalEntry[] Rows(ReconcileRig rig, string kind) => rig.Journal.ForApp("api").Where(e => e.Kind == kind).ToArray();

    [Fact]
    public void A_rejected_spin_up_is_journaled_as_failed_and_retried_with_a_new_request_on_the_next_pass()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        var faulty = new FaultyOrchestrator(rig.Sim);
        faulty.FailNext("spin-up", new OrchestratorException("quota exceeded", isTransient: false));

        List<ReconcileOutcome> outcomes = Drive(rig, rig.Start(faulty), ReconcileRig.Desired(0, 0, 1));

        Assert.Equal(1, outcomes[0].Failed);
        Assert.Contains("quota exceeded", outcomes[0].Error, StringComparison.Ordinal);
        JournalEntry[] spins = Rows(rig, JournalKinds.SpinUp);
        Assert.Equal([JournalStatus.Failed, JournalStatus.Done], spins.Select(e => e.Status));
        Assert.Equal("quota exceeded", spins[0].Error);
        Assert.NotEqual(spins[0].RequestId, spins[1].RequestId);
    }

    [Fact]
    public void An_instance_stuck_in_cold_start_is_stopped_and_replaced()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        rig.Sim.StallNextSpinUps(1);

        Drive(rig, rig.Start(options: new ReconcilerOptions { StartupTimeoutFactor = 2 }), ReconcileRig.Desired(0, 0, 1));

        JournalEntry timeout = Assert.Single(Rows(rig, JournalKinds.Stop), e => e.Detail.StartsWith(nameof(StopReason.StartupTimeout), StringComparison.Ordinal));
        Assert.Equal(JournalStatus.Done, timeout.Status);
        Assert.Contains("Starting for", timeout.Detail, StringComparison.Ordinal);
        Assert.Equal(2, Rows(rig, JournalKinds.SpinUp).Count(e => e.Status == JournalStatus.Done));
        Assert.Equal(InstanceState.Stopped, rig.Sim.Describe(new InstanceId(timeout.Target)).State);
    }

    [Fact]
    public void Losing_the_target_server_mid_migration_keeps_the_old_instance_serving_and_retries_elsewhere()
    {
        using var rig = new ReconcileRig([1, 0, 0], spareServerAtLastSite: true);
        string? lost = null;

        Drive(rig, rig.Start(), ReconcileRig.Desired(0, 0, 1), t =>
        {
            InstanceInfo? warming = rig.Sim.Snapshot().Instances.FirstOrDefault(i => i.SiteId == "site-2" && i.State == InstanceState.Warming);
            if (lost is null && warming is not null)
            {
                lost = warming.ServerId!;
                rig.Sim.FailServer(lost);
            }
        });

        Assert.NotNull(lost);
        JournalEntry cleanup = Assert.Single(Rows(rig, JournalKinds.Stop), e => e.Detail.StartsWith(nameof(StopReason.Failed), StringComparison.Ordinal));
        Assert.Contains($"server {lost} went down", cleanup.Detail, StringComparison.Ordinal);
        InstanceInfo survivor = Assert.Single(rig.Sim.Snapshot().Instances);
        Assert.NotEqual(lost, survivor.ServerId);
    }

    [Fact]
    public void Transient_api_errors_are_retried_through_polly_and_leave_no_failed_rows()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        var faulty = new FaultyOrchestrator(rig.Sim);
        faulty.FailNext("spin-up", new OrchestratorException("503", isTransient: true), 2);
        faulty.FailNext("route", new OrchestratorException("conflict", isTransient: true));
        faulty.FailNext("drain", new OrchestratorException("timeout", isTransient: true));
        var resilient = new ResilientOrchestrator(faulty, rig.Sim.Clock, new OrchestratorRetryOptions { BaseDelay = TimeSpan.Zero, AttemptTimeout = null });

        List<ReconcileOutcome> outcomes = Drive(rig, rig.Start(resilient), ReconcileRig.Desired(0, 0, 1));

        Assert.Equal(4, faulty.Injected);
        Assert.Equal(4, resilient.Retries);
        Assert.All(outcomes, o => Assert.Null(o.Error));
        Assert.All(rig.Journal.ForApp("api"), e => Assert.Equal(JournalStatus.Done, e.Status));
        Assert.Single(Rows(rig, JournalKinds.SpinUp));
    }

    [Fact]
    public void Errors_that_outlast_the_retries_fail_the_pass_safely_and_the_next_pass_finishes_the_job()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        var faulty = new FaultyOrchestrator(rig.Sim);
        faulty.FailNext("drain", new OrchestratorException("API server unavailable", isTransient: true), 4);
        var resilient = new ResilientOrchestrator(faulty, rig.Sim.Clock, new OrchestratorRetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero, AttemptTimeout = null });

        List<ReconcileOutcome> outcomes = Drive(rig, rig.Start(resilient), ReconcileRig.Desired(0, 0, 1));

        Assert.Equal(1, resilient.GaveUp);
        Assert.Single(outcomes, o => o.Failed == 1);
        JournalEntry[] drains = Rows(rig, JournalKinds.Drain);
        Assert.Equal([JournalStatus.Failed, JournalStatus.Done], drains.Select(e => e.Status));
        Assert.Equal("API server unavailable", drains[0].Error);
    }

    [Fact]
    public async Task Recovery_that_hits_an_api_error_issues_nothing_and_is_retried_on_the_next_pass()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        var killed = new KillSwitch(rig.Sim, killAt: 1, afterIssue: false);
        await Assert.ThrowsAsync<ControllerKilledException>(
            async () => await rig.Start(killed).ReconcileAsync(ReconcileRig.Desired(0, 0, 1), rig.Demand(), CancellationToken.None));
        JournalEntry open = Assert.Single(rig.Journal.Unresolved());

        var faulty = new FaultyOrchestrator(rig.Sim);
        faulty.FailNext("spin-up", new OrchestratorException("503", isTransient: true));
        JournaledReconciler restarted = rig.Start(faulty);
        ReconcileOutcome first = await restarted.ReconcileAsync(null, rig.Demand(), CancellationToken.None);

        Assert.Contains("recovery failed", first.Error, StringComparison.Ordinal);
        Assert.Empty(first.Commands);
        Assert.Equal(open.Seq, Assert.Single(rig.Journal.Unresolved()).Seq);

        ReconcileOutcome second = await restarted.ReconcileAsync(null, rig.Demand(), CancellationToken.None);

        Assert.Null(second.Error);
        Assert.True(restarted.Recovered);
        Assert.Empty(rig.Journal.Unresolved());
        Assert.Contains("resumed after restart", rig.Journal.ForApp("api").Single(e => e.Seq == open.Seq).Detail, StringComparison.Ordinal);
        Assert.Empty(second.Commands.OfType<ReconcileCommand.SpinUp>());
    }

    [Fact]
    public async Task A_failed_observe_issues_nothing_and_says_why()
    {
        using var rig = new ReconcileRig([1, 0, 0]);
        var faulty = new FaultyOrchestrator(rig.Sim);
        faulty.FailNext("observe", new OrchestratorException("watch expired", isTransient: true));

        ReconcileOutcome outcome = await rig.Start(faulty).ReconcileAsync(ReconcileRig.Desired(0, 0, 1), rig.Demand(), CancellationToken.None);

        Assert.Contains("watch expired", outcome.Error, StringComparison.Ordinal);
        Assert.Empty(outcome.Commands);
        Assert.Equal(["observe"], faulty.Calls);
        Assert.Empty(rig.Journal.Recent(10));
    }
}
