using Foresight.Core;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Tests;

public sealed class RecurrentForecasterTests
{
    private static RecurrentOptions Small => new()
    {
        HiddenSize = 8, Layers = 2, Horizon = 12, TbpttLength = 24, BatchSize = 4, MaxEpochs = 3, Patience = 1, Seed = 11,
    };

    private static SeriesSet Data(int count = 4, int length = 24 * 12) => BaselineTests.Hourly(
        Enumerable.Range(0, count).Select(i => BaselineTests.Seasonal(length, 50 + (10 * i), 0.02, 10, 2, 100 + i).Select(Math.Abs).ToArray()).ToArray());

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    public void Same_seed_gives_the_same_model_whatever_the_thread_count(CellKind kind)
    {
        SeriesSet data = Data();
        RecurrentForecaster a = Make(kind, Small with { MaxDegreeOfParallelism = 1 });
        RecurrentForecaster b = Make(kind, Small with { MaxDegreeOfParallelism = 2 });
        a.Fit(data);
        b.Fit(data);
        Assert.Equal(a.Predict(12), b.Predict(12));
        Assert.True(a.LastTraining!.Epochs >= 1);
        Assert.All(a.LastTraining.TrainLoss, l => Assert.True(double.IsFinite(l)));
    }

    [Fact]
    public void Training_lowers_the_validation_loss()
    {
        SeriesSet data = Data();
        var model = new LstmForecaster(Small with { MaxEpochs = 8, Patience = 8, LearningRate = 1e-2f });
        model.Fit(data);
        IReadOnlyList<double> v = model.LastTraining!.ValidationLoss;
        Assert.True(v.Min() < v[0], $"validation losses: {string.Join(", ", v)}");
    }

    [Fact]
    public void Update_streams_one_step_per_observation_and_save_load_round_trips()
    {
        SeriesSet data = Data();
        var model = new GruForecaster(Small);
        model.Fit(data.DropLast(10));
        Forecast before = model.Predict(12)[0];
        model.Update(data.With(data.Series.Select(s => data.Slice(s, s.Length - 10, 10)).ToArray()));
        Forecast after = model.Predict(12)[0];
        Assert.Equal(before.Start.AddHours(10), after.Start);
        Assert.Equal(Forecast.DefaultLevels, after.Levels);

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        IForecaster loaded = ForecasterFile.Load(stream);
        Assert.Equal("gru", loaded.Name);
        Assert.Equal(model.Predict(12), loaded.Predict(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(13));
    }

    [Fact]
    public void Exogenous_inputs_and_short_series_are_handled()
    {
        double[] y = BaselineTests.Seasonal(24 * 8, 50, 0, 10, 1, 5);
        double[] latency = y.Select((v, t) => 10 + Math.Sin(t)).ToArray();
        var set = new SeriesSet(TimeSpan.FromHours(1), [new Series("a", y, DateTimeOffset.UnixEpoch, [latency])], ["latency"]);
        var model = new LstmForecaster(Small with { MaxEpochs = 1 });
        model.Fit(set);
        Assert.Single(model.Predict(5));

        var tooShort = new SeriesSet(TimeSpan.FromHours(1), [new Series("a", y[..40])]);
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => new LstmForecaster(Small).Fit(tooShort));
        Assert.Contains("needs at least", e.Message);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void Streaming_in_pieces_equals_streaming_at_once(bool localInputs, bool log)
    {
        SeriesSet data = Data(count: 2);
        var model = new LstmForecaster(Small with { MaxEpochs = 1, LocalInputs = localInputs, LogTransform = log });
        model.Fit(data.DropLast(30));
        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        IForecaster copy = ForecasterFile.Load(stream);

        model.Update(data.With(data.Series.Select(s => data.Slice(s, s.Length - 30, 30)).ToArray()));
        for (int from = 30; from > 0; from -= 7)
        {
            int n = Math.Min(7, from);
            copy.Update(data.With(data.Series.Select(s => data.Slice(s, s.Length - from, n)).ToArray()));
        }

        Assert.Equal(model.Predict(12), copy.Predict(12));
    }

    [Fact]
    public void Log_transform_gives_finite_non_negative_quantiles_and_series_with_negatives_stay_linear()
    {
        // Troughs near zero, where an additive error would cost most in relative terms.
        double[] peaky = Enumerable.Range(0, (24 * 12) + 12).Select(t => 0.5 + (100 * Math.Pow(Math.Max(0, Math.Sin(2 * Math.PI * t / 24)), 4))).ToArray();
        double[] negative = BaselineTests.Seasonal((24 * 12) + 12, 0, 0, 10, 1, 3); // the next 12 steps are the negative half-cycle
        Assert.Contains(negative, v => v < 0);
        SeriesSet set = BaselineTests.Hourly(peaky, negative);
        var model = new GruForecaster(Small with { MaxEpochs = 2 });
        model.Fit(set);
        IReadOnlyList<Forecast> f = model.Predict(12);
        Assert.All(f[0].Values.SelectMany(v => v), v => Assert.True(v >= 0 && double.IsFinite(v)));
        // A series with negative values is modelled linearly: a log series could not go below -0.1·scale (about -0.6 here).
        Assert.Contains(f[1].Values.SelectMany(v => v), v => v < -2);
    }

    [Theory]
    [InlineData(0f)]
    [InlineData(1.5f)]
    [InlineData(float.NaN)]
    public void A_learning_rate_decay_outside_0_to_1_is_refused(float decay) =>
        Assert.Throws<ArgumentException>(() => new GruForecaster(Small with { LearningRateDecay = decay }));

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    public void Sampled_windows_bound_each_epoch_and_the_same_seed_gives_the_same_model(CellKind kind)
    {
        SeriesSet data = Data(count: 2, length: 24 * 30); // 2·(720 - 12)/48 = 29 windows of 48 > 6: sampled
        RecurrentOptions o = Small with { MaxWindowsPerEpoch = 6, WindowLength = 48, MaxEpochs = 2, Patience = 2 };
        RecurrentForecaster a = Make(kind, o with { MaxDegreeOfParallelism = 1 });
        RecurrentForecaster b = Make(kind, o with { MaxDegreeOfParallelism = 2 });
        RecurrentForecaster other = Make(kind, o with { Seed = 12 });
        a.Fit(data);
        b.Fit(data);
        other.Fit(data);
        Assert.Equal(a.Predict(12), b.Predict(12));
        Assert.NotEqual(a.Predict(12), other.Predict(12));

        // Every epoch trains exactly 6 windows of 48 steps, however long the series.
        Assert.Equal(a.LastTraining!.Epochs * 6L * 48, a.LastTraining.SeriesSteps);
        Assert.All(a.LastTraining.ValidationLoss, v => Assert.True(double.IsFinite(v) && v > 0));

        RecurrentForecaster whole = Make(kind, o with { MaxWindowsPerEpoch = null });
        whole.Fit(data);
        Assert.True(whole.LastTraining!.SeriesSteps > a.LastTraining.SeriesSteps);
    }

    [Theory]
    [InlineData(0, null, null)]
    [InlineData(null, 0, null)]
    [InlineData(null, null, -1)]
    public void Window_and_validation_sizes_below_their_minimum_are_refused(int? windows, int? length, int? validation) =>
        Assert.Throws<ArgumentException>(() => new LstmForecaster(Small with { MaxWindowsPerEpoch = windows ?? 2048, WindowLength = length, ValidationSteps = validation }));

    private static RecurrentForecaster Make(CellKind kind, RecurrentOptions o) => kind == CellKind.Lstm ? new LstmForecaster(o) : new GruForecaster(o);
}
