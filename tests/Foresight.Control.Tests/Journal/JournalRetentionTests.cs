using Foresight.Control.Journal;
using Microsoft.Data.Sqlite;

namespace Foresight.Control.Tests.Journal;

public sealed class JournalRetentionTests : JournalFileTest
{
    [Fact]
    public void Compaction_deletes_old_resolved_rows_but_keeps_open_intents_and_each_apps_latest_change()
    {
        var retention = new JournalRetention { MaxAge = TimeSpan.FromHours(1), MaxRows = 100_000, CompactEveryRows = int.MaxValue };
        using ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time, retention);
        long open = journal.RecordIntent(1, "api", JournalKinds.SpinUp, "r1", "r1", "spin up at b", "b");
        long apiChange = journal.RecordIntent(1, "api", JournalKinds.Drain, "i1", null, "surplus", null);
        journal.MarkDone(apiChange);
        long etlOld = journal.RecordIntent(1, "etl", JournalKinds.SpinUp, "r2", "r2", "spin up at a", "a");
        journal.MarkDone(etlOld);
        long etlChange = journal.RecordIntent(2, "etl", JournalKinds.SpinUp, "r3", "r3", "spin up at c", "c");
        journal.MarkDone(etlChange);
        long evt = journal.RecordEvent(2, "etl", "cooldown", "etl", "held");
        long route = journal.RecordIntent(2, "etl", JournalKinds.Route, "c", null, "weights", null);
        journal.MarkFailed(route, "refused");
        DateTimeOffset? apiBefore = journal.LastChange("api");
        DateTimeOffset? etlBefore = journal.LastChange("etl");

        Time.Advance(TimeSpan.FromHours(2));
        long fresh = journal.RecordEvent(3, "api", "retry", "api", "recent");
        int deleted = journal.Compact();

        Assert.Equal(3, deleted); // etl's older spin-up, the event and the failed route
        Assert.Equal([open, apiChange, etlChange, fresh], journal.Recent(100).Select(e => e.Seq).Order());
        Assert.Equal([open], journal.Unresolved().Select(e => e.Seq));
        Assert.Equal(apiBefore, journal.LastChange("api"));
        Assert.Equal(etlBefore, journal.LastChange("etl"));
        Assert.DoesNotContain(journal.Recent(100), e => e.Seq == evt);
    }

    [Fact]
    public void Max_rows_bounds_the_file_in_batches_and_never_drops_an_open_intent()
    {
        var retention = new JournalRetention { MaxAge = TimeSpan.FromDays(3650), MaxRows = 1_000, CompactEveryRows = 500 };
        using ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time, retention);
        long open = journal.RecordIntent(1, "api", JournalKinds.SpinUp, "r1", "r1", "never finished", "b");
        for (int i = 0; i < 3_000; i++)
        {
            journal.RecordEvent(i, "api", "retry", "api", "x");
        }

        // Automatic compaction every 500 writes: never more than MaxRows + CompactEveryRows + the kept rows.
        Assert.InRange(journal.Count, 1_000, 1_000 + 500 + 1);
        journal.Compact();
        Assert.Equal(1_000 + 1, journal.Count);
        Assert.Equal([open], journal.Unresolved().Select(e => e.Seq));
    }

    [Fact]
    public void A_compacted_journal_survives_a_restart_with_its_intents_cooldowns_and_counters()
    {
        var retention = new JournalRetention { MaxAge = TimeSpan.FromMinutes(30), MaxRows = 100, CompactEveryRows = 50 };
        long open;
        DateTimeOffset? change;
        long request;
        using (ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time, retention))
        {
            long spin = journal.RecordIntent(1, "etl", JournalKinds.SpinUp, "r1", "r1", "spin up at b", "b");
            journal.MarkDone(spin);
            change = journal.LastChange("etl");
            open = journal.RecordIntent(2, "api", JournalKinds.Drain, "i1", null, "surplus", null);
            for (int i = 0; i < 500; i++)
            {
                journal.RecordEvent(i, "api", "retry", "api", "x");
            }

            request = journal.NextRequestNumber();
        }

        Time.Advance(TimeSpan.FromHours(1));
        using ReconcileJournal reopened = ReconcileJournal.Open(JournalPath, Time, retention);

        // Opening compacts: the events are past max age; the intent and the latest change remain.
        Assert.Equal(2, reopened.Count);
        Assert.Equal([open], reopened.Unresolved().Select(e => e.Seq));
        Assert.Equal(change, reopened.LastChange("etl"));
        Assert.Equal(request + 1, reopened.NextRequestNumber());
    }

    [Fact]
    public void A_version_1_journal_is_migrated_in_place_with_its_rows()
    {
        using (var c = new SqliteConnection($"Data Source={JournalPath};Pooling=False"))
        {
            c.Open();
            using SqliteCommand create = c.CreateCommand();
            create.CommandText = """
                CREATE TABLE entries (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, pass INTEGER NOT NULL, time TEXT NOT NULL, app TEXT NOT NULL,
                    kind TEXT NOT NULL, target TEXT NOT NULL, request_id TEXT, detail TEXT NOT NULL, payload TEXT,
                    status TEXT NOT NULL, error TEXT, completed TEXT);
                CREATE INDEX entries_status ON entries(status);
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                INSERT INTO entries (pass, time, app, kind, target, detail, status)
                VALUES (1, '2026-01-01T00:00:00.0000000Z', 'api', 'spin-up', 'r1', 'spin up at b', 'Intent');
                INSERT INTO meta (key, value) VALUES ('request_counter', '41');
                PRAGMA user_version = 1;
                """;
            create.ExecuteNonQuery();
        }

        using (ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time))
        {
            Assert.Equal("r1", Assert.Single(journal.Unresolved()).Target);
            Assert.Equal(42, journal.NextRequestNumber());
        }

        using var check = new SqliteConnection($"Data Source={JournalPath};Pooling=False");
        check.Open();
        using SqliteCommand q = check.CreateCommand();
        q.CommandText = "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries' ORDER BY name);";
        Assert.Equal("entries_change,entries_open", q.ExecuteScalar());
        q.CommandText = "PRAGMA user_version;";
        Assert.Equal((long)ReconcileJournal.SchemaVersion, q.ExecuteScalar());
        q.CommandText = "EXPLAIN QUERY PLAN SELECT * FROM entries WHERE status = 'Intent' ORDER BY seq;";
        using SqliteDataReader plan = q.ExecuteReader();
        Assert.True(plan.Read());
        Assert.Contains("entries_open", plan.GetString(3), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0s")]
    [InlineData("1x")]
    [InlineData("-3h")]
    [InlineData("")]
    public void Bad_durations_do_not_parse(string text) =>
        Assert.False(JournalRetention.TryParseAge(text, out _) && JournalRetention.CheckMaxAge(ParseOrZero(text)) is null);

    [Theory]
    [InlineData("24h", 86_400)]
    [InlineData("90m", 5_400)]
    [InlineData("7d", 604_800)]
    [InlineData("3600", 3_600)]
    public void Durations_parse(string text, double seconds)
    {
        Assert.True(JournalRetention.TryParseAge(text, out TimeSpan age));
        Assert.Equal(seconds, age.TotalSeconds);
    }

    private static TimeSpan ParseOrZero(string text) => JournalRetention.TryParseAge(text, out TimeSpan t) ? t : TimeSpan.Zero;
}
