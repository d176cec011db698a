using Foresight.Core;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Tests;

public sealed class WarmStartTests
{
    private static RecurrentOptions Small => new()
    {
        HiddenSize = 8, Layers = 2, Horizon = 12, TbpttLength = 24, BatchSize = 4, MaxEpochs = 3, Patience = 1, Seed = 11,
        SeasonLength = 1, HighwayLength = 8, MaxDegreeOfParallelism = 1,
    };

    private static SeriesSet Data(int count = 4, int length = 24 * 12, int seed = 100) => BaselineTests.Hourly(
        Enumerable.Range(0, count).Select(i => BaselineTests.Seasonal(length, 50 + (10 * i), 0.02, 10, 2, seed + i).Select(Math.Abs).ToArray()).ToArray());

    private static LstmForecaster Pretrained()
    {
        var model = new LstmForecaster(Small);
        model.Fit(Data());
        return model;
    }

    [Fact]
    public void Zero_fine_tune_epochs_reproduce_the_starting_models_forecasts_and_one_epoch_changes_them()
    {
        LstmForecaster pretrained = Pretrained();
        SeriesSet data = Data();

        RecurrentForecaster same = pretrained.WarmStart(pretrained.Options with { FineTuneEpochs = 0 });
        same.Fit(data);
        Assert.True(same.WarmStarted);
        Assert.False(pretrained.WarmStarted);
        Assert.Equal(0, same.LastTraining!.Epochs);
        Assert.Equal(pretrained.Predict(12), same.Predict(12));

        // Without a held-out tail to fall back on, one epoch of training moves the weights.
        RecurrentForecaster tuned = pretrained.WarmStart(pretrained.Options with { FineTuneEpochs = 1, ValidationSteps = 0 });
        tuned.Fit(data);
        Assert.Equal(1, tuned.LastTraining!.Epochs);
        Assert.NotEqual(pretrained.Predict(12)[0].Quantile(0.5, 0), tuned.Predict(12)[0].Quantile(0.5, 0));

        // The starting model is untouched: it still serves what it served.
        Assert.Equal(same.Predict(12), pretrained.Predict(12));
    }

    [Fact]
    public void A_warm_start_fits_other_series_with_their_own_scaling_and_keeps_the_shape()
    {
        LstmForecaster pretrained = Pretrained();
        SeriesSet other = BaselineTests.Hourly(
            Enumerable.Range(0, 3).Select(i => BaselineTests.Seasonal(24 * 6, 5_000 * (i + 1), 0.01, 800, 50, 7 + i).Select(Math.Abs).ToArray()).ToArray());

        RecurrentForecaster tuned = pretrained.WarmStart(pretrained.Options with { FineTuneEpochs = 2, HiddenSize = 64, Horizon = 3 });
        tuned.Fit(other);
        Assert.Equal(8, tuned.Options.HiddenSize);
        Assert.Equal(12, tuned.Horizon);
        IReadOnlyList<Forecast> forecasts = tuned.Predict(12);
        Assert.Equal(3, forecasts.Count);

        // Per-series scaling: each forecast sits at its own series' level, thousands, not the pretraining data's tens.
        for (int i = 0; i < 3; i++)
        {
            double last = other.Series[i].Values[^1];
            Assert.InRange(forecasts[i].Quantile(0.5, 0), last / 3, last * 3);
        }

        // A warm-started model can itself be warm-started (a refit of a refit), and saves and loads like any other.
        RecurrentForecaster again = tuned.WarmStart();
        again.Fit(other);
        using var stream = new MemoryStream();
        again.Save(stream);
        stream.Position = 0;
        Assert.Equal(again.Predict(12), ForecasterFile.Load(stream).Predict(12));
    }

    [Fact]
    public void Data_that_does_not_fit_the_starting_networks_inputs_is_a_clear_error()
    {
        LstmForecaster pretrained = Pretrained();
        double[] y = BaselineTests.Seasonal(24 * 8, 50, 0, 10, 1, 5);
        var withLatency = new SeriesSet(TimeSpan.FromHours(1), [new Series("a", y, DateTimeOffset.UnixEpoch, [y])], ["latency"], source: "demand.csv");
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => pretrained.WarmStart().Fit(withLatency));
        Assert.Contains("demand.csv", e.Message);
        Assert.Contains("exogenous", e.Message);
        Assert.Throws<InvalidOperationException>(() => new LstmForecaster(Small).WarmStart());
    }

    [Fact]
    public void Calendar_time_scale_makes_a_fast_replay_read_the_traces_hour_of_day()
    {
        // One 5 s step of a replay at timeScale 60 is 5 trace minutes: with the scale, both series see the same calendar.
        double[] y = BaselineTests.Seasonal(24 * 12 * 4, 50, 0, 10, 1, 5).Select(Math.Abs).ToArray();
        var origin = new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero);
        var trace = new SeriesSet(TimeSpan.FromMinutes(5), [new Series("a", y, origin)], seasonLength: 1);
        var replay = new SeriesSet(TimeSpan.FromSeconds(5), [new Series("a", y, origin)], seasonLength: 1);
        var a = new LstmForecaster(Small);
        var b = new LstmForecaster(Small with { CalendarTimeScale = 60, CalendarOrigin = origin });
        var c = new LstmForecaster(Small);
        a.Fit(trace);
        b.Fit(replay);
        c.Fit(replay);
        Assert.Equal(a.Predict(12)[0].Median.ToArray(), b.Predict(12)[0].Median.ToArray());
        Assert.NotEqual(a.Predict(12)[0].Median.ToArray(), c.Predict(12)[0].Median.ToArray());
    }

    [Fact]
    public void Priming_only_the_last_values_keeps_the_forecast_origin_and_all_of_them_changes_nothing()
    {
        SeriesSet data = Data();
        var full = new LstmForecaster(Small);
        var all = new LstmForecaster(Small with { PrimeSteps = data.Series[0].Length });
        var tail = new LstmForecaster(Small with { PrimeSteps = 48 });
        full.Fit(data);
        all.Fit(data);
        tail.Fit(data);
        Assert.Equal(full.Predict(12), all.Predict(12));
        Assert.Equal(full.Predict(12)[0].Start, tail.Predict(12)[0].Start);
        Assert.NotEqual(full.Predict(12)[0].Median.ToArray(), tail.Predict(12)[0].Median.ToArray()); // a state from zero 48 steps back
    }

    [Fact]
    public void A_warm_start_on_a_history_too_short_to_train_on_keeps_its_weights_and_still_forecasts()
    {
        LstmForecaster pretrained = Pretrained();
        SeriesSet shortData = BaselineTests.Hourly([BaselineTests.Seasonal(15, 50, 0, 10, 1, 3).Select(Math.Abs).ToArray()]);
        Assert.Throws<InvalidInputException>(() => new LstmForecaster(Small).Fit(shortData));

        RecurrentForecaster tuned = pretrained.WarmStart();
        tuned.Fit(shortData);
        Assert.Equal(0, tuned.LastTraining!.Epochs);
        Assert.True(tuned.WarmStarted);
        Assert.All(tuned.Predict(12)[0].Median, v => Assert.True(double.IsFinite(v)));
    }
}
