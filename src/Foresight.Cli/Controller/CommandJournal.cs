using Foresight.Control.Journal;

namespace Foresight.Cli.Controller;

/// <param name="Kind">spin-up, drain, stop, set-route, set-floor.</param>
/// <param name="Outcome">applied, planned (dry-run) or failed.</param>
public sealed record CommandRecord(DateTimeOffset Time, long Tick, string App, string Kind, string Target, string Detail, string Outcome, string? Error = null);

/// <summary>
/// Where the loop records the commands it issued and their outcomes. The in-memory log keeps the recent ones for the
/// API; a durable journal (SQLite) can implement the same interface.
/// </summary>
public interface ICommandJournal
{
    void Append(IReadOnlyList<CommandRecord> records);

    /// <summary>The most recent records, newest first.</summary>
    IReadOnlyList<CommandRecord> Recent(int max);
}

public sealed class InMemoryCommandJournal(int capacity = 500) : ICommandJournal
{
    private readonly Lock _lock = new();
    private readonly Queue<CommandRecord> _records = new();

    public void Append(IReadOnlyList<CommandRecord> records)
    {
        lock (_lock)
        {
            foreach (CommandRecord r in records)
            {
                _records.Enqueue(r);
                if (_records.Count > capacity)
                {
                    _records.Dequeue();
                }
            }
        }
    }

    public IReadOnlyList<CommandRecord> Recent(int max)
    {
        lock (_lock)
        {
            return _records.Reverse().Take(max).ToList();
        }
    }
}

/// <summary>
/// The durable log: the SQLite reconcile journal. Reconcile commands, HPA floors included (<c>set-floor</c>), are already
/// written there, intent first, by the <see cref="Foresight.Control.Reconcile.JournaledReconciler"/>; the loop adds any
/// other command as an event. Reads come back newest first. Every access holds one lock: the loop writes while the API reads.
/// </summary>
public sealed class SqliteCommandJournal(ReconcileJournal journal) : ICommandJournal
{
    /// <summary>Kinds the journaled reconciler records itself.</summary>
    private static readonly HashSet<string> Reconciled = new(StringComparer.Ordinal) { "spin-up", "drain", "stop", "set-route", "route", "set-floor" };

    private readonly Lock _lock = new();

    public ReconcileJournal Journal => journal;

    public void Append(IReadOnlyList<CommandRecord> records)
    {
        lock (_lock)
        {
            foreach (CommandRecord r in records.Where(r => !Reconciled.Contains(r.Kind)))
            {
                journal.RecordEvent(r.Tick, r.App, r.Kind, r.Target, r.Error is null ? $"{r.Outcome}: {r.Detail}" : $"{r.Outcome}: {r.Detail} ({r.Error})");
            }
        }
    }

    public IReadOnlyList<CommandRecord> Recent(int max)
    {
        lock (_lock)
        {
            return journal.Recent(max)
                .Select(e => new CommandRecord(e.CompletedAt ?? e.Time, e.Pass, e.App, e.Kind, e.Target, e.Detail, e.Status.ToString().ToLowerInvariant(), e.Error))
                .ToList();
        }
    }
}
