namespace Foresight.Ingest;

/// <summary>
/// Places a trace's time points on a regular grid. Real metric exports skip intervals (a 600 s or 900 s gap in a
/// 300 s series) and stamp samples a few seconds off their nominal time, while forecasting needs one value per step.
/// </summary>
/// <remarks>
/// <para><b>Step</b>: given, or inferred by <see cref="InferStep"/>.</para>
/// <para><b>Phase</b> (where the grid's steps fall): the centre of the smallest arc of the step's circle that holds
/// every row's phase (its time modulo the step). Whatever the data's phase is, rows whose offsets from their steps
/// spread over less than half a step (e.g. jitter within ±a quarter step) land on the right step. Wider jitter is
/// ambiguous: rows a little under half a step early and late look like a grid shifted by half a step. The round grid
/// (multiples of the step since the Unix epoch for timestamps, since 0 for numeric time) is used instead when it
/// puts every row on the same step, moves none by a quarter step or more, and none by more than a tenth of a step
/// beyond what the centred grid would: so 5-minute samples stamped a few seconds late land on :00, :05, … and a
/// trace whose rows sit on :02:30, :07:30, … keeps them there.</para>
/// <para>Each row goes to its nearest step. Two rows on one step are a collision (reported, not merged); a step
/// no row falls on is a missing step.</para>
/// </remarks>
internal static class TimeGrid
{
    // Intervals metric systems export at; an inferred step within 0.5% of one of them is taken to be it.
    private static readonly double[] _commonSteps =
    [
        0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5,
        1, 2, 5, 10, 15, 20, 30, 60, 120, 180, 300, 600, 900, 1200, 1800,
        3600, 7200, 10800, 14400, 21600, 43200, 86400, 604800,
    ];

    /// <summary>Where each row of a trace goes on the grid.</summary>
    /// <param name="StepSeconds">The grid step.</param>
    /// <param name="Slots">Per row, its step on the grid; the first row's is 0. Non-decreasing; strictly increasing unless <see cref="Collision"/> ≥ 0.</param>
    /// <param name="FirstSlotSeconds">Where step 0 lies, in seconds after the first row's time (negative: before it).</param>
    /// <param name="Collision">The first row that lands on the same step as the row before it, or -1.</param>
    /// <param name="SnappedRows">Rows moved onto the grid (by more than a millionth of a step).</param>
    /// <param name="MaxSnapSeconds">The largest move.</param>
    /// <param name="EarliestRow">The row furthest before its step (or least after it).</param>
    /// <param name="LatestRow">The row furthest after its step (or least before it).</param>
    /// <param name="SpreadSeconds">How far apart those two lie relative to their steps: under half a step whenever the rows follow one grid.</param>
    public sealed record Placement(
        double StepSeconds,
        long[] Slots,
        double FirstSlotSeconds,
        int Collision,
        long SnappedRows,
        double MaxSnapSeconds,
        int EarliestRow,
        int LatestRow,
        double SpreadSeconds)
    {
        /// <summary>Steps from the first row's to the last row's, both included.</summary>
        public long SlotCount => Slots.Length == 0 ? 0 : Slots[^1] + 1;

        /// <summary>Steps no row falls on (meaningful when there is no collision).</summary>
        public long MissingSteps => SlotCount - Slots.Length;
    }

    /// <summary>
    /// The step of strictly increasing <paramref name="times"/> (at least two): the median gap between rows, refined
    /// as the seconds over the steps of the gaps that are close to whole multiples of it (repeated until it settles;
    /// jitter averages out), then a common interval (1 ms … 1 week) when within 0.5% of one, else rounded to 4
    /// significant digits.
    /// </summary>
    /// <remarks>
    /// The median is right while most gaps are single steps. A series missing more than half of its steps needs its
    /// step given.
    /// </remarks>
    public static double InferStep(ReadOnlySpan<double> times)
    {
        if (times.Length < 2)
        {
            throw new ArgumentException("At least two times are needed to infer a step.", nameof(times));
        }

        var gaps = new double[times.Length - 1];
        for (int i = 1; i < times.Length; i++)
        {
            gaps[i - 1] = times[i] - times[i - 1];
        }

        var sorted = (double[])gaps.Clone();
        Array.Sort(sorted);
        double step = sorted[sorted.Length / 2];
        for (int pass = 0; pass < 4; pass++)
        {
            // Refine over whole multiples: each gap (a gap under half a step joined to the next: two rows on one
            // step, which placing reports) counts as its nearest whole number of steps, so jitter averages out and
            // a long cut-out counts right once the step is close. A gap far from a whole multiple (half a step off)
            // says nothing about the step and is left out.
            double seconds = 0, steps = 0, pending = 0;
            foreach (double gap in gaps)
            {
                pending += gap;
                double ratio = pending / step;
                double n = Math.Round(ratio, MidpointRounding.AwayFromZero);
                if (n < 1)
                {
                    continue;
                }

                if (Math.Abs(ratio - n) <= 0.25)
                {
                    seconds += pending;
                    steps += n;
                }

                pending = 0;
            }

            if (steps < 1 || seconds / steps == step)
            {
                break;
            }

            step = seconds / steps;
        }

        return Tidy(step);
    }

