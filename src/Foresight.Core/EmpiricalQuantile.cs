namespace Foresight.Core;

/// <summary>Quantiles of a sample, shared by the forecasters' residual intervals and the simulator's reports.</summary>
public static class EmpiricalQuantile
{
    /// <summary>The empirical q-quantile of <paramref name="sorted"/> (ascending), R's type 7 (linear interpolation).</summary>
    public static double OfSorted(ReadOnlySpan<double> sorted, double q)
    {
        if (sorted.IsEmpty)
        {
            throw new ArgumentException("No values.", nameof(sorted));
        }

        double h = (sorted.Length - 1) * Math.Clamp(q, 0, 1);
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }

    /// <summary>[p10, p50, p90] of <paramref name="values"/> in any order; empty when there are none.</summary>
    public static IReadOnlyList<double> Deciles10To90(IEnumerable<double> values)
    {
        double[] sorted = values.Order().ToArray();
        return sorted.Length == 0 ? [] : [OfSorted(sorted, 0.1), OfSorted(sorted, 0.5), OfSorted(sorted, 0.9)];
    }
}
