using System.Text.Json;
using Foresight.Control.Journal;
using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

/// <summary>What one reconcile pass did.</summary>
/// <param name="Commands">The plan of the pass (issued, or only journaled in dry-run).</param>
/// <param name="Error">Why the pass ended early (observe failed, a command failed), or null.</param>
/// <param name="Issue">How issuing the plan went; null when nothing was issued (dry-run, or the pass ended before).</param>
public sealed record ReconcileOutcome(long Pass, IReadOnlyList<ReconcileCommand> Commands, bool DryRun, string? Error, IssueOutcome? Issue = null)
{
    /// <summary>Commands applied, from the start of the plan.</summary>
    public int Issued => Issue?.Issued ?? 0;

    /// <summary>Commands the orchestrator rejected (0 or 1): the pass stops at the first and the next one re-plans.</summary>
    public int Failed => Issue?.Failed is null ? 0 : 1;

    /// <summary>The plan for apps in dry-run (<see cref="ReconcilePlan.DryRun"/>): journaled as planned, never issued.</summary>
    public IReadOnlyList<ReconcileCommand> DryRunCommands { get; init; } = [];
}

/// <summary>How the unfinished intents found in the journal at start-up were resolved.</summary>
public sealed record RecoveryOutcome(int Resumed, int Confirmed, int RolledBack, int Failed);

/// <summary>
/// The crash-safe reconciler: each pass observes the cluster, plans with <see cref="PlacementReconciler"/>, and
/// issues the commands one by one, each written to the <see cref="ReconcileJournal"/> as an intent before it is
/// issued. After a restart, intents without an outcome are resolved against the observed cluster first: spin-ups are
/// resumed with their original request id (the orchestrator's idempotency prevents duplicates); drains, stops and
/// routes are confirmed if the cluster shows them, and otherwise rolled back to be re-planned from fresh state.
/// </summary>
public sealed class JournaledReconciler
{
    private readonly EdgeTopology _topology;
    private readonly IReadOnlyList<AppProfile> _apps;
    private readonly IOrchestrator _orchestrator;
    private readonly ReconcileJournal _journal;
    private readonly PlacementReconciler _planner;
    private readonly bool _dryRun;

    public JournaledReconciler(
        EdgeTopology topology,
        IReadOnlyList<AppProfile> apps,
        IOrchestrator orchestrator,
        ReconcileJournal journal,
        ReconcilerOptions? options = null,
        bool dryRun = false)
    {
        _topology = topology;
        _apps = apps;
        _orchestrator = orchestrator;
        _journal = journal;
        _dryRun = dryRun;
        _planner = new PlacementReconciler(topology, apps, options, journal.NextRequestNumber, journal.LastChange);
    }

    public bool Recovered { get; private set; }

    /// <summary>
    /// Resolves the intents a previous controller left without an outcome. Runs before the first pass; a transient
    /// orchestrator error leaves the rest unresolved and throws, and the next pass tries again. In dry-run it leaves
    /// them all open.
    /// </summary>
    public async ValueTask<RecoveryOutcome> RecoverAsync(CancellationToken cancellationToken)
    {
        IReadOnlyList<JournalEntry> open = _journal.Unresolved();
        int resumed = 0, confirmed = 0, rolledBack = 0, failed = 0;

        // A dry-run changes nothing, so it must not resume spin-ups either: the open intents wait for a live pass.
        if (open.Count > 0 && !_dryRun)
        {
            ClusterSnapshot snapshot = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
            var live = snapshot.Instances.ToDictionary(i => i.Id);
            foreach (JournalEntry e in open)
            {
                switch (e.Kind)
                {
                    case JournalKinds.SpinUp:
                        try
                        {
                            // Same request id: if the first attempt reached the orchestrator, this returns that instance.
                            var request = new SpinUpRequest(e.RequestId!, e.App, e.Payload!);
                            InstanceInfo inst = await _orchestrator.SpinUpAsync(request, cancellationToken).ConfigureAwait(false);
                            _journal.MarkDone(e.Seq, $"resumed after restart: {inst.Id}");
                            resumed++;
                        }
                        catch (OrchestratorException ex) when (!ex.IsTransient)
                        {
                            _journal.MarkFailed(e.Seq, $"resume after restart failed: {ex.Message}");
                            failed++;
                        }

                        break;
                    case JournalKinds.Drain:
                        Resolve(e, !live.TryGetValue(new InstanceId(e.Target), out InstanceInfo? d) || d.State == InstanceState.Draining);
                        break;
                    case JournalKinds.Stop:
                        Resolve(e, !live.ContainsKey(new InstanceId(e.Target)));
                        break;
                    case JournalKinds.Route:
                        Route? observed = snapshot.Routes.FirstOrDefault(r => r.App == e.App && r.IngressSiteId == e.Target);
                        Resolve(e, observed is not null && observed.Weights.SequenceEqual(DecodeWeights(e.Payload)));
                        break;
                    case JournalKinds.Floor:
                        AutoscaledSite? site = snapshot.Autoscaled.FirstOrDefault(x => x.App == e.App && x.SiteId == e.Target);
                        Resolve(e, site is not null && e.Payload is not null
                            && site.Floor == Math.Clamp(int.Parse(e.Payload, System.Globalization.CultureInfo.InvariantCulture), site.UserMinReplicas, site.MaxReplicas));
                        break;
                    default:
                        _journal.MarkRolledBack(e.Seq, "unknown kind");
                        rolledBack++;
                        break;
                }
            }
        }

        Recovered = true;
        return new RecoveryOutcome(resumed, confirmed, rolledBack, failed);

        void Resolve(JournalEntry e, bool applied)
        {
            if (applied)
            {
                _journal.MarkDone(e.Seq, "confirmed by the cluster after restart");
                confirmed++;
            }
            else
            {
                // Decided on state that is now stale: the next pass re-plans from fresh state.
                _journal.MarkRolledBack(e.Seq, "not applied before the restart; re-planned");
                rolledBack++;
            }
        }
    }

