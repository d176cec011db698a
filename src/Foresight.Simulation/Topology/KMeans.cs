namespace Foresight.Simulation.Topology;

/// <summary>The clusters found by <see cref="KMeans.Cluster"/>.</summary>
/// <param name="CenterX">Cluster centres (weighted means of their points).</param>
/// <param name="CenterY">Cluster centres.</param>
/// <param name="Assignment">The cluster of each point (the nearest centre).</param>
/// <param name="Inertia">Σ weight × squared distance to the assigned centre.</param>
public sealed record KMeansResult(double[] CenterX, double[] CenterY, int[] Assignment, double Inertia)
{
    public int K => CenterX.Length;
}

/// <summary>
/// Weighted k-means: k-means++ seeding from a seeded generator, then Lloyd iterations until the assignment is stable,
/// best of several restarts by inertia. Pure and deterministic: the same input and seed give the same clusters.
/// Points of zero weight are assigned but never pull a centre (an empty cell should not attract a site).
/// </summary>
public static class KMeans
{
    private const int MaxIterations = 500;

    /// <summary>Clusters the points into at most <paramref name="k"/> clusters (fewer when there are fewer distinct weighted positions).</summary>
    public static KMeansResult Cluster(
        IReadOnlyList<double> x,
        IReadOnlyList<double> y,
        IReadOnlyList<double>? weights,
        int k,
        int seed,
        int restarts = 10)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        int n = x.Count;
        if (y.Count != n || (weights is not null && weights.Count != n))
        {
            throw new ArgumentException("x, y and weights need one entry per point.");
        }

        if (n == 0)
        {
            throw new ArgumentException("k-means needs at least one point.", nameof(x));
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(restarts, 1);

        double[] w = EffectiveWeights(weights, n);
        k = Math.Min(k, DistinctWeightedPositions(x, y, w));
        var rng = new SplitMix64((ulong)(uint)seed);
        KMeansResult? best = null;
        for (int r = 0; r < restarts; r++)
        {
            KMeansResult result = RunOnce(x, y, w, k, ref rng);
            if (best is null || result.Inertia < best.Inertia - (1e-12 * Math.Max(1, best.Inertia)))
            {
                best = result;
            }
        }

        return best!;
    }

    /// <summary>Positions (exactly equal coordinates merged) that carry positive weight; the most clusters k-means can form.</summary>
    public static int DistinctWeightedPositions(IReadOnlyList<double> x, IReadOnlyList<double> y, IReadOnlyList<double>? weights)
    {
        double[] w = EffectiveWeights(weights, x.Count);
        var seen = new HashSet<(double, double)>();
        for (int i = 0; i < x.Count; i++)
        {
            if (w[i] > 0)
            {
                seen.Add((x[i], y[i]));
            }
        }

        return seen.Count;
    }

    /// <summary>The weights to use: the given ones (negatives and NaN as 0), or all 1 when none are given or all are 0.</summary>
    internal static double[] EffectiveWeights(IReadOnlyList<double>? weights, int n)
    {
        var w = new double[n];
        double total = 0;
        for (int i = 0; i < n; i++)
        {
            double v = weights is null ? 1 : weights[i];
            w[i] = v > 0 && double.IsFinite(v) ? v : 0;
            total += w[i];
        }

        if (!(total > 0))
        {
            Array.Fill(w, 1.0);
        }

        return w;
    }

