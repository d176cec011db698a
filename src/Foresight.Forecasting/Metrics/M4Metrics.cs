namespace Foresight.Forecasting.Metrics;

/// <summary>
/// The M4 competition's error measures, computed as the organisers' R code does (Mcompetitions/M4-methods,
/// "Benchmarks and Evaluation.R"; Makridakis, Spiliotis and Assimakopoulos, IJF 2020):
/// <list type="bullet">
/// <item>sMAPE = mean over the horizon of 200·|y - ŷ| / (|y| + |ŷ|) (percent).</item>
/// <item>MASE = mean |y - ŷ| / mean over t = m+1..n of |x_t - x_{t-m}| (in-sample seasonal naive, m the frequency).</item>
/// <item>MSIS (α = 0.05) = mean of (U - L) + (2/α)(L - y)·[y &lt; L] + (2/α)(y - U)·[y &gt; U], over the same MASE scale.</item>
/// <item>OWA = ½ (sMAPE / sMAPE_Naive2 + MASE / MASE_Naive2), on the totals (means over all series).</item>
/// <item>Naive2: naive on the seasonally adjusted series (classical multiplicative decomposition), reseasonalised, when
/// the 90% autocorrelation test finds seasonality.</item>
/// </list>
/// The per-series values here are the series means over the horizon; a data set's score is the mean over its series.
/// </summary>
public static class M4Metrics
{
    /// <summary>sMAPE of one series (percent, 0..200), averaged over the horizon.</summary>
    public static double SMape(ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast)
    {
        CheckLengths(actual, forecast);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double denominator = Math.Abs(actual[i]) + Math.Abs(forecast[i]);
            // R gives NaN for 0/0; M4 had no zero actuals. We score a perfect zero forecast of a zero as 0.
            sum += denominator == 0 ? 0 : 200 * Math.Abs(actual[i] - forecast[i]) / denominator;
        }

