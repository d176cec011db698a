using Foresight.Core.Forecasts;
using Foresight.Forecasting;
using Foresight.Forecasting.Calibration;

namespace Foresight.Feedback.Tests;

/// <summary>
/// Calibration in the loop (design note 0022): the online forecaster calibrates what it serves from what it has
/// already observed, so a miscalibrated model's 90% interval covers about 90% as scored in the loop; off, it serves the
/// model's forecasts untouched.
/// </summary>
public sealed class InLoopCalibrationTests
{
    private const int Season = 24;

    /// <summary>
    /// Site 0 carries noisy demand whose noise is four times larger in the second half of each season (as traffic is
    /// noisier by day); site 1 never carries any (like the cloud site) and must not pad the coverage.
    /// </summary>
    [Theory]
    [InlineData(4.0)] // over-wide
    [InlineData(0.4)] // over-narrow
    public void A_miscalibrated_model_covers_about_90_percent_in_the_loop_only_with_calibration(double widthFactor)
    {
        AppFeedbackStatus on = Run(widthFactor, calibration: true);
        AppFeedbackStatus off = Run(widthFactor, calibration: false);

        Assert.True(on.Calibrated);
        Assert.False(off.Calibrated);
        Assert.InRange(on.RunCoverage90!.Value, 0.87, 0.93);
        Assert.InRange(on.Coverage90!.Value, 0.86, 0.94); // the last window too, as each phase of the season is calibrated
        Assert.True(off.RunCoverage90 is < 0.8 or > 0.97, $"uncalibrated coverage {off.RunCoverage90}");

        // The median is not touched, so the point accuracy is the same.
        Assert.Equal(off.RunMase!.Value, on.RunMase!.Value, 9);
    }

    [Fact]
    public void Off_serves_the_models_forecasts_exactly_and_on_calibrates_them()
    {
        foreach (bool calibration in new[] { false, true })
        {
            var model = new GaussianModel(widthFactor: 0.4);
            OnlineDemandForecaster f = Create(() => model, calibration);
            Feed(f, buckets: 3012, seed: 1); // the next bucket opens the noisy half of the season
            Forecast served = f.Predict(0, 0, 3012 * 5)!;
            Forecast raw = model.Predict(6)[0];
            Assert.Equal(raw.Median, served.Median);
            if (calibration)
            {
                Assert.True(served.Quantile(0.95, 0) > raw.Quantile(0.95, 0) + 1);
            }
            else
            {
                Assert.Equal(raw, served);
            }
        }
    }

    [Fact]
    public void It_never_looks_ahead_what_it_serves_depends_only_on_what_it_has_observed()
    {
        // Two loops see the same demand up to a point, then one sees a burst. What each served before the burst is the same.
        var model = new GaussianModel(1);
        OnlineDemandForecaster a = Create(() => model, calibration: true);
        OnlineDemandForecaster b = Create(() => new GaussianModel(1), calibration: true);
        Feed(a, buckets: 2012, seed: 4);
        Feed(b, buckets: 2012, seed: 4);
        Forecast beforeA = a.Predict(0, 0, 2012 * 5)!;
        Forecast beforeB = b.Predict(0, 0, 2012 * 5)!;
        Assert.Equal(beforeA, beforeB);
        Assert.NotEqual(model.Predict(6)[0], beforeA); // it calibrated: the equality is not vacuous

        for (int k = 1; k <= 480; k++)
        {
            b.Observe(0, (2012 + k) * 5.0, [1000, 0]);
            _ = b.Predict(0, 0, (2012 + k) * 5.0);
        }

        Assert.NotEqual(beforeB, b.Predict(0, 0, 2492 * 5));
    }

    [Fact]
    public void Invalid_calibration_options_are_rejected()
    {
        var options = new OnlineForecasterOptions
        {
            HorizonSteps = 6, WarmupSeconds = 100, RefitEverySeconds = 1e9, SeasonLength = Season,
            Calibration = new RollingCalibrationOptions { Window = 10, MinScores = 20 },
        };
        Assert.Throws<ArgumentException>(() => new OnlineDemandForecaster(1, 2, () => new GaussianModel(1), options));
    }

    private static AppFeedbackStatus Run(double widthFactor, bool calibration)
    {
        OnlineDemandForecaster f = Create(() => new GaussianModel(widthFactor), calibration);
        Feed(f, buckets: 8000, seed: 2);
        return f.GetStatus(0);
    }

    private static OnlineDemandForecaster Create(Func<IForecaster> model, bool calibration) => new(1, 2, model, new OnlineForecasterOptions
    {
        HorizonSteps = 6,
        WarmupSeconds = 100,
        RefitEverySeconds = 1e9,
        SeasonLength = Season,
        Feedback = false,
        Calibration = calibration ? new RollingCalibrationOptions { Window = 600, MinScores = 50 } : null,
    });

    /// <summary>One observation per 5 s bucket, a prediction after each (as the controller's tick does).</summary>
    private static void Feed(OnlineDemandForecaster f, int buckets, int seed)
    {
        var rng = new Random(seed);
        for (int k = 1; k <= buckets; k++)
        {
            double sigma = (k - 1) % Season < Season / 2 ? 5 : 20;
            double noise = Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());
            f.Observe(0, k * 5.0, [100 + (sigma * noise), 0]);
            _ = f.Predict(0, 0, k * 5.0);
        }
    }

    /// <summary>Knows the level (100; 0 for a site that has never carried traffic) but not the noise: σ = 12.5 × a factor.</summary>
    private sealed class GaussianModel(double widthFactor) : IForecaster
    {
        private string[] _names = [];
        private bool[] _silent = [];

        public string Name => "gaussian";

        public bool IsFitted => _names.Length > 0;

        public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
        {
            _names = history.Series.Select(s => s.Name).ToArray();
            _silent = history.Series.Select(s => s.Values.All(v => v == 0)).ToArray();
        }

        public void Update(SeriesSet newObservations)
        {
        }

        public IReadOnlyList<Forecast> Predict(int horizon) => _names.Select((name, s) =>
        {
            // The width grows a little with the step, as a real model's does (and its scores do not tie across steps).
            double mean = _silent[s] ? 0 : 100, sigma = _silent[s] ? 0 : 12.5 * widthFactor;
            double[][] values = Forecast.DefaultLevels
                .Select(q => Enumerable.Range(0, horizon).Select(j => Math.Max(0, mean + (Stats.NormalQuantile(q) * sigma * (1 + (0.02 * j))))).ToArray())
                .ToArray();
            return new Forecast(name, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), Forecast.DefaultLevels, values);
        }).ToArray();

        public void Save(Stream stream) => throw new NotSupportedException();
    }
}
