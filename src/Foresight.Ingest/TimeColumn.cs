using System.Globalization;

namespace Foresight.Ingest;

/// <summary>
/// Reads a trace's time column. The first row decides its form for the whole file:
/// <list type="bullet">
/// <item>a plain number: an offset in the column's unit, chosen by the column name (a name containing "hour" means
/// hours, "minute" minutes, "day" days, "millisecond" or ending in "_ms" milliseconds, anything else seconds,
/// e.g. <c>second</c>, <c>time</c>, <c>t</c>);</item>
/// <item>otherwise an ISO-8601 timestamp such as <c>2014-04-01T08:00:00-04:00</c> or <c>2013-10-31T23:00:00Z</c>.
/// The offset is honoured, so times are real instants (a DST change shows as a change of offset, not a jump);
/// a timestamp without an offset is taken as UTC.</item>
/// </list>
/// Times are returned as seconds since the first row.
/// </summary>
internal sealed class TimeColumn
{
    private static readonly string[] _isoFormats =
    [
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd HH:mm:ss.FFFFFFFK",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd HH:mmK",
        "yyyy-MM-dd'T'HHK",
        "yyyy-MM-ddK",
    ];

    private readonly CsvRecordReader _csv;
    private readonly int _column;
    private readonly string _unitName;
    private readonly double _unitSeconds;
    private Form _form;
    private double _firstNumber;
    private long _firstUtcTicks;

    public TimeColumn(CsvRecordReader csv, int column, string name)
    {
        _csv = csv;
        _column = column;
        (_unitName, _unitSeconds) = UnitOf(name);
    }

    private enum Form
    {
        Undecided,
        Number,
        Timestamp,
    }

    /// <summary>The first row's instant when the column holds timestamps, else null.</summary>
    public DateTimeOffset? StartTime { get; private set; }

    /// <summary>
    /// The first row's absolute time in seconds: since the Unix epoch for timestamps, the number in seconds for
    /// numeric time. A regular grid is round with respect to it (<see cref="TimeGrid"/>).
    /// </summary>
    public double OriginSeconds => _form switch
    {
        Form.Number => _firstNumber * _unitSeconds,
        Form.Timestamp => (_firstUtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / (double)TimeSpan.TicksPerSecond,
        _ => 0,
    };

    /// <summary>Parses the current record's time cell into seconds since the first row.</summary>
    public double Parse()
    {
        ReadOnlySpan<char> text = _csv[_column].Trim();
        if (text.IsEmpty)
        {
            throw _csv.Error("empty time cell: every row needs a time", _column);
        }

        switch (_form)
        {
            case Form.Number:
                if (!CellParser.TryParseNumber(text, out double number))
                {
                    throw Unparseable(text, $"a number of {_unitName} like the first row");
                }

                return (number - _firstNumber) * _unitSeconds;

            case Form.Timestamp:
                if (!TryParseTimestamp(text, out DateTimeOffset instant))
                {
                    throw Unparseable(text, "an ISO-8601 timestamp like the first row (e.g. 2014-04-01T08:00:00-04:00)");
                }

                return (instant.UtcTicks - _firstUtcTicks) / (double)TimeSpan.TicksPerSecond;

            default:
                if (CellParser.TryParseNumber(text, out _firstNumber))
                {
                    _form = Form.Number;
                    return 0;
                }

                if (TryParseTimestamp(text, out DateTimeOffset first))
                {
                    _form = Form.Timestamp;
                    _firstUtcTicks = first.UtcTicks;
                    StartTime = first;
                    return 0;
                }

                throw Unparseable(
                    text,
                    $"an ISO-8601 timestamp (e.g. 2014-04-01T08:00:00-04:00) or a number of {_unitName}");
        }
    }

    internal static (string Name, double Seconds) UnitOf(string columnName)
    {
        string n = columnName.ToLowerInvariant();
        if (n.Contains("millisecond", StringComparison.Ordinal) || n == "ms" || n.EndsWith("_ms", StringComparison.Ordinal))
        {
            return ("milliseconds", 0.001);
        }

        if (n.Contains("hour", StringComparison.Ordinal))
        {
            return ("hours", 3600);
        }

        if (n.Contains("minute", StringComparison.Ordinal))
        {
            return ("minutes", 60);
        }

        if (n.Contains("day", StringComparison.Ordinal))
        {
            return ("days", 86400);
        }

        return ("seconds", 1);
    }

    internal static bool TryParseTimestamp(ReadOnlySpan<char> text, out DateTimeOffset value) =>
        TryParseIsoFast(text, out value) ||
        DateTimeOffset.TryParseExact(
            text,
            _isoFormats,
            CultureInfo.InvariantCulture,
            DateTimeStyles.AllowWhiteSpaces | DateTimeStyles.AssumeUniversal,
            out value);

    // yyyy-MM-ddTHH:mm:ss[.fraction](Z|±HH:mm|±HHmm), the form of every real trace; other ISO forms go to TryParseExact.
    private static bool TryParseIsoFast(ReadOnlySpan<char> s, out DateTimeOffset value)
    {
        value = default;
        if (s.Length < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') || s[13] != ':' || s[16] != ':')
        {
            return false;
        }

        if (!Digits(s, 0, 4, out int year) || !Digits(s, 5, 2, out int month) || !Digits(s, 8, 2, out int day) ||
            !Digits(s, 11, 2, out int hour) || !Digits(s, 14, 2, out int minute) || !Digits(s, 17, 2, out int second))
        {
            return false;
        }

        int i = 19;
        long fractionTicks = 0;
        if (s[i] == '.')
        {
            i++;
            int digits = 0;
            while (i < s.Length && (uint)(s[i] - '0') <= 9)
            {
                if (digits < 7)
                {
                    fractionTicks = (fractionTicks * 10) + (s[i] - '0');
                    digits++;
                }

                i++;
            }

            if (digits == 0)
            {
                return false;
            }

            for (; digits < 7; digits++)
            {
                fractionTicks *= 10;
            }
        }

        TimeSpan offset;
        ReadOnlySpan<char> zone = s[i..];
        if (zone is "Z" or "z")
        {
            offset = TimeSpan.Zero;
        }
        else if (zone.Length is 6 or 5 && zone[0] is '+' or '-')
        {
            int minutePos = zone.Length == 6 ? 4 : 3;
            if ((zone.Length == 6 && zone[3] != ':') ||
                !Digits(zone, 1, 2, out int offsetHours) || !Digits(zone, minutePos, 2, out int offsetMinutes) ||
                offsetMinutes > 59 || (offsetHours * 60) + offsetMinutes > 14 * 60)
            {
                return false;
            }

            offset = new TimeSpan(offsetHours, offsetMinutes, 0);
            if (zone[0] == '-')
            {
                offset = -offset;
            }
        }
        else
        {
            return false;
        }

        // Years at the very edge of DateTime's range could overflow with an offset; leave them to the slow path.
        if (year is < 2 or > 9998 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) ||
            hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        value = new DateTimeOffset(new DateTime(year, month, day, hour, minute, second).AddTicks(fractionTicks), offset);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        for (int i = start; i < start + count; i++)
        {
            uint d = (uint)(s[i] - '0');
            if (d > 9)
            {
                return false;
            }

            value = (value * 10) + (int)d;
        }

        return true;
    }

    private TraceFormatException Unparseable(ReadOnlySpan<char> text, string expected) =>
        _csv.Error($"unparseable time '{CellParser.Shorten(text)}': expected {expected}", _column);
}
