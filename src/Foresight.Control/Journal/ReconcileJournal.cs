using System.Globalization;
using System.Text.Json;
using Foresight.Control.Placement;
using Foresight.Core;
using Microsoft.Data.Sqlite;

namespace Foresight.Control.Journal;

/// <summary>
/// The reconciler's write-ahead journal in SQLite (WAL mode). Every command is recorded as an intent before it is
/// issued and marked done or failed after; the request-id counter and the last desired placement are kept beside it,
/// so a controller killed at any point can resume from the file. Not thread-safe: one controller owns one journal.
/// </summary>
public sealed class ReconcileJournal : IDisposable
{
    /// <summary>Bumped on any schema change; an older file is migrated, a newer one is refused.</summary>
    public const int SchemaVersion = 2;

    // The rows a restart and a cooldown read; SQLite uses a partial index only when a query repeats its WHERE exactly.
    private const string OpenIntent = "status = 'Intent'";
    private const string PlacementChange = "kind IN ('spin-up', 'drain') AND status IN ('Done', 'Intent')";

    private readonly SqliteConnection _connection;
    private readonly TimeProvider _time;
    private int _writesSinceCompaction;

    private ReconcileJournal(SqliteConnection connection, TimeProvider time, string path, JournalRetention retention)
    {
        _connection = connection;
        _time = time;
        Path = path;
        Retention = retention;
    }

    public string Path { get; }

    public JournalRetention Retention { get; }

