using System.Globalization;

namespace Foresight.Ingest;

/// <summary>Parses numeric cells: invariant culture, decimal point, optional exponent; no NaN or infinities.</summary>
internal static class CellParser
{
    /// <summary>Parses a finite number; false for anything else (including NaN, Infinity and inf).</summary>
    public static bool TryParseNumber(ReadOnlySpan<char> text, out double value)
    {
        // Fast path for plain non-negative integers, the common case in count traces.
        if (text.Length is > 0 and <= 15)
        {
            long n = 0;
            int i = 0;
            for (; i < text.Length; i++)
            {
                uint d = (uint)(text[i] - '0');
                if (d > 9)
                {
                    break;
                }

                n = (n * 10) + d;
            }

            if (i == text.Length)
            {
                value = n;
                return true;
            }
        }

        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value))
        {
            return true;
        }

        value = 0;
        return false;
    }

    /// <summary>
    /// Parses one reading. Returns NaN for an empty (or blank) cell, which is a missing reading.
    /// Throws for text that is not a finite number, a negative value or one above <paramref name="maxValue"/>.
    /// </summary>
    public static double ParseReading(CsvRecordReader csv, int column, double maxValue)
    {
        ReadOnlySpan<char> text = csv[column];
        if (text.IsWhiteSpace())
        {
            return double.NaN;
        }

        if (!TryParseNumber(text, out double value))
        {
            throw csv.Error(
                $"not a number: '{Shorten(text)}' (a reading must be a finite number >= 0; leave the cell empty for a missing reading)",
                column);
        }

        if (value < 0)
        {
            throw csv.Error($"negative value {Shorten(text)}: a traffic volume cannot be negative", column);
        }

        if (value > maxValue)
        {
            throw csv.Error(
                $"absurd value {Shorten(text)}: above the limit of {maxValue.ToString("G", CultureInfo.InvariantCulture)} (TraceReadOptions.MaxValue)",
                column);
        }

        // -0 becomes 0 so sums and prints stay clean.
        return value + 0.0;
    }

    /// <summary>Cell text for a message, cut short so a huge cell cannot flood it.</summary>
    public static string Shorten(ReadOnlySpan<char> text)
    {
        text = text.Trim();
        return text.Length <= 40 ? text.ToString() : string.Concat(text[..40], "...");
    }
}
