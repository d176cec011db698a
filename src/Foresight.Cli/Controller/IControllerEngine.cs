namespace Foresight.Cli.Controller;

/// <summary>
/// One orchestrator's side of the controller loop: observe traffic and the cluster, forecast, decide, and reconcile
/// (or only plan, in dry-run). The loop owns the schedule, status publication, metrics and the journal.
/// </summary>
public interface IControllerEngine : IAsyncDisposable
{
    /// <summary>simulated or kubernetes.</summary>
    string Mode { get; }

    /// <summary>The engine's durable command journal when one is configured; null: the loop keeps its log in memory.</summary>
    ICommandJournal? Journal => null;

    /// <summary>Sites and traffic sources with their coordinates (the dashboard's map); null when the engine has none.</summary>
    Foresight.Core.Topology.EdgeTopology? Topology => null;

    /// <param name="elapsed">Wall time since the previous tick (more than one period when ticks were coalesced).</param>
    ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken);
}

/// <param name="Commands">What this tick issued (or planned), without time and tick number yet.</param>
/// <param name="ReconcileSeconds">Time spent planning and applying orchestrator commands.</param>
public sealed record EngineTick(
    double EngineSeconds,
    IReadOnlyList<AppStatus> Apps,
    IReadOnlyList<EngineCommand> Commands,
    double ReconcileSeconds,
    double? ForecastMase = null,
    double? ForecastCoverage90 = null,
    string? Message = null);

public sealed record EngineCommand(string App, string Kind, string Target, string Detail, string Outcome, string? Error = null);

/// <summary>Whether this replica may act this tick (leader election); followers only observe and forecast.</summary>
public interface ILeadership
{
    /// <summary>Who this replica is, for status.</summary>
    string Identity { get; }

    /// <summary>One election round: acquire or renew the lease; false while another replica holds it.</summary>
    Task<bool> TryLeadAsync(CancellationToken cancellationToken);
}