    /// <summary>Opens (creating if needed) the journal at <paramref name="path"/>.</summary>
    /// <exception cref="InvalidInputException">The file is not a journal, or was written by a newer schema.</exception>
    public static ReconcileJournal Open(string path, TimeProvider time, JournalRetention? retention = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(time);
        retention ??= JournalRetention.Default;
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        try
        {
            connection.Open();
            var journal = new ReconcileJournal(connection, time, path, retention);
            journal.Initialize();
            journal.Compact();
            return journal;
        }
        catch (SqliteException e)
        {
            connection.Dispose();
            throw new InvalidInputException(path, $"cannot be used as a reconcile journal: {e.Message}", inner: e);
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    private void Initialize()
    {
        Execute("PRAGMA journal_mode=WAL;");

        // FULL: an intent must be on disk before the command it guards is issued.
        Execute("PRAGMA synchronous=FULL;");
        long version = Scalar("PRAGMA user_version;");
        if (version > SchemaVersion)
        {
            throw new InvalidInputException(Path, $"journal schema version {version} is newer than this build's {SchemaVersion}", field: "user_version");
        }

        if (version == 0)
        {
            Execute("""
                CREATE TABLE IF NOT EXISTS entries (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    pass INTEGER NOT NULL,
                    time TEXT NOT NULL,
                    app TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    target TEXT NOT NULL,
                    request_id TEXT,
                    detail TEXT NOT NULL,
                    payload TEXT,
                    status TEXT NOT NULL,
                    error TEXT,
                    completed TEXT);
                CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """);
        }

        if (version < 2)
        {
            // Version 2 (retention): the full index on status, written on every row, gives way to partial indexes on
            // the few rows restart recovery and cooldowns read, so both stay fast however large the file grows.
            using SqliteTransaction tx = _connection.BeginTransaction();
            Execute($"""
                DROP INDEX IF EXISTS entries_status;
                CREATE INDEX IF NOT EXISTS entries_open ON entries(seq) WHERE {OpenIntent};
                CREATE INDEX IF NOT EXISTS entries_change ON entries(app, time) WHERE {PlacementChange};
                PRAGMA user_version = 2;
                """);
            tx.Commit();
        }
    }

    /// <summary>The number of rows (for soak figures and tests).</summary>
    public long Count => Scalar("SELECT COUNT(*) FROM entries;");

    /// <summary>
    /// Applies <see cref="Retention"/>: deletes resolved rows older than its max age or beyond its newest max rows, in
    /// batches of at most <see cref="JournalRetention.BatchRows"/> per statement. Never deletes an unresolved intent or
    /// an app's latest spin-up or drain. Runs on open and every <see cref="JournalRetention.CompactEveryRows"/> writes.
    /// Returns the number of rows deleted.
    /// </summary>
    public int Compact()
    {
        _writesSinceCompaction = 0;
        long newest = Scalar("SELECT COALESCE(MAX(seq), 0) FROM entries;");
        long keepFrom = newest - Retention.MaxRows + 1; // seqs are unique, so at most MaxRows rows lie at or above it
        string cutoff = FormatTime(_time.GetUtcNow() - Retention.MaxAge);
        int total = 0;
        while (true)
        {
            using SqliteCommand cmd = Command(
                $"""
                DELETE FROM entries WHERE seq IN (
                    SELECT seq FROM entries
                    WHERE NOT ({OpenIntent})
                        AND (time < $cutoff OR seq < $keepFrom)
                        AND seq NOT IN (SELECT MAX(seq) FROM entries WHERE {PlacementChange} GROUP BY app)
                    ORDER BY seq LIMIT $batch);
                """,
                ("$cutoff", cutoff), ("$keepFrom", keepFrom), ("$batch", JournalRetention.BatchRows));
            int deleted = cmd.ExecuteNonQuery();
            total += deleted;
            if (deleted < JournalRetention.BatchRows)
            {
                return total;
            }
        }
    }

    /// <summary>Records a command about to be issued and returns its sequence number.</summary>
    public long RecordIntent(long pass, string app, string kind, string target, string? requestId, string detail, string? payload) =>
        Insert(pass, app, kind, target, requestId, detail, payload, JournalStatus.Intent, null);

    /// <summary>Records a command computed in dry-run mode; it is never issued.</summary>
    public long RecordPlanned(long pass, string app, string kind, string target, string? requestId, string detail, string? payload) =>
        Insert(pass, app, kind, target, requestId, detail, payload, JournalStatus.Planned, null);

    /// <summary>Records a fault or a safety decision that is not a command.</summary>
    public long RecordEvent(long pass, string app, string kind, string target, string detail) =>
        Insert(pass, app, kind, target, null, detail, null, JournalStatus.Event, null);

    public void MarkDone(long seq, string? detail = null) => Complete(seq, JournalStatus.Done, null, detail);

    public void MarkFailed(long seq, string error) => Complete(seq, JournalStatus.Failed, error, null);

    public void MarkRolledBack(long seq, string why) => Complete(seq, JournalStatus.RolledBack, null, why);

    /// <summary>Intents that have no outcome yet, oldest first.</summary>
    public IReadOnlyList<JournalEntry> Unresolved() =>
        Query($"SELECT * FROM entries WHERE {OpenIntent} ORDER BY seq;");

    /// <summary>The latest <paramref name="count"/> entries, newest first (for status APIs).</summary>
    public IReadOnlyList<JournalEntry> Recent(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Query("SELECT * FROM entries ORDER BY seq DESC LIMIT $n;", ("$n", count));
    }

    /// <summary>All entries about one app, oldest first.</summary>
    public IReadOnlyList<JournalEntry> ForApp(string app) =>
        Query("SELECT * FROM entries WHERE app = $app ORDER BY seq;", ("$app", app));

    /// <summary>When the app's placement last changed through an issued spin-up or drain (for cooldowns).</summary>
    public DateTimeOffset? LastChange(string app)
    {
        using SqliteCommand cmd = Command(
            $"SELECT MAX(time) FROM entries WHERE app = $app AND {PlacementChange};",
            ("$app", app));
        return cmd.ExecuteScalar() is string s ? ParseTime(s) : null;
    }

    /// <summary>
    /// Deletes resolved rows beyond the newest <paramref name="keep"/>, so a long-running controller's file stays
    /// bounded. Unresolved intents are never deleted: a restart needs them. Returns the number of rows deleted.
    /// </summary>
    public int Prune(int keep)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(keep);
        using SqliteCommand cmd = Command(
            """
            DELETE FROM entries WHERE status <> 'Intent'
                AND seq NOT IN (SELECT seq FROM entries ORDER BY seq DESC LIMIT $keep);
            """,
            ("$keep", keep));
        return cmd.ExecuteNonQuery();
    }

    /// <summary>Takes the next request number. It is persisted before it is returned, so ids are never reused after a restart.</summary>
    public long NextRequestNumber()
    {
        using SqliteTransaction tx = _connection.BeginTransaction();
        long next = GetMeta("request_counter") is string v ? long.Parse(v, CultureInfo.InvariantCulture) + 1 : 1;
        SetMeta("request_counter", next.ToString(CultureInfo.InvariantCulture));
        tx.Commit();
        return next;
    }

    /// <summary>The number of the last reconcile pass (0 if none).</summary>
    public long LastPass => GetMeta("pass") is string v ? long.Parse(v, CultureInfo.InvariantCulture) : 0;

    public long BeginPass()
    {
        long pass = LastPass + 1;
        SetMeta("pass", pass.ToString(CultureInfo.InvariantCulture));
        return pass;
    }

    /// <summary>Keeps the target the controller is driving towards, so a restart resumes the in-flight migrations.</summary>
    public void SaveDesired(DesiredPlacement desired)
    {
        var rows = new int[desired.AppCount][];
        for (int a = 0; a < desired.AppCount; a++)
        {
            rows[a] = desired.ForApp(a).ToArray();
        }

        SetMeta("desired", JsonSerializer.Serialize(rows));
    }

    /// <summary>The last saved desired placement, or null if none was saved or its shape no longer matches.</summary>
    public DesiredPlacement? LoadDesired(int apps, int sites)
    {
        if (GetMeta("desired") is not string json)
        {
            return null;
        }

        int[][]? rows = JsonSerializer.Deserialize<int[][]>(json);
        if (rows is null || rows.Length != apps || rows.Any(r => r.Length != sites || r.Any(v => v < 0)))
        {
            return null;
        }

        var desired = new DesiredPlacement(apps, sites);
        for (int a = 0; a < apps; a++)
        {
            desired.SetApp(a, rows[a]);
        }

        return desired;
    }

    public void Dispose() => _connection.Dispose();

    private long Insert(long pass, string app, string kind, string target, string? requestId, string detail, string? payload, JournalStatus status, string? error)
    {
        using SqliteCommand cmd = Command(
            """
            INSERT INTO entries (pass, time, app, kind, target, request_id, detail, payload, status, error)
            VALUES ($pass, $time, $app, $kind, $target, $rid, $detail, $payload, $status, $error);
            SELECT last_insert_rowid();
            """,
            ("$pass", pass), ("$time", FormatTime(_time.GetUtcNow())), ("$app", app), ("$kind", kind), ("$target", target),
            ("$rid", requestId), ("$detail", detail), ("$payload", payload), ("$status", status.ToString()), ("$error", error));
        long seq = (long)cmd.ExecuteScalar()!;
        if (++_writesSinceCompaction >= Retention.CompactEveryRows)
        {
            Compact();
        }

        return seq;
    }

    private void Complete(long seq, JournalStatus status, string? error, string? detail)
    {
        using SqliteCommand cmd = Command(
            """
            UPDATE entries SET status = $status, error = $error, completed = $time,
                detail = CASE WHEN $detail IS NULL THEN detail ELSE detail || ' | ' || $detail END
            WHERE seq = $seq;
            """,
            ("$status", status.ToString()), ("$error", error), ("$time", FormatTime(_time.GetUtcNow())), ("$detail", detail), ("$seq", seq));
        if (cmd.ExecuteNonQuery() != 1)
        {
            throw new InvalidOperationException($"Journal entry {seq} does not exist.");
        }
    }

    private List<JournalEntry> Query(string sql, params (string Name, object? Value)[] parameters)
    {
        using SqliteCommand cmd = Command(sql, parameters);
        using SqliteDataReader r = cmd.ExecuteReader();
        var entries = new List<JournalEntry>();
        while (r.Read())
        {
            entries.Add(new JournalEntry(
                r.GetInt64(r.GetOrdinal("seq")),
                r.GetInt64(r.GetOrdinal("pass")),
                ParseTime(r.GetString(r.GetOrdinal("time"))),
                r.GetString(r.GetOrdinal("app")),
                r.GetString(r.GetOrdinal("kind")),
                r.GetString(r.GetOrdinal("target")),
                NullableString(r, "request_id"),
                r.GetString(r.GetOrdinal("detail")),
                NullableString(r, "payload"),
                Enum.Parse<JournalStatus>(r.GetString(r.GetOrdinal("status"))),
                NullableString(r, "error"),
                NullableString(r, "completed") is string c ? ParseTime(c) : null));
        }

        return entries;
    }

    private static string? NullableString(SqliteDataReader r, string column)
    {
        int i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : r.GetString(i);
    }

    private string? GetMeta(string key)
    {
        using SqliteCommand cmd = Command("SELECT value FROM meta WHERE key = $key;", ("$key", key));
        return cmd.ExecuteScalar() as string;
    }

    private void SetMeta(string key, string value)
    {
        using SqliteCommand cmd = Command(
            "INSERT INTO meta (key, value) VALUES ($key, $value) ON CONFLICT(key) DO UPDATE SET value = excluded.value;",
            ("$key", key), ("$value", value));
        cmd.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        SqliteCommand cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        foreach ((string name, object? value) in parameters)
        {
            cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return cmd;
    }

    private void Execute(string sql)
    {
        using SqliteCommand cmd = Command(sql);
        cmd.ExecuteNonQuery();
    }

    private long Scalar(string sql)
    {
        using SqliteCommand cmd = Command(sql);
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    // Round-trip format: sortable as text, so MAX(time) is the latest.
    private static string FormatTime(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string s) =>
        DateTimeOffset.Parse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
