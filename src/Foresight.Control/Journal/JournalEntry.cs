namespace Foresight.Control.Journal;

public enum JournalStatus
{
    /// <summary>Written before the command is issued; no outcome yet. A restart resolves it.</summary>
    Intent,

    Done,

    Failed,

    /// <summary>A restart found the intent unfinished and the observed cluster did not show it: re-planned instead.</summary>
    RolledBack,

    /// <summary>Dry-run: computed and recorded, never issued.</summary>
    Planned,

    /// <summary>Not a command: a fault or safety decision worth keeping (warm-up timeout, retry, cooldown...).</summary>
    Event,
}

/// <summary>One row of the reconcile journal.</summary>
/// <param name="Kind">spin-up, drain, stop, route, or an event kind such as warmup-timeout.</param>
/// <param name="Target">The instance id, request id or ingress site the command is about.</param>
/// <param name="Payload">What a restart needs to re-issue the command (site, route weights), as JSON.</param>
public sealed record JournalEntry(
    long Seq,
    long Pass,
    DateTimeOffset Time,
    string App,
    string Kind,
    string Target,
    string? RequestId,
    string Detail,
    string? Payload,
    JournalStatus Status,
    string? Error,
    DateTimeOffset? CompletedAt);
