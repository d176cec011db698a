using Foresight.Forecasting;
using Foresight.Forecasting.Neural;

namespace Foresight.Feedback.Tests;

public sealed class WarmStartLoopTests
{
    private static readonly RecurrentOptions Tiny = new()
    {
        HiddenSize = 4, Layers = 1, Horizon = 6, TbpttLength = 24, BatchSize = 4, MaxEpochs = 2, Patience = 1, Seed = 3,
        SeasonLength = 1, HighwayLength = 8, MaxDegreeOfParallelism = 1, FineTuneEpochs = 1,
    };

    /// <summary>A 60 s cycle per site, with some noise.</summary>
    private static double Rate(double t, int site, Random noise) => (((t % 60) < 30 ? 100 : 20) * (site + 1)) + (noise.NextDouble() * 5);

    private static OnlineDemandForecaster Run(Func<IForecaster> factory)
    {
        var f = new OnlineDemandForecaster(1, 2, factory, new OnlineForecasterOptions
        {
            HorizonSteps = 6,
            WarmupSeconds = 600,
            RefitEverySeconds = 1000,
            SeasonLength = 12,
            RetrainDelaySeconds = 20,
        });
        var noise = new Random(5);
        for (int t = 1; t <= 4000; t++)
        {
            f.Observe(0, t, [Rate(t - 0.5, 0, noise), Rate(t - 0.5, 1, noise)]);
            if (t % 5 == 0)
            {
                f.Predict(0, 0, t);
            }
        }

        return f;
    }

    private static LstmForecaster Pretrained()
    {
        var noise = new Random(9);
        var series = Enumerable.Range(0, 3)
            .Select(i => new Series($"s{i}", Enumerable.Range(0, 400).Select(t => Rate(5 * t, i, noise)).ToArray(), DateTimeOffset.UnixEpoch))
            .ToList();
        var model = new LstmForecaster(Tiny);
        model.Fit(new SeriesSet(TimeSpan.FromSeconds(5), series, seasonLength: 1));
        return model;
    }

    [Fact]
    public void With_a_pretrained_model_every_fit_of_the_loop_starts_from_existing_weights()
    {
        LstmForecaster pretrained = Pretrained();
        int created = 0;
        OnlineDemandForecaster f = Run(() =>
        {
            created++;
            return pretrained.WarmStart();
        });

        Assert.True(f.Fits >= 3, $"fits: {f.Fits}");
        Assert.Equal(f.Fits, f.WarmStartFits); // the first fit fine-tunes the pretrained weights, refits the current ones
        Assert.Equal(1, created); // refits never ask the factory for a fresh model
    }

    [Fact]
    public void Refits_of_a_model_trained_from_scratch_continue_from_its_weights()
    {
        int created = 0;
        OnlineDemandForecaster f = Run(() =>
        {
            created++;
            return new LstmForecaster(Tiny);
        });

        Assert.True(f.Fits >= 3, $"fits: {f.Fits}");
        Assert.Equal(f.Fits - 1, f.WarmStartFits); // only the first fit, at the end of the warm-up, starts from scratch
        Assert.Equal(1, created);
    }
}
