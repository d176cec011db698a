using Foresight.Control.Journal;
using Foresight.Control.Placement;
using Foresight.Core;
using Microsoft.Data.Sqlite;

namespace Foresight.Control.Tests.Journal;

public sealed class ReconcileJournalTests : JournalFileTest
{
    [Fact]
    public void Opens_in_wal_mode_with_a_versioned_schema()
    {
        using (ReconcileJournal.Open(JournalPath, Time))
        {
        }

        using var c = new SqliteConnection($"Data Source={JournalPath};Pooling=False");
        c.Open();
        using SqliteCommand mode = c.CreateCommand();
        mode.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", mode.ExecuteScalar());
        using SqliteCommand version = c.CreateCommand();
        version.CommandText = "PRAGMA user_version;";
        Assert.Equal((long)ReconcileJournal.SchemaVersion, version.ExecuteScalar());
    }

    [Fact]
    public void An_intent_stays_unresolved_until_it_gets_an_outcome()
    {
        using ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time);
        long a = journal.RecordIntent(1, "api", JournalKinds.SpinUp, "r1", "r1", "spin up at b", "b");
        long b = journal.RecordIntent(1, "api", JournalKinds.Drain, "i1", null, "surplus", null);
        Assert.Equal([a, b], journal.Unresolved().Select(e => e.Seq));

        Time.Advance(TimeSpan.FromSeconds(2));
        journal.MarkDone(a, "instance i2");
        journal.MarkFailed(b, "server down");

        Assert.Empty(journal.Unresolved());
        JournalEntry[] recent = journal.Recent(10).ToArray();
        Assert.Equal([b, a], recent.Select(e => e.Seq));
        Assert.Equal(JournalStatus.Failed, recent[0].Status);
        Assert.Equal("server down", recent[0].Error);
        Assert.Equal(JournalStatus.Done, recent[1].Status);
        Assert.Contains("instance i2", recent[1].Detail, StringComparison.Ordinal);
        Assert.Equal(Time.GetUtcNow(), recent[1].CompletedAt);
        Assert.Equal(Time.GetUtcNow().AddSeconds(-2), recent[1].Time);
        Assert.Single(journal.Recent(1));
    }

    [Fact]
    public void Request_numbers_pass_and_desired_placement_survive_a_reopen()
    {
        var desired = new DesiredPlacement(2, 3);
        desired[0, 1] = 2;
        desired[1, 2] = 1;
        using (ReconcileJournal first = ReconcileJournal.Open(JournalPath, Time))
        {
            Assert.Equal(1, first.NextRequestNumber());
            Assert.Equal(2, first.NextRequestNumber());
            first.BeginPass();
            first.SaveDesired(desired);
            first.RecordIntent(1, "api", JournalKinds.Stop, "i1", null, "Drained", null);
        }

        using ReconcileJournal second = ReconcileJournal.Open(JournalPath, Time);
        Assert.Equal(3, second.NextRequestNumber());
        Assert.Equal(1, second.LastPass);
        DesiredPlacement? loaded = second.LoadDesired(2, 3);
        Assert.NotNull(loaded);
        Assert.Equal([0, 2, 0], loaded.ForApp(0).ToArray());
        Assert.Equal([0, 0, 1], loaded.ForApp(1).ToArray());
        Assert.Null(second.LoadDesired(2, 4));
        Assert.Single(second.Unresolved());
    }

    [Fact]
    public void Last_change_counts_issued_spin_ups_and_drains_only()
    {
        using ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time);
        Assert.Null(journal.LastChange("api"));
        journal.MarkDone(journal.RecordIntent(1, "api", JournalKinds.SpinUp, "r1", "r1", "", "a"));
        DateTimeOffset spun = Time.GetUtcNow();
        Time.Advance(TimeSpan.FromSeconds(30));
        journal.RecordPlanned(2, "api", JournalKinds.Drain, "i1", null, "surplus", null);
        journal.MarkFailed(journal.RecordIntent(2, "api", JournalKinds.Drain, "i1", null, "surplus", null), "boom");
        journal.MarkDone(journal.RecordIntent(2, "api", JournalKinds.Route, "a", null, "", "[]"));

        Assert.Equal(spun, journal.LastChange("api"));
        Assert.Null(journal.LastChange("other"));
    }

    [Fact]
    public void Pruning_keeps_the_newest_rows_and_every_unresolved_intent()
    {
        using ReconcileJournal journal = ReconcileJournal.Open(JournalPath, Time);
        long open = journal.RecordIntent(1, "api", JournalKinds.Drain, "i0", null, "surplus", null);
        for (int i = 1; i <= 10; i++)
        {
            journal.MarkDone(journal.RecordIntent(1, "api", JournalKinds.Route, $"s{i}", null, "", "[]"));
        }

        Assert.Equal(7, journal.Prune(3));

        Assert.Equal(["s10", "s9", "s8", "i0"], journal.Recent(100).Select(e => e.Target));
        Assert.Equal(open, Assert.Single(journal.Unresolved()).Seq);
    }

    [Fact]
    public void A_journal_from_a_newer_schema_is_refused_with_the_file_named()
    {
        using (var c = new SqliteConnection($"Data Source={JournalPath};Pooling=False"))
        {
            c.Open();
            using SqliteCommand cmd = c.CreateCommand();
            cmd.CommandText = "PRAGMA user_version = 99;";
            cmd.ExecuteNonQuery();
        }

        var e = Assert.Throws<InvalidInputException>(() => ReconcileJournal.Open(JournalPath, Time));
        Assert.Contains(JournalPath, e.Message, StringComparison.Ordinal);
        Assert.Contains("99", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_that_is_not_a_database_is_refused_with_the_file_named()
    {
        File.WriteAllText(JournalPath, "this is not an sqlite database, just some text that is long enough to have a header");

        var e = Assert.Throws<InvalidInputException>(() => ReconcileJournal.Open(JournalPath, Time));
        Assert.Contains(JournalPath, e.Message, StringComparison.Ordinal);
    }
}
