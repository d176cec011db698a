namespace Foresight.Ingest;

/// <summary>Fills missing readings (NaN) of one column in place, by the rules documented on <see cref="FillRule"/>.</summary>
internal static class MissingValueFill
{
    /// <summary>Fills every NaN in <paramref name="values"/>; returns how many were filled, or -1 if the column has no reading.</summary>
    public static long Apply(ReadOnlySpan<double> time, Span<double> values, FillRule rule)
    {
        if (time.Length != values.Length)
        {
            throw new ArgumentException("One time per value is needed.", nameof(time));
        }

        long filled = 0;
        int previous = -1;
        for (int i = 0; i < values.Length; i++)
        {
            if (double.IsNaN(values[i]))
            {
                continue;
            }

            if (i - previous > 1)
            {
                filled += FillGap(time, values, previous, i, rule);
            }

            previous = i;
        }

        if (previous < 0)
        {
            return values.IsEmpty ? 0 : -1;
        }

        // Trailing gap: both rules carry the last reading.
        for (int i = previous + 1; i < values.Length; i++)
        {
            values[i] = values[previous];
            filled++;
        }

        return filled;
    }

    // Fills the cells strictly between 'before' (-1 = none) and 'after', which are readings.
    private static int FillGap(ReadOnlySpan<double> time, Span<double> values, int before, int after, FillRule rule)
    {
        double b = values[after];
        if (before < 0)
        {
            // Leading gap: nothing earlier, so both rules take the first reading.
            values[..after].Fill(b);
            return after;
        }

        double a = values[before];
        if (rule == FillRule.CarryForward)
        {
            values[(before + 1)..after].Fill(a);
            return after - before - 1;
        }

        double t0 = time[before];
        double span = time[after] - t0;
        double lo = Math.Min(a, b);
        double hi = Math.Max(a, b);
        for (int i = before + 1; i < after; i++)
        {
            // Clamp: rounding must not push a fill outside its neighbours (fills stay >= 0 too).
            double v = a + ((b - a) * ((time[i] - t0) / span));
            values[i] = Math.Clamp(v, lo, hi);
        }

        return after - before - 1;
    }
}
