using FsCheck;
using FsCheck.Xunit;

namespace Foresight.Ingest.Tests;

public sealed class FillPropertyTests
{
    [Property(MaxTest = 300)]
    public bool Interpolated_fills_lie_between_their_neighbouring_readings(NonNegativeInt[] readings, bool[] missingMask, PositiveInt[] steps)
    {
        (double[] time, double[] original) = Column(readings, missingMask, steps);
        double[] values = (double[])original.Clone();

        long filled = MissingValueFill.Apply(time, values, FillRule.LinearInterpolation);

        if (original.All(double.IsNaN))
        {
            return filled == (original.Length == 0 ? 0 : -1);
        }

        for (int i = 0; i < values.Length; i++)
        {
            if (!double.IsNaN(original[i]))
            {
                if (values[i] != original[i])
                {
                    return false;
                }

                continue;
            }

            double? before = Neighbour(original, i, -1);
            double? after = Neighbour(original, i, +1);
            double lo = Math.Min(before ?? after!.Value, after ?? before!.Value);
            double hi = Math.Max(before ?? after!.Value, after ?? before!.Value);
            if (!(values[i] >= lo && values[i] <= hi))
            {
                return false;
            }
        }

        return filled == original.Count(double.IsNaN);
    }

    [Property(MaxTest = 300)]
    public bool Carry_forward_fills_repeat_the_previous_reading(NonNegativeInt[] readings, bool[] missingMask, PositiveInt[] steps)
    {
        (double[] time, double[] original) = Column(readings, missingMask, steps);
        double[] values = (double[])original.Clone();

        long filled = MissingValueFill.Apply(time, values, FillRule.CarryForward);

        if (original.All(double.IsNaN))
        {
            return filled == (original.Length == 0 ? 0 : -1);
        }

        for (int i = 0; i < values.Length; i++)
        {
            double expected = double.IsNaN(original[i])
                ? Neighbour(original, i, -1) ?? Neighbour(original, i, +1)!.Value
                : original[i];
            if (values[i] != expected)
            {
                return false;
            }
        }

        return filled == original.Count(double.IsNaN);
    }

    private static (double[] Time, double[] Values) Column(NonNegativeInt[] readings, bool[] missingMask, PositiveInt[] steps)
    {
        int n = readings.Length;
        var time = new double[n];
        var values = new double[n];
        for (int i = 0; i < n; i++)
        {
            time[i] = i == 0 ? 0 : time[i - 1] + (steps.Length == 0 ? 1 : steps[i % steps.Length].Get);
            bool missing = missingMask.Length > 0 && missingMask[i % missingMask.Length];
            values[i] = missing ? double.NaN : readings[i].Get;
        }

        return (time, values);
    }

    private static double? Neighbour(double[] original, int i, int direction)
    {
        for (int j = i + direction; j >= 0 && j < original.Length; j += direction)
        {
            if (!double.IsNaN(original[j]))
            {
                return original[j];
            }
        }

        return null;
    }
}
