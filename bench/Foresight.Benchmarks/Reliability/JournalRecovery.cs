using System.Diagnostics;
using System.Globalization;
using Foresight.Control.Journal;
using Microsoft.Data.Sqlite;

namespace Foresight.Benchmarks.Reliability;

/// <summary>
/// <c>journal-recovery --rows N</c>: a journal filled with N rows (resolved commands and events over several apps, a few
/// open intents among them), then what a restarting controller does with it: open, list the open intents, read each
/// app's last change (cooldowns). Measured without retention (the file as it is) and with the default retention (the
/// open compacts it in batches), then once more after the compaction.
/// </summary>
public static class JournalRecovery
{
    public sealed record Measure(string Case, long RowsBefore, long RowsAfter, long FileBytes, double OpenMs, double OpenIntentsMs, int OpenIntents, double CooldownLookupMs);

    public sealed record Result(long Rows, int Apps, int OpenIntents, double FillSeconds, IReadOnlyList<Measure> Cases);

    private static readonly string[] Kinds = ["spin-up", "drain", "stop", "route", "set-floor", "retry", "cooldown"];

    public static Result Run(Options o)
    {
        long rows = (long)o.Number("rows", 1_000_000, 1_000, 100_000_000);
        int apps = (int)o.Number("apps", 20, 1, 10_000);
        int open = (int)o.Number("open-intents", 50, 0, 100_000);
        string path = Path.Combine(Path.GetTempPath(), $"foresight-recovery-{Environment.ProcessId}.db");
        ProcessFigures.DeleteJournal(path);
        var now = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var keepAll = new JournalRetention { MaxAge = TimeSpan.FromDays(3650), MaxRows = 100_000_000, CompactEveryRows = int.MaxValue };
        try
        {
            // The rows span the 48 hours before now, one every few tenths of a second: half are past the default max age.
            var fill = Stopwatch.StartNew();
            using (ReconcileJournal.Open(path, new FixedClock(now), keepAll))
            {
            }

            Fill(path, rows, apps, open, now);
            double fillSeconds = fill.Elapsed.TotalSeconds;
            Console.WriteLine($"filled {rows} rows in {fillSeconds:F1} s ({ProcessFigures.FileBytes(path) / 1048576.0:F1} MB)");

            var cases = new List<Measure>
            {
                Restart("keep everything", path, now, keepAll, apps),
                Restart("default retention (compacts on open)", path, now, JournalRetention.Default, apps),
                Restart("after compaction", path, now, JournalRetention.Default, apps),
            };
            foreach (Measure m in cases)
            {
                Console.WriteLine(
                    $"{m.Case,-38} rows {m.RowsBefore,8} -> {m.RowsAfter,8}  open {m.OpenMs,8:F1} ms  open intents {m.OpenIntentsMs,6:F2} ms ({m.OpenIntents})  " +
                    $"cooldowns {m.CooldownLookupMs,6:F2} ms for {apps} apps");
            }

            return new Result(rows, apps, open, fillSeconds, cases);
        }
        finally
        {
            ProcessFigures.DeleteJournal(path);
        }
    }

    private static Measure Restart(string name, string path, DateTimeOffset now, JournalRetention retention, int apps)
    {
        long before = CountRows(path);
        SqliteConnection.ClearAllPools();
        long t0 = Stopwatch.GetTimestamp();
        using ReconcileJournal journal = ReconcileJournal.Open(path, new FixedClock(now), retention);
        double openMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        int intents = journal.Unresolved().Count;
        double intentsMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        for (int a = 0; a < apps; a++)
        {
            _ = journal.LastChange(App(a));
        }

        double cooldownMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        return new Measure(name, before, journal.Count, ProcessFigures.FileBytes(path), openMs, intentsMs, intents, cooldownMs);
    }

    private static long CountRows(string path)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using SqliteCommand q = c.CreateCommand();
        q.CommandText = "SELECT COUNT(*) FROM entries;";
        return (long)q.ExecuteScalar()!;
    }

    private static string App(int a) => $"app-{a:D3}";

    /// <summary>Bulk rows in one transaction (the journal's own writes sync every row, far too slow for a million).</summary>
    private static void Fill(string path, long rows, int apps, int open, DateTimeOffset now)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using SqliteTransaction tx = c.BeginTransaction();
        using SqliteCommand insert = c.CreateCommand();
        insert.CommandText = """
            INSERT INTO entries (pass, time, app, kind, target, request_id, detail, payload, status, error, completed)
            VALUES ($pass, $time, $app, $kind, $target, $rid, $detail, $payload, $status, NULL, $time);
            """;
        SqliteParameter pass = insert.Parameters.Add("$pass", SqliteType.Integer);
        SqliteParameter time = insert.Parameters.Add("$time", SqliteType.Text);
        SqliteParameter app = insert.Parameters.Add("$app", SqliteType.Text);
        SqliteParameter kind = insert.Parameters.Add("$kind", SqliteType.Text);
        SqliteParameter target = insert.Parameters.Add("$target", SqliteType.Text);
        SqliteParameter rid = insert.Parameters.Add("$rid", SqliteType.Text);
        SqliteParameter detail = insert.Parameters.Add("$detail", SqliteType.Text);
        SqliteParameter payload = insert.Parameters.Add("$payload", SqliteType.Text);
        SqliteParameter status = insert.Parameters.Add("$status", SqliteType.Text);
        long openEvery = open == 0 ? long.MaxValue : Math.Max(1, rows / open);
        double span = TimeSpan.FromHours(48).TotalSeconds;
        for (long i = 0; i < rows; i++)
        {
            string k = Kinds[(int)(i % Kinds.Length)];
            pass.Value = i / 10;
            time.Value = (now - TimeSpan.FromSeconds(span * (rows - i) / rows)).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);
            app.Value = App((int)(i % apps));
            kind.Value = k;
            target.Value = $"i{i % 997}";
            rid.Value = k == "spin-up" ? $"r{i}" : DBNull.Value;
            detail.Value = k switch { "spin-up" => "spin up at site-3 ahead of the forecast shift", "retry" => "retry after a refused command", _ => "applied" };
            payload.Value = k is "spin-up" or "route" ? """{"site":"site-3","weights":[0.25,0.25,0.5]}""" : DBNull.Value;
            status.Value = i % openEvery == openEvery - 1 && k is not ("retry" or "cooldown") ? "Intent" : k is "retry" or "cooldown" ? "Event" : "Done";
            insert.ExecuteNonQuery();
        }

        tx.Commit();
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