    /// <summary>A common interval within 0.5% of <paramref name="step"/>, else the step to 4 significant digits.</summary>
    internal static double Tidy(double step)
    {
        foreach (double common in _commonSteps)
        {
            if (Math.Abs(step - common) <= 0.005 * common)
            {
                return common;
            }
        }

        int digits = 3 - (int)Math.Floor(Math.Log10(step));
        return digits is >= 0 and <= 15
            ? Math.Round(step, digits, MidpointRounding.AwayFromZero)
            : Math.Round(step / Math.Pow(10, -digits), MidpointRounding.AwayFromZero) * Math.Pow(10, -digits);
    }

    /// <summary>Places strictly increasing <paramref name="times"/> (seconds after the first row) on a grid of <paramref name="step"/>.</summary>
    /// <param name="originSeconds">The first row's absolute time (Unix seconds, or the numeric column's value in seconds): it decides what the round grid is.</param>
    public static Placement Place(ReadOnlySpan<double> times, double originSeconds, double step)
    {
        if (!(step > 0) || double.IsInfinity(step))
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be positive.");
        }

        if (times.IsEmpty)
        {
            return new Placement(step, [], 0, -1, 0, 0, -1, -1, 0);
        }

        // Work from the origin's remainder on the round grid, so that Unix seconds (1e9) do not eat the precision.
        double offset = Mod(originSeconds, step);
        var phases = new double[times.Length];
        for (int i = 0; i < times.Length; i++)
        {
            phases[i] = Mod(offset + times[i], step);
        }

        double centre = SmallestArcCentre(phases, step);
        Snap centred = Slots(times, offset, step, centre);
        Snap round = Slots(times, offset, step, 0);
        bool useRound = round.MaxMove < step / 4 && round.MaxMove <= centred.MaxMove + (step / 10) && SameShape(centred.Slots, round.Slots);
        (Snap chosen, double phase) = useRound ? (round, 0.0) : (centred, centre);
        long[] slots = chosen.Slots;

        long first = slots[0];
        double firstSlot = phase + (first * step) - (offset + times[0]);
        int collision = -1;
        for (int i = 0; i < slots.Length; i++)
        {
            slots[i] -= first;
            if (collision < 0 && i > 0 && slots[i] == slots[i - 1])
            {
                collision = i;
            }
        }

        return new Placement(
            step, slots, firstSlot, collision, chosen.Moved, chosen.MaxMove, chosen.EarliestRow, chosen.LatestRow, chosen.Latest - chosen.Earliest);
    }

    private sealed record Snap(long[] Slots, double MaxMove, long Moved, int EarliestRow, double Earliest, int LatestRow, double Latest);

    // Each row's nearest step of the grid through 'phase': the largest move, how many rows moved, and the rows
    // furthest before and after their steps.
    private static Snap Slots(ReadOnlySpan<double> times, double offset, double step, double phase)
    {
        var slots = new long[times.Length];
        long moved = 0;
        double earliest = double.PositiveInfinity, latest = double.NegativeInfinity;
        int earliestRow = 0, latestRow = 0;
        double tolerance = step * 1e-6;    // below this a move is rounding noise, not jitter
        for (int i = 0; i < times.Length; i++)
        {
            double t = offset + times[i] - phase;
            long k = (long)Math.Floor((t / step) + 0.5);
            double late = t - (k * step);   // > 0: the row is after its step
            slots[i] = k;
            if (late < earliest)
            {
                (earliest, earliestRow) = (late, i);
            }

            if (late > latest)
            {
                (latest, latestRow) = (late, i);
            }

            if (Math.Abs(late) > tolerance)
            {
                moved++;
            }
        }

        return new Snap(slots, Math.Max(Math.Abs(earliest), Math.Abs(latest)), moved, earliestRow, earliest, latestRow, latest);
    }

    private static bool SameShape(long[] a, long[] b)
    {
        long shift = b[0] - a[0];
        for (int i = 1; i < a.Length; i++)
        {
            if (b[i] - a[i] != shift)
            {
                return false;
            }
        }

        return true;
    }

    // The centre of the smallest arc of the circle [0, step) that holds every phase: the complement of the widest gap.
    private static double SmallestArcCentre(double[] phases, double step)
    {
        double min = phases.Min();
        double max = phases.Max();
        if (max - min <= step * 1e-9)
        {
            return min;
        }

        Array.Sort(phases);
        double widest = phases[0] + step - phases[^1];   // the gap across 0
        int after = 0;
        for (int j = 1; j < phases.Length; j++)
        {
            double gap = phases[j] - phases[j - 1];
            if (gap > widest)
            {
                widest = gap;
                after = j;
            }
        }

        return Mod(phases[after] + ((step - widest) / 2), step);
    }

    private static double Mod(double x, double step)
    {
        double r = x - (Math.Floor(x / step) * step);
        return r >= step || r < 0 ? 0 : r;
    }
}
