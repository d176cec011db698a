using System.Text.Json;
using Foresight.Cli.Commands;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Neural;

namespace Foresight.Cli.Tests;

public sealed class GlobalModelTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    private byte[] Train(string name, int seed)
    {
        TestData.Locate();
        string path = _workspace.Path(name);
        string json = _workspace.Path(name + ".json");

        // A tiny model on one trace (bayarea), one epoch: the same code path as the shipped model's command.
        (int code, string error) = CliWorkspace.Run(
            "train", "global", "--out", path, "--exclude", "milan,bikenyc", "--exclude", "melbourne", "--hidden", "4", "--epochs", "1",
            "--seed", seed.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json", json);
        Assert.True(code == 0, error);
        JsonElement report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal("bayarea", string.Join(",", report.GetProperty("scenarios").EnumerateArray().Select(e => e.GetString())));
        return File.ReadAllBytes(path);
    }

    [Fact]
    public void The_same_command_and_seed_give_a_byte_identical_model_file()
    {
        byte[] first = Train("a.fsm", seed: 7);
        byte[] second = Train("b.fsm", seed: 7);

        Assert.Equal(first, second);

        // It loads as a global model the loop can start from.
        RecurrentForecaster model = GlobalModel.Load(_workspace.Path("a.fsm"), horizon: 6);
        Assert.Equal(1, model.SeasonLength);
        Assert.Equal(4, model.Options.HiddenSize);
    }

    [Fact]
    public void The_shipped_model_is_embedded_small_and_global()
    {
        RecurrentForecaster shipped = GlobalModel.Load(null, horizon: 30);
        Assert.Equal(1, shipped.SeasonLength);
        Assert.Equal(0, shipped.ExogenousCount);
        Assert.Equal(32, shipped.Options.HiddenSize);
        using Stream stream = typeof(GlobalModel).Assembly.GetManifestResourceStream("Foresight.Cli.models." + GlobalModel.ShippedFile)!;
        Assert.InRange(stream.Length, 1, 1 << 20);
        Assert.Contains("v1", GlobalModel.ShippedFile);
    }

    [Fact]
    public void A_pretrained_file_of_the_wrong_kind_shape_or_version_is_an_error_naming_the_file()
    {
        // A per-app LSTM with a daily season is not a global model.
        string seasonal = _workspace.Path("seasonal.fsm");
        var lstm = new LstmForecaster(new RecurrentOptions { HiddenSize = 4, Layers = 1, Horizon = 6, MaxEpochs = 1, SeasonLength = 24 });
        double[] y = Enumerable.Range(0, 24 * 6).Select(t => 50 + (20 * Math.Sin(t * Math.PI / 12))).ToArray();
        lstm.Fit(new SeriesSet(TimeSpan.FromHours(1), [new Series("a", y, DateTimeOffset.UnixEpoch)]));
        using (FileStream s = File.Create(seasonal))
        {
            lstm.Save(s);
        }

        InvalidInputException e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(seasonal, horizon: 6));
        Assert.Contains(seasonal, e.Message);
        Assert.Contains("season length 24", e.Message);

        // A global model that predicts too few steps for the scenario.
        string shortHorizon = _workspace.Path("short.fsm");
        var global = new LstmForecaster(GlobalModel.TrainingOptions(horizon: 6, seed: 1, hidden: 4, epochs: 1, timeScale: 1));
        global.Fit(new SeriesSet(TimeSpan.FromHours(1), [new Series("a", y, DateTimeOffset.UnixEpoch)], seasonLength: 1));
        using (FileStream s = File.Create(shortHorizon))
        {
            global.Save(s);
        }

        e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(shortHorizon, horizon: 30));
        Assert.Contains(shortHorizon, e.Message);
        Assert.Contains("predicts 6 steps", e.Message);

        // A newer file format version, an ETS model and a file that is no model at all.
        byte[] bytes = File.ReadAllBytes(shortHorizon);
        BitConverter.GetBytes(ForecasterFile.FormatVersion + 1).CopyTo(bytes, 4);
        string newer = _workspace.Path("newer.fsm");
        File.WriteAllBytes(newer, bytes);
        e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(newer, horizon: 6));
        Assert.Contains(newer, e.Message);
        Assert.Contains("version", e.Message);

        string truncated = _workspace.Path("truncated.fsm");
        File.WriteAllBytes(truncated, File.ReadAllBytes(shortHorizon)[..200]);
        e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(truncated, horizon: 6));
        Assert.Contains(truncated, e.Message);

        string text = _workspace.Write("notes.txt", "not a model\n");
        e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(text, horizon: 6));
        Assert.Contains(text, e.Message);

        e = Assert.Throws<InvalidInputException>(() => GlobalModel.Load(_workspace.Path("missing.fsm"), horizon: 6));
        Assert.Contains("missing.fsm", e.Message);
    }

    [Theory]
    [InlineData(GlobalModel.ModelName)]
    [InlineData(PredictiveForecasting.GlobalPlusEts)]
    public void Simulate_names_the_pretrained_file_it_cannot_use(string forecaster)
    {
        string text = _workspace.Write("bad.fsm", "not a model\n");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--policies", "predictive", "--forecaster", forecaster, "--pretrained", text, "--quiet");
        Assert.Equal(2, code);
        Assert.Contains(text, error);
    }

    [Theory]
    [InlineData(GlobalModel.ModelName)]
    [InlineData(PredictiveForecasting.GlobalPlusEts)]
    public void Simulate_runs_the_shipped_global_model_in_the_loop(string forecaster)
    {
        string json = _workspace.Path("sim.json");
        (int code, string error) = CliWorkspace.Run(
            "simulate", "--trace", _workspace.SmallTrace(), "--policies", "predictive", "--forecaster", forecaster, "--json", json, "--quiet");
        Assert.True(code == 0, error);
        JsonElement app = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("policies")[0].GetProperty("feedback").GetProperty("apps")[0];
        Assert.True(app.GetProperty("modelVersion").GetInt32() >= 1); // the pretrained weights were fine-tuned and published
    }
}
