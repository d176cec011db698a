using Foresight.Core.Forecasts;

namespace Foresight.Control.Policies.Predictive;

/// <summary>Forecast bands against the traffic that then arrived, per site, for one app of a predictive run.</summary>
/// <param name="App">The app whose forecasts these are.</param>
/// <param name="LeadSeconds">How far ahead each plotted forecast was made (the app's lead time).</param>
/// <param name="IntervalLevel">Coverage of the band (0.9: the 5%–95% quantiles).</param>
public sealed record ForecastTrace(string App, double LeadSeconds, double IntervalLevel, IReadOnlyList<SiteForecastTrace> Sites);

/// <summary>One site's series, all of the same length, averaged over plotting buckets.</summary>
public sealed record SiteForecastTrace(
    int Site,
    IReadOnlyList<double> TimeSeconds,
    IReadOnlyList<double> Actual,
    IReadOnlyList<double> Median,
    IReadOnlyList<double> Lower,
    IReadOnlyList<double> Upper);

/// <summary>
/// Keeps, at every decision, the forecast each site's demand had for the lead time ahead and the demand observed now;
/// <see cref="Build"/> pairs each forecast with what arrived at its target time. Only for reports: decisions never read it.
/// </summary>
public sealed class ForecastTraceRecorder
{
    private const double Lower = 0.05;
    private const double Upper = 0.95;
    private readonly List<(double Target, double Lo, double Mid, double Hi)>[] _forecasts;
    private readonly List<(double Time, double Value)>[] _actual;

    public ForecastTraceRecorder(int sites)
    {
        _forecasts = Enumerable.Range(0, sites).Select(_ => new List<(double, double, double, double)>()).ToArray();
        _actual = Enumerable.Range(0, sites).Select(_ => new List<(double, double)>()).ToArray();
    }

    /// <param name="now">Simulated seconds.</param>
    /// <param name="forecasts">Per site, the app's forecast made now (null where there is none).</param>
    /// <param name="observed">Per site, the app's demand observed over the last decision period.</param>
    /// <param name="leadSeconds">The app's lead time: the forecast step plotted is the one that far ahead.</param>
    public void Record(double now, IReadOnlyList<Forecast?> forecasts, ReadOnlySpan<double> observed, double leadSeconds)
    {
        for (int s = 0; s < _forecasts.Length; s++)
        {
            _actual[s].Add((now, observed[s]));
            if (forecasts[s] is not Forecast f)
            {
                continue;
            }

            double step = f.Step.TotalSeconds;
            int k = Math.Clamp((int)Math.Floor(leadSeconds / step), 0, f.Horizon - 1);
            _forecasts[s].Add((now + ((k + 1) * step), f.Quantile(Lower, k), f.Quantile(0.5, k), f.Quantile(Upper, k)));
        }
    }

    /// <summary>The paired series, averaged into at most <paramref name="points"/> buckets per site.</summary>
    public ForecastTrace Build(string app, double leadSeconds, int points = 1200)
    {
        var sites = new List<SiteForecastTrace>();
        for (int s = 0; s < _forecasts.Length; s++)
        {
            List<(double Target, double Lo, double Mid, double Hi)> made = _forecasts[s];
            List<(double Time, double Value)> seen = _actual[s];
            var pairs = new List<(double T, double Actual, double Lo, double Mid, double Hi)>();
            int j = 0;
            foreach ((double target, double lo, double mid, double hi) in made)
            {
                while (j < seen.Count && seen[j].Time < target - 1e-9)
                {
                    j++;
                }

                if (j == seen.Count)
                {
                    break; // the run ended before this forecast's target time
                }

                pairs.Add((seen[j].Time, seen[j].Value, lo, mid, hi));
            }

            if (pairs.Count == 0)
            {
                continue;
            }

            int per = Math.Max(1, (int)Math.Ceiling(pairs.Count / (double)points));
            var time = new List<double>();
            var actual = new List<double>();
            var median = new List<double>();
            var lower = new List<double>();
            var upper = new List<double>();
            for (int i = 0; i < pairs.Count; i += per)
            {
                int n = Math.Min(per, pairs.Count - i);
                var bucket = pairs.GetRange(i, n);
                time.Add(bucket[0].T);
                actual.Add(bucket.Average(p => p.Actual));
                median.Add(bucket.Average(p => p.Mid));
                lower.Add(bucket.Average(p => p.Lo));
                upper.Add(bucket.Average(p => p.Hi));
            }

            sites.Add(new SiteForecastTrace(s, time, actual, median, lower, upper));
        }

        return new ForecastTrace(app, leadSeconds, Upper - Lower, sites);
    }
}