    /// <summary>
    /// One level-triggered pass towards <paramref name="desired"/> (or, when null, the last desired placement in the
    /// journal, which is how a restarted controller resumes in-flight migrations).
    /// </summary>
    public async ValueTask<ReconcileOutcome> ReconcileAsync(
        DesiredPlacement? desired,
        IReadOnlyList<double[]> demandByAppIngress,
        CancellationToken cancellationToken)
    {
        if (!Recovered)
        {
            try
            {
                await RecoverAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OrchestratorException e)
            {
                // Nothing new is issued before the old intents are resolved.
                return new ReconcileOutcome(_journal.LastPass, [], _dryRun, $"recovery failed: {e.Message}");
            }
        }

        if (desired is null)
        {
            desired = _journal.LoadDesired(_apps.Count, _topology.SiteCount)
                ?? throw new InvalidOperationException("No desired placement given and none in the journal.");
        }
        else if (!_dryRun)
        {
            _journal.SaveDesired(desired);
        }

        long pass = _journal.BeginPass();
        ClusterSnapshot snapshot;
        try
        {
            snapshot = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OrchestratorException e)
        {
            return new ReconcileOutcome(pass, [], _dryRun, $"observe failed: {e.Message}");
        }

        ReconcilePlan plan = _planner.Plan(desired, snapshot, demandByAppIngress);
        foreach (ReconcileCommand c in _dryRun ? plan.Commands.Concat(plan.DryRun) : plan.DryRun)
        {
            (string kind, string target, string? rid, string detail, string? payload) = Describe(c);
            _journal.RecordPlanned(pass, c.App, kind, target, rid, detail, payload);
        }

        if (_dryRun)
        {
            return new ReconcileOutcome(pass, plan.Commands, DryRun: true, Error: null) { DryRunCommands = plan.DryRun };
        }

        IssueOutcome issue = await CommandIssuer.IssueInOrderAsync(
            plan.Commands,
            _orchestrator,
            cancellationToken,
            onIssuing: c =>
            {
                (string kind, string target, string? rid, string detail, string? payload) = Describe(c);
                return _journal.RecordIntent(pass, c.App, kind, target, rid, detail, payload);
            },
            onDone: (seq, result) => _journal.MarkDone(seq, result),
            onFailed: (seq, e) => _journal.MarkFailed(seq, e.Message)).ConfigureAwait(false);
        if (issue.Failed is { } failed)
        {
            // The state is safe: commands are ordered so that any prefix of a plan keeps capacity and routes valid.
            (string kind, string target, _, _, _) = Describe(failed);
            return new ReconcileOutcome(pass, plan.Commands, DryRun: false, $"{kind} {target} failed: {issue.Error!.Message}", issue) { DryRunCommands = plan.DryRun };
        }

        return new ReconcileOutcome(pass, plan.Commands, DryRun: false, Error: null, issue) { DryRunCommands = plan.DryRun };
    }

    private static (string Kind, string Target, string? RequestId, string Detail, string? Payload) Describe(ReconcileCommand command) => command switch
    {
        ReconcileCommand.SpinUp s => (JournalKinds.SpinUp, s.Request.RequestId, s.Request.RequestId, $"spin up at {s.Request.SiteId}", s.Request.SiteId),
        ReconcileCommand.Drain d => (JournalKinds.Drain, d.Instance.Value, null, d.Reason, null),
        ReconcileCommand.Stop s => (JournalKinds.Stop, s.Instance.Value, null, s.Detail.Length > 0 ? $"{s.Reason}: {s.Detail}" : s.Reason.ToString(), null),
        ReconcileCommand.SetRoute r => (JournalKinds.Route, r.Route.IngressSiteId, null,
            string.Join(", ", r.Route.Weights.Select(w => $"{w.SiteId}={w.Weight}")), JsonSerializer.Serialize(r.Route.Weights.Select(w => new[] { w.SiteId, w.Weight.ToString("R", System.Globalization.CultureInfo.InvariantCulture) }))),
        ReconcileCommand.SetFloor f => (JournalKinds.Floor, f.SiteId, null, $"minReplicas {f.Was} -> {f.MinReplicas}",
            f.MinReplicas.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        _ => throw new InvalidOperationException($"Unknown command {command}."),
    };

    private static List<SiteWeight> DecodeWeights(string? payload)
    {
        string[][] pairs = payload is null ? [] : JsonSerializer.Deserialize<string[][]>(payload) ?? [];
        return pairs.Select(p => new SiteWeight(p[0], double.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToList();
    }
}
