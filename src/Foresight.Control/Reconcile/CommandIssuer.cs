using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

/// <summary>How issuing a plan in order ended: the commands that went through, and the one that failed, if any.</summary>
/// <param name="Issued">Commands applied, from the start of the plan.</param>
/// <param name="Failed">The command that failed and ended the pass, or null when all were applied.</param>
/// <param name="Error">Why <paramref name="Failed"/> failed.</param>
public sealed record IssueOutcome(int Issued, ReconcileCommand? Failed, Exception? Error)
{
    /// <summary>A spin-up the orchestrator refused outright (not a transient error that the next pass may retry).</summary>
    public bool SpinUpRefused => Failed is ReconcileCommand.SpinUp && Error is OrchestratorException { IsTransient: false };
}

/// <summary>
/// The one place a <see cref="ReconcileCommand"/> becomes an <see cref="IOrchestrator"/> call, shared by the plain,
/// the fault-tolerant and the journaled reconcile paths so that they cannot disagree on what a command does.
/// </summary>
public static class CommandIssuer
{
    /// <summary>Issues one command; returns a short description of its result for logs and journals.</summary>
    public static async ValueTask<string?> IssueAsync(ReconcileCommand command, IOrchestrator orchestrator, CancellationToken cancellationToken)
    {
        switch (command)
        {
            case ReconcileCommand.SpinUp s:
                InstanceInfo instance = await orchestrator.SpinUpAsync(s.Request, cancellationToken).ConfigureAwait(false);
                return $"instance {instance.Id}";
            case ReconcileCommand.Drain d:
                await orchestrator.DrainAsync(d.Instance, cancellationToken).ConfigureAwait(false);
                return null;
            case ReconcileCommand.Stop s:
                await orchestrator.StopAsync(s.Instance, cancellationToken).ConfigureAwait(false);
                return null;
            case ReconcileCommand.SetRoute r:
                await orchestrator.SetRouteAsync(r.Route, cancellationToken).ConfigureAwait(false);
                return null;
            case ReconcileCommand.SetFloor f:
                int floor = await orchestrator.SetFloorAsync(f.App, f.SiteId, f.MinReplicas, cancellationToken).ConfigureAwait(false);
                return floor == f.MinReplicas ? $"floor {floor}" : $"floor {floor} (asked {f.MinReplicas}; the autoscaler's bounds hold)";
            default:
                throw new InvalidOperationException($"Unknown command {command}.");
        }
    }

    /// <summary>
    /// Issues <paramref name="commands"/> in order and stops at the first that fails (an orchestrator error or a
    /// timeout): plans are ordered so that any prefix keeps capacity and routes valid, and the next pass re-plans from
    /// the observed state. <paramref name="onIssuing"/> runs before each command is issued and returns a token that is
    /// handed back to <paramref name="onDone"/> or <paramref name="onFailed"/> (the journal's sequence number).
    /// </summary>
    public static async ValueTask<IssueOutcome> IssueInOrderAsync(
        IReadOnlyList<ReconcileCommand> commands,
        IOrchestrator orchestrator,
        CancellationToken cancellationToken,
        Func<ReconcileCommand, long>? onIssuing = null,
        Action<long, string?>? onDone = null,
        Action<long, Exception>? onFailed = null)
    {
        int issued = 0;
        foreach (ReconcileCommand command in commands)
        {
            long token = onIssuing?.Invoke(command) ?? 0;
            try
            {
                string? result = await IssueAsync(command, orchestrator, cancellationToken).ConfigureAwait(false);
                onDone?.Invoke(token, result);
                issued++;
            }
            catch (Exception e) when (e is OrchestratorException or TimeoutException)
            {
                onFailed?.Invoke(token, e);
                return new IssueOutcome(issued, command, e);
            }
        }

        return new IssueOutcome(issued, null, null);
    }
}