        return sum / actual.Length;
    }

    /// <summary>The MASE/MSIS scale: mean |x_t - x_{t-m}| over the in-sample series (m = 1 when the series is shorter than m + 1).</summary>
    public static double SeasonalNaiveScale(ReadOnlySpan<double> insample, int m)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        if (insample.Length <= m)
        {
            m = 1;
        }

        if (insample.Length < 2)
        {
            throw new ArgumentException("MASE needs at least two in-sample values.", nameof(insample));
        }

        double sum = 0;
        for (int t = m; t < insample.Length; t++)
        {
            sum += Math.Abs(insample[t] - insample[t - m]);
        }

        return sum / (insample.Length - m);
    }

    /// <summary>MASE of one series, averaged over the horizon.</summary>
    public static double Mase(ReadOnlySpan<double> insample, ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast, int m)
    {
        CheckLengths(actual, forecast);
        double scale = SeasonalNaiveScale(insample, m);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            sum += Math.Abs(actual[i] - forecast[i]);
        }

        return sum / actual.Length / scale;
    }

    /// <summary>MSIS of one series at significance <paramref name="alpha"/> (0.05 for the 95% interval), averaged over the horizon.</summary>
    public static double Msis(
        ReadOnlySpan<double> insample, ReadOnlySpan<double> actual, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, int m, double alpha = 0.05)
    {
        CheckLengths(actual, lower);
        CheckLengths(actual, upper);
        double scale = SeasonalNaiveScale(insample, m);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double y = actual[i], lo = lower[i], hi = upper[i];
            sum += hi - lo;
            if (y < lo)
            {
                sum += 2 / alpha * (lo - y);
            }

            if (y > hi)
            {
                sum += 2 / alpha * (y - hi);
            }
        }

        return sum / actual.Length / scale;
    }

    /// <summary>Fraction of actuals inside [lower, upper] (bounds included).</summary>
    public static double Coverage(ReadOnlySpan<double> actual, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper)
    {
        CheckLengths(actual, lower);
        CheckLengths(actual, upper);
        int inside = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (actual[i] >= lower[i] && actual[i] <= upper[i])
            {
                inside++;
            }
        }

        return (double)inside / actual.Length;
    }

    /// <summary>Mean pinball (quantile) loss at level q: mean of max(q·(y - ŷ), (q - 1)·(y - ŷ)).</summary>
    public static double Pinball(ReadOnlySpan<double> actual, ReadOnlySpan<double> quantile, double q)
    {
        CheckLengths(actual, quantile);
        double sum = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double d = actual[i] - quantile[i];
            sum += d >= 0 ? q * d : (q - 1) * d;
        }

        return sum / actual.Length;
    }

    /// <summary>OWA from total sMAPE and MASE and those of Naive2 on the same series.</summary>
    public static double Owa(double smape, double mase, double smapeNaive2, double maseNaive2) =>
        0.5 * ((smape / smapeNaive2) + (mase / maseNaive2));

    /// <summary>
    /// The M4 seasonality test: seasonal when n ≥ 3m and |r_m| &gt; 1.645·√((1 + 2 Σ_{k&lt;m} r_k²) / n), with r the
    /// sample autocorrelations of R's <c>acf</c> (lag.max = ⌊10·log10 n⌋; a lag beyond it means not seasonal).
    /// </summary>
    public static bool SeasonalityTest(ReadOnlySpan<double> insample, int m)
    {
        int n = insample.Length;
        if (m <= 1 || n < 3 * m)
        {
            return false;
        }

        int lagMax = Math.Min((int)Math.Floor(10 * Math.Log10(n)), n - 1);
        if (m > lagMax)
        {
            return false;
        }

        double[] acf = Autocorrelations(insample, m);
        double sumSq = 0;
        for (int k = 1; k < m; k++)
        {
            sumSq += acf[k] * acf[k];
        }

        double limit = 1.645 / Math.Sqrt(n) * Math.Sqrt(1 + (2 * sumSq));
        return Math.Abs(acf[m]) > limit;
    }

    /// <summary>Sample autocorrelations r_0..r_maxLag as R's <c>acf</c> computes them (mean removed, divided by the lag-0 sum).</summary>
    public static double[] Autocorrelations(ReadOnlySpan<double> x, int maxLag)
    {
        int n = x.Length;
        double mean = 0;
        foreach (double v in x)
        {
            mean += v;
        }

        mean /= n;
        var r = new double[maxLag + 1];
        double c0 = 0;
        for (int t = 0; t < n; t++)
        {
            c0 += (x[t] - mean) * (x[t] - mean);
        }

        for (int k = 0; k <= maxLag; k++)
        {
            double ck = 0;
            for (int t = 0; t + k < n; t++)
            {
                ck += (x[t] - mean) * (x[t + k] - mean);
            }

            r[k] = c0 == 0 ? 0 : ck / c0;
        }

        return r;
    }

    /// <summary>
    /// The seasonal indices of R's <c>decompose(x, type = "multiplicative")</c>, one per position of x: a centred
    /// moving average (2×m for even m) as the trend, x / trend averaged per phase (phase = index mod m, NA ignored),
    /// normalised to mean 1.
    /// </summary>
    public static double[] MultiplicativeSeasonalIndices(ReadOnlySpan<double> x, int m)
    {
        int n = x.Length;
        if (m <= 1 || n < 2 * m)
        {
            throw new ArgumentException("Classical decomposition needs at least two full seasons.", nameof(x));
        }

        // R: filter <- if even m: c(0.5, rep(1, m - 1), 0.5) / m else rep(1, m) / m; sides = 2 (centred).
        var weights = new double[(m % 2 == 0) ? m + 1 : m];
        for (int i = 0; i < weights.Length; i++)
        {
            weights[i] = 1.0 / m;
        }

        if (m % 2 == 0)
        {
            weights[0] = weights[^1] = 0.5 / m;
        }

        int offset = weights.Length / 2;
        var figureSum = new double[m];
        var figureCount = new int[m];
        for (int t = offset; t < n - offset; t++)
        {
            double trend = 0;
            for (int j = 0; j < weights.Length; j++)
            {
                trend += weights[j] * x[t - offset + j];
            }

            figureSum[t % m] += x[t] / trend;
            figureCount[t % m]++;
        }

        var figure = new double[m];
        double mean = 0;
        for (int p = 0; p < m; p++)
        {
            figure[p] = figureSum[p] / figureCount[p];
            mean += figure[p] / m;
        }

        var seasonal = new double[n];
        for (int t = 0; t < n; t++)
        {
            seasonal[t] = figure[t % m] / mean;
        }

        return seasonal;
    }

    /// <summary>
    /// The Naive2 benchmark: when <see cref="SeasonalityTest"/> passes, the last seasonally adjusted value times the
    /// seasonal indices of the last season, repeated; otherwise the last value.
    /// </summary>
    public static double[] Naive2(ReadOnlySpan<double> insample, int horizon, int m)
    {
        int n = insample.Length;
        var forecast = new double[horizon];
        if (SeasonalityTest(insample, m))
        {
            double[] seasonal = MultiplicativeSeasonalIndices(insample, m);
            double last = insample[n - 1] / seasonal[n - 1];
            for (int h = 0; h < horizon; h++)
            {
                forecast[h] = last * seasonal[n - m + (h % m)];
            }
        }
        else
        {
            Array.Fill(forecast, insample[n - 1]);
        }

        return forecast;
    }

    /// <summary>The seasonal naive forecast y[n + h - m·⌈h/m⌉].</summary>
    public static double[] SeasonalNaive(ReadOnlySpan<double> insample, int horizon, int m)
    {
        int n = insample.Length;
        var forecast = new double[horizon];
        for (int h = 1; h <= horizon; h++)
        {
            int k = (h + m - 1) / m;
            forecast[h - 1] = insample[n - 1 + h - (k * m)];
        }

        return forecast;
    }

    private static void CheckLengths(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length != b.Length || a.Length == 0)
        {
            throw new ArgumentException($"Lengths differ or are zero ({a.Length} vs {b.Length}).");
        }
    }
}
