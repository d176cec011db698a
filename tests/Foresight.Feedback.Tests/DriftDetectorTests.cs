using Foresight.Feedback.Drift;
using Xunit.Abstractions;

namespace Foresight.Feedback.Tests;

/// <summary>
/// Detection delay on a +2σ step in N(0,1) noise, and false alarms on stationary N(0,1) noise, over seeded runs.
/// Parameters: the tolerance is half the shift to detect (delta = k = 1σ), the classical CUSUM choice. By Siegmund's
/// approximation a one-sided CUSUM with k = 1, h = 6 has an in-control run length of about
/// (e^{2k(h+1.166)} − 2k(h+1.166) − 1) / (2k²) ≈ 8·10^5 points and an out-of-control one of about
/// (h + 1.166) / (2 − k) ≈ 7 points; Page-Hinkley with the same delta/lambda behaves alike once its running mean has
/// settled. The asserted bounds leave room for the warm-up and the running-mean estimate.
/// </summary>
public sealed class DriftDetectorTests
{
    private const int Runs = 200;
    private const int ChangeAt = 500;
    private const double Shift = 2.0;
    private const double Delta = 1.0;
    private const double Lambda = 6.0;
    private const int StationaryRuns = 20;
    private const int StationaryLength = 50_000;

    private readonly ITestOutputHelper _output;

    public DriftDetectorTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public void Page_Hinkley_detects_a_2_sigma_step_within_a_few_points()
    {
        (double median, double p90, int misses, int earlyAlarms) = StepRuns(() => new PageHinkley(Delta, Lambda, alpha: 1.0, minInstances: 30));
        _output.WriteLine($"PageHinkley(delta={Delta}, lambda={Lambda}, alpha=1, minInstances=30), +{Shift}σ step at {ChangeAt}, {Runs} runs: "
            + $"median delay {median} points, 90th percentile {p90}, missed {misses}, alarms before the change {earlyAlarms}");

        Assert.Equal(0, misses);
        Assert.True(median <= 10, $"median delay {median}");
        Assert.True(p90 <= 16, $"90th percentile delay {p90}");
    }

    [Fact]
    public void Page_Hinkley_rarely_alarms_on_stationary_noise()
    {
        double rate = StationaryRate(() => new PageHinkley(Delta, Lambda, alpha: 1.0, minInstances: 30), out int alarms);
        _output.WriteLine($"PageHinkley(delta={Delta}, lambda={Lambda}): {alarms} alarms in {StationaryRuns * StationaryLength} stationary points = {rate * 10_000:0.###} per 10,000");

        Assert.True(rate < 1e-4, $"false-alarm rate {rate}");
    }

    [Fact]
    public void Page_Hinkley_with_forgetting_still_detects_and_stays_quiet()
    {
        (double median, _, int misses, _) = StepRuns(() => new PageHinkley(Delta, Lambda, alpha: 0.999));
        double rate = StationaryRate(() => new PageHinkley(Delta, Lambda, alpha: 0.999), out int alarms);
        _output.WriteLine($"PageHinkley(alpha=0.999): median delay {median}, {alarms} stationary alarms ({rate * 10_000:0.###} per 10,000)");

        Assert.Equal(0, misses);
        Assert.True(median <= 10, $"median delay {median}");
        Assert.True(rate < 1e-4, $"false-alarm rate {rate}");
    }

    [Fact]
    public void Cusum_detects_a_2_sigma_step_and_rarely_alarms_on_stationary_noise()
    {
        (double median, double p90, int misses, int earlyAlarms) = StepRuns(() => new Cusum(Delta, Lambda, warmup: 100));
        double rate = StationaryRate(() => new Cusum(Delta, Lambda, warmup: 100), out int alarms);
        _output.WriteLine($"Cusum(k={Delta}, h={Lambda}, warmup=100): median delay {median}, 90th percentile {p90}, missed {misses}, "
            + $"early {earlyAlarms}; {alarms} stationary alarms ({rate * 10_000:0.###} per 10,000)");

        Assert.Equal(0, misses);
        Assert.True(median <= 10, $"median delay {median}");
        Assert.True(rate < 1e-4, $"false-alarm rate {rate}");
    }

    [Fact]
    public void Page_Hinkley_watches_only_the_configured_direction()
    {
        var up = new PageHinkley(Delta, Lambda);
        var both = new PageHinkley(Delta, Lambda, direction: DriftDirection.Both);
        var rng = new Random(3);
        bool upFired = false, bothFired = false;
        for (int i = 0; i < 1000; i++)
        {
            double x = Gaussian(rng) - (i >= ChangeAt ? Shift : 0);
            upFired |= up.Add(x);
            bothFired |= both.Add(x);
        }

        Assert.False(upFired);
        Assert.True(bothFired);
    }

    [Fact]
    public void A_detection_resets_the_detector()
    {
        var ph = new PageHinkley(Delta, Lambda);
        for (int i = 0; i < 50; i++)
        {
            Assert.False(ph.Add(0));
        }

        // Each 10 adds about 10 − mean − delta to the statistic: detected on the first point, since 10·(50/51) − 1 > 6.
        Assert.True(ph.Add(10));
        Assert.Equal(0, ph.Count);
        Assert.Equal(0, ph.Statistic);
    }

    private static (double Median, double P90, int Misses, int EarlyAlarms) StepRuns(Func<IDriftDetector> create)
    {
        var delays = new List<int>(Runs);
        int misses = 0, early = 0;
        for (int seed = 0; seed < Runs; seed++)
        {
            var rng = new Random(1000 + seed);
            IDriftDetector d = create();
            int? delay = null;
            for (int i = 0; i < ChangeAt + 500 && delay is null; i++)
            {
                bool alarm = d.Add(Gaussian(rng) + (i >= ChangeAt ? Shift : 0));
                if (alarm && i < ChangeAt)
                {
                    early++;
                }
                else if (alarm)
                {
                    delay = i - ChangeAt + 1; // points after the change needed to detect it
                }
            }

            if (delay is int dl)
            {
                delays.Add(dl);
            }
            else
            {
                misses++;
            }
        }

        delays.Sort();
        return (Percentile(delays, 0.5), Percentile(delays, 0.9), misses, early);
    }

    private static double StationaryRate(Func<IDriftDetector> create, out int alarms)
    {
        alarms = 0;
        for (int seed = 0; seed < StationaryRuns; seed++)
        {
            var rng = new Random(5000 + seed);
            IDriftDetector d = create();
            for (int i = 0; i < StationaryLength; i++)
            {
                alarms += d.Add(Gaussian(rng)) ? 1 : 0;
            }
        }

        return (double)alarms / (StationaryRuns * StationaryLength);
    }

    private static double Percentile(List<int> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[(int)Math.Min(sorted.Count - 1, Math.Ceiling(p * sorted.Count) - 1)];

    // Box-Muller: System.Random with a seed is deterministic on a given runtime.
    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble();
        double u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
