using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Control.Tests.Journal;

/// <summary>A test class that works on its own journal file (and its WAL and shared-memory files), deleted afterwards.</summary>
public abstract class JournalFileTest : IDisposable
{
    protected string JournalPath { get; } = Path.Combine(Path.GetTempPath(), $"foresight-journal-test-{Guid.NewGuid():N}.db");

    protected FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(JournalPath + suffix);
        }

        GC.SuppressFinalize(this);
    }
}