    private static KMeansResult RunOnce(IReadOnlyList<double> x, IReadOnlyList<double> y, double[] w, int k, ref SplitMix64 rng)
    {
        int n = x.Count;
        var cx = new double[k];
        var cy = new double[k];
        Seed(x, y, w, k, cx, cy, ref rng);

        var assignment = new int[n];
        Array.Fill(assignment, -1);
        var sumX = new double[k];
        var sumY = new double[k];
        var sumW = new double[k];
        for (int iteration = 0; iteration < MaxIterations; iteration++)
        {
            bool changed = false;
            for (int i = 0; i < n; i++)
            {
                int c = Nearest(x[i], y[i], cx, cy);
                if (c != assignment[i])
                {
                    assignment[i] = c;
                    changed = true;
                }
            }

            if (!changed)
            {
                break;
            }

            Array.Clear(sumX);
            Array.Clear(sumY);
            Array.Clear(sumW);
            for (int i = 0; i < n; i++)
            {
                int c = assignment[i];
                sumX[c] += w[i] * x[i];
                sumY[c] += w[i] * y[i];
                sumW[c] += w[i];
            }

            for (int c = 0; c < k; c++)
            {
                if (sumW[c] > 0)
                {
                    cx[c] = sumX[c] / sumW[c];
                    cy[c] = sumY[c] / sumW[c];
                }
                else
                {
                    // A centre that lost all its weight moves to the point it serves worst, so no site is wasted.
                    int far = FarthestWeighted(x, y, w, assignment, cx, cy);
                    cx[c] = x[far];
                    cy[c] = y[far];
                    assignment[far] = -1;
                }
            }
        }

        double inertia = 0;
        for (int i = 0; i < n; i++)
        {
            int c = Nearest(x[i], y[i], cx, cy);
            assignment[i] = c;
            inertia += w[i] * Squared(x[i] - cx[c], y[i] - cy[c]);
        }

        return new KMeansResult(cx, cy, assignment, inertia);
    }

    // k-means++ (Arthur & Vassilvitskii 2007): each next centre is drawn with probability ∝ weight × D².
    private static void Seed(IReadOnlyList<double> x, IReadOnlyList<double> y, double[] w, int k, double[] cx, double[] cy, ref SplitMix64 rng)
    {
        int n = x.Count;
        int first = Draw(w, ref rng);
        cx[0] = x[first];
        cy[0] = y[first];
        var d2 = new double[n];
        var p = new double[n];
        for (int i = 0; i < n; i++)
        {
            d2[i] = Squared(x[i] - cx[0], y[i] - cy[0]);
        }

        for (int c = 1; c < k; c++)
        {
            for (int i = 0; i < n; i++)
            {
                p[i] = w[i] * d2[i];
            }

            int next = Draw(p, ref rng);
            cx[c] = x[next];
            cy[c] = y[next];
            for (int i = 0; i < n; i++)
            {
                d2[i] = Math.Min(d2[i], Squared(x[i] - cx[c], y[i] - cy[c]));
            }
        }
    }

    private static int Draw(double[] mass, ref SplitMix64 rng)
    {
        double total = 0;
        foreach (double m in mass)
        {
            total += m;
        }

        double target = rng.NextDouble() * total;
        int last = -1;
        for (int i = 0; i < mass.Length; i++)
        {
            if (mass[i] <= 0)
            {
                continue;
            }

            last = i;
            target -= mass[i];
            if (target < 0)
            {
                return i;
            }
        }

        // Rounding can leave a sliver past the end; the last point with mass takes it.
        return last >= 0 ? last : 0;
    }

    private static int FarthestWeighted(IReadOnlyList<double> x, IReadOnlyList<double> y, double[] w, int[] assignment, double[] cx, double[] cy)
    {
        int best = 0;
        double bestCost = -1;
        for (int i = 0; i < x.Count; i++)
        {
            if (w[i] <= 0 || assignment[i] < 0)
            {
                continue;
            }

            int c = assignment[i];
            double cost = w[i] * Squared(x[i] - cx[c], y[i] - cy[c]);
            if (cost > bestCost)
            {
                best = i;
                bestCost = cost;
            }
        }

        return best;
    }

    /// <summary>The index of the nearest centre; ties go to the lower index.</summary>
    internal static int Nearest(double px, double py, IReadOnlyList<double> cx, IReadOnlyList<double> cy)
    {
        int best = 0;
        double bestD = double.PositiveInfinity;
        for (int c = 0; c < cx.Count; c++)
        {
            double d = Squared(px - cx[c], py - cy[c]);
            if (d < bestD)
            {
                best = c;
                bestD = d;
            }
        }

        return best;
    }

    private static double Squared(double dx, double dy) => (dx * dx) + (dy * dy);
}

/// <summary>SplitMix64: tiny, fast and fully specified, so clusters do not change with the runtime's Random.</summary>
internal struct SplitMix64(ulong seed)
{
    private ulong _state = seed;

    public ulong NextULong()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));
}
