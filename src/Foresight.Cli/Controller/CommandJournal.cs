namespace Foresight.Cli.Controller;

/// <param name="Kind">spin-up, drain, stop, set-route, set-floor, restore-floor.</param>
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
