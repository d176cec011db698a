namespace Foresight.Simulation.Engine;

/// <summary>
/// Weighted log-bucketed latency histogram (1% relative resolution from 0.01 ms to about 17 minutes).
/// Weights are request counts, so fractional requests from the fluid model add exactly.
/// </summary>
public sealed class LatencyHistogram
{
    private const double MinMs = 0.01;
    private const double Growth = 1.01;
    private static readonly double s_logGrowth = Math.Log(Growth);
    private readonly double[] _weights = new double[1850];

    public double TotalWeight { get; private set; }

    public double WeightedSumMs { get; private set; }

    public double MeanMs => TotalWeight > 0 ? WeightedSumMs / TotalWeight : 0;

    public void Add(double latencyMs, double weight)
    {
        if (!(weight > 0))
        {
            return;
        }

        _weights[BucketOf(latencyMs)] += weight;
        TotalWeight += weight;
        WeightedSumMs += latencyMs * weight;
    }

    public void Merge(LatencyHistogram other)
    {
        for (int i = 0; i < _weights.Length; i++)
        {
            _weights[i] += other._weights[i];
        }

        TotalWeight += other.TotalWeight;
        WeightedSumMs += other.WeightedSumMs;
    }

    /// <summary>The latency below which fraction <paramref name="q"/> of the weight lies (bucket midpoint).</summary>
    public double Quantile(double q)
    {
        if (TotalWeight <= 0)
        {
            return 0;
        }

        double target = q * TotalWeight;
        double cumulative = 0;
        for (int i = 0; i < _weights.Length; i++)
        {
            cumulative += _weights[i];
            if (cumulative >= target && _weights[i] > 0)
            {
                return MinMs * Math.Pow(Growth, i + 0.5);
            }
        }

        return MinMs * Math.Pow(Growth, _weights.Length - 0.5);
    }

    /// <summary>Cumulative distribution as (latency ms, fraction ≤) points, for plots.</summary>
    public IReadOnlyList<(double LatencyMs, double Fraction)> Cdf(int maxPoints = 200)
    {
        var points = new List<(double, double)>();
        if (TotalWeight <= 0)
        {
            return points;
        }

        double cumulative = 0;
        int first = Array.FindIndex(_weights, w => w > 0);
        int last = Array.FindLastIndex(_weights, w => w > 0);
        int stride = Math.Max(1, (last - first + 1) / maxPoints);
        for (int i = first; i <= last; i++)
        {
            cumulative += _weights[i];
            if ((i - first) % stride == 0 || i == last)
            {
                points.Add((MinMs * Math.Pow(Growth, i + 1), cumulative / TotalWeight));
            }
        }

        return points;
    }

    private int BucketOf(double latencyMs)
    {
        if (!(latencyMs > MinMs))
        {
            return 0;
        }

        int i = (int)(Math.Log(latencyMs / MinMs) / s_logGrowth);
        return Math.Min(i, _weights.Length - 1);
    }
}
