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

    private static RecurrentForecaster Make(CellKind kind, RecurrentOptions o) => kind == CellKind.Lstm ? new LstmForecaster(o) : new GruForecaster(o);
}
