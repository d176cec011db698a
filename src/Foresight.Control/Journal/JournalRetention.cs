namespace Foresight.Control.Journal;

/// <summary>
/// How long the reconcile journal keeps resolved rows (design note 0017). Unresolved intents and each app's latest
/// spin-up or drain (what restart recovery and cooldowns read) are always kept; any other row goes once it is older
/// than <see cref="MaxAge"/> or beyond the newest <see cref="MaxRows"/>.
/// </summary>
public sealed record JournalRetention
{
    /// <summary>A day of history: the status API and a human reading an incident need no more.</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromHours(24);

    /// <summary>About 10 MB of SQLite file; a busy controller writes a few thousand rows a day.</summary>
    public const int DefaultMaxRows = 100_000;

    /// <summary>At most this many rows go per DELETE, so a compaction never holds the write lock for long.</summary>
    public const int BatchRows = 20_000;

    public static JournalRetention Default { get; } = new();

    public TimeSpan MaxAge { get; init; } = DefaultMaxAge;

    public int MaxRows { get; init; } = DefaultMaxRows;

    /// <summary>Rows written between automatic compactions.</summary>
    public int CompactEveryRows { get; init; } = 1_000;

    /// <summary>Null when valid; otherwise the problem, for the caller to report against its own field names.</summary>
    public static string? CheckMaxAge(TimeSpan maxAge) =>
        maxAge < TimeSpan.FromMinutes(1) || maxAge > TimeSpan.FromDays(3650) ? "must be between 1 minute and 3650 days" : null;

    public static string? CheckMaxRows(long maxRows) =>
        maxRows is < 100 or > 100_000_000 ? "must be between 100 and 100000000 rows" : null;

    /// <summary>Parses a duration such as <c>24h</c>, <c>90m</c>, <c>7d</c>, <c>3600s</c> or a bare number of seconds.</summary>
    public static bool TryParseAge(string? text, out TimeSpan age)
    {
        age = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        string t = text.Trim();
        double unit = t[^1] switch
        {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => 0,
        };
        string number = unit == 0 ? t : t[..^1];
        if (!double.TryParse(number, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double value)
            || !double.IsFinite(value) || value <= 0 || value * Math.Max(unit, 1) > TimeSpan.MaxValue.TotalSeconds / 2)
        {
            return false;
        }

        age = TimeSpan.FromSeconds(value * Math.Max(unit, 1));
        return true;
    }
}
