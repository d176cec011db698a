namespace Foresight.Forecasting.Baselines;

/// <summary>
/// Nelder–Mead simplex minimisation (standard coefficients: reflection 1, expansion 2, contraction 0.5, shrink 0.5).
/// Deterministic: no randomness. Non-finite objective values are treated as +∞.
/// </summary>
public static class NelderMead
{
    /// <summary>Minimises <paramref name="f"/> from <paramref name="x0"/>; returns the best point and its value.</summary>
    /// <param name="initialStep">Edge length of the initial simplex along each axis.</param>
    /// <param name="tolerance">Stop when the simplex's value spread is below this (relative to |f best| + 1e-12).</param>
    public static (double[] X, double Value, int Evaluations) Minimize(
        Func<double[], double> f, double[] x0, double initialStep = 0.5, int maxEvaluations = 1000, double tolerance = 1e-10)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x0);
        int n = x0.Length;
        var points = new double[n + 1][];
        var values = new double[n + 1];
        int evals = 0;
        double Eval(double[] x)
        {
            evals++;
            double v = f(x);
            return double.IsFinite(v) ? v : double.PositiveInfinity;
        }

        for (int i = 0; i <= n; i++)
        {
            points[i] = (double[])x0.Clone();
            if (i > 0)
            {
                points[i][i - 1] += initialStep;
            }

            values[i] = Eval(points[i]);
        }

        var order = new int[n + 1];
        var centroid = new double[n];
        var xr = new double[n];
        var xe = new double[n];
        var xc = new double[n];
        while (evals < maxEvaluations)
        {
            for (int i = 0; i <= n; i++)
            {
                order[i] = i;
            }

            Array.Sort(order, (a, b) => values[a].CompareTo(values[b]));
            int best = order[0], worst = order[n], second = order[n - 1];
            if (Math.Abs(values[worst] - values[best]) <= tolerance * (Math.Abs(values[best]) + 1e-12))
            {
                break;
            }

            Array.Clear(centroid);
            for (int i = 0; i < n; i++)
            {
                double[] p = points[order[i]];
                for (int j = 0; j < n; j++)
                {
                    centroid[j] += p[j] / n;
                }
            }

            for (int j = 0; j < n; j++)
            {
                xr[j] = centroid[j] + (centroid[j] - points[worst][j]);
            }

            double fr = Eval(xr);
            if (fr < values[best])
            {
                for (int j = 0; j < n; j++)
                {
                    xe[j] = centroid[j] + (2 * (centroid[j] - points[worst][j]));
                }

                double fe = Eval(xe);
                if (fe < fr)
                {
                    Array.Copy(xe, points[worst], n);
                    values[worst] = fe;
                }
                else
                {
                    Array.Copy(xr, points[worst], n);
                    values[worst] = fr;
                }

                continue;
            }

            if (fr < values[second])
            {
                Array.Copy(xr, points[worst], n);
                values[worst] = fr;
                continue;
            }

            bool outside = fr < values[worst];
            for (int j = 0; j < n; j++)
            {
                xc[j] = outside
                    ? centroid[j] + (0.5 * (xr[j] - centroid[j]))
                    : centroid[j] + (0.5 * (points[worst][j] - centroid[j]));
            }

            double fc = Eval(xc);
            if (fc < Math.Min(fr, values[worst]))
            {
                Array.Copy(xc, points[worst], n);
                values[worst] = fc;
                continue;
            }

            // Shrink towards the best point.
            for (int i = 0; i <= n; i++)
            {
                if (i == best)
                {
                    continue;
                }

                for (int j = 0; j < n; j++)
                {
                    points[i][j] = points[best][j] + (0.5 * (points[i][j] - points[best][j]));
                }

                values[i] = Eval(points[i]);
            }
        }

        int arg = 0;
        for (int i = 1; i <= n; i++)
        {
            if (values[i] < values[arg])
            {
                arg = i;
            }
        }

        return (points[arg], values[arg], evals);
    }
}
