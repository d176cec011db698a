using System.Globalization;
using System.Text.Json;

namespace Foresight.Cli.Tests;

public sealed class TrainForecastCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    /// <summary>An hourly wide trace of two sources with a daily cycle, rows [from, to).</summary>
    private string Hourly(string name, int from, int to, int skipRow = -1)
    {
        var start = new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero);
        var lines = new List<string> { "timestamp,a,b" };
        for (int h = from; h < to; h++)
        {
            if (h == skipRow)
            {
                continue;
            }

            double a = 50 + (40 * Math.Sin(h * Math.PI / 12)) + (h * 7 % 5);
            double b = 80 + (10 * Math.Cos(h * Math.PI / 12)) + (h * 3 % 5);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{start.AddHours(h):yyyy-MM-ddTHH:mm:ssZ},{a:F1},{b:F1}"));
        }

        return _workspace.Write(name, string.Join('\n', lines) + "\n");
    }

    private (string Model, JsonElement Train) Train(string model, string data, params string[] extra)
    {
        string path = _workspace.Path($"{model}.model");
        string json = _workspace.Path($"train-{model}.json");
        (int code, string error) = CliWorkspace.Run(["train", "--data", data, "--model", model, "--out", path, "--json", json, .. extra]);
        Assert.True(code == 0, error);
        Assert.True(new FileInfo(path).Length > 0);
        return (path, JsonDocument.Parse(File.ReadAllText(json)).RootElement.Clone());
    }

    private static (int Code, string Error, JsonElement? Result) Forecast(string model, string data, int horizon, string json)
    {
        (int code, string error) = CliWorkspace.Run("forecast", "--model", model, "--data", data, "--horizon", horizon.ToString(CultureInfo.InvariantCulture), "--json", json);
        return (code, error, code == 0 ? JsonDocument.Parse(File.ReadAllText(json)).RootElement.Clone() : null);
    }

    [Fact]
    public void A_trained_model_streams_the_new_rows_and_forecasts_from_the_last_one()
    {
        (string model, JsonElement train) = Train("ets", Hourly("train.csv", 0, 24 * 8));
        Assert.Equal(2, train.GetProperty("series").GetInt32());
        Assert.Equal(24, train.GetProperty("seasonLength").GetInt32());

        (int code, string error, JsonElement? result) = Forecast(model, Hourly("all.csv", 0, (24 * 8) + 5), 12, _workspace.Path("f.json"));

        Assert.True(code == 0, error);
        JsonElement r = result!.Value;
        Assert.Equal(2 * 5, r.GetProperty("newObservations").GetInt32()); // only the rows after training, per series
        JsonElement first = r.GetProperty("forecasts")[0];
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero).AddHours((24 * 8) + 5), first.GetProperty("start").GetDateTimeOffset());
        Assert.Equal(12, first.GetProperty("mean").GetArrayLength());
        double[] lo = first.GetProperty("quantiles").GetProperty("0.05").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] mid = first.GetProperty("quantiles").GetProperty("0.5").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] hi = first.GetProperty("quantiles").GetProperty("0.95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        for (int j = 0; j < 12; j++)
        {
            Assert.True(lo[j] <= mid[j] && mid[j] <= hi[j], $"quantiles cross at step {j}");
        }
    }

    [Fact]
    public void An_es_lstm_model_trains_saves_and_streams_through_the_commands()
    {
        (string model, JsonElement train) = Train("es-lstm", Hourly("train.csv", 0, 24 * 8), "--horizon", "12");
        Assert.True(train.GetProperty("epochs").GetInt32() >= 1);

        (int code, string error, JsonElement? result) = Forecast(model, Hourly("all.csv", 0, (24 * 8) + 5), 12, _workspace.Path("f.json"));

        Assert.True(code == 0, error);
        JsonElement r = result!.Value;
        Assert.Equal(2 * 5, r.GetProperty("newObservations").GetInt32());
        JsonElement first = r.GetProperty("forecasts")[0];
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero).AddHours((24 * 8) + 5), first.GetProperty("start").GetDateTimeOffset());
        double[] lo = first.GetProperty("quantiles").GetProperty("0.05").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] hi = first.GetProperty("quantiles").GetProperty("0.95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.Equal(12, lo.Length);
        Assert.All(lo.Zip(hi), p => Assert.True(p.First <= p.Second && p.First >= 0));
    }

    [Fact]
    public void An_es_ensemble_trains_saves_and_streams_through_the_commands()
    {
        // Its ES members see a week (7 seasons): 10 days of hourly rows are enough for the warm-up and two horizons.
        (string model, _) = Train("es-ensemble", Hourly("train.csv", 0, 24 * 10), "--horizon", "12");

        (int code, string error, JsonElement? result) = Forecast(model, Hourly("all.csv", 0, (24 * 10) + 5), 12, _workspace.Path("f.json"));

        Assert.True(code == 0, error);
        JsonElement first = result!.Value.GetProperty("forecasts")[0];
        Assert.Equal(new DateTimeOffset(2024, 5, 6, 0, 0, 0, TimeSpan.Zero).AddHours((24 * 10) + 5), first.GetProperty("start").GetDateTimeOffset());
        double[] lo = first.GetProperty("quantiles").GetProperty("0.05").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] mid = first.GetProperty("quantiles").GetProperty("0.5").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        double[] hi = first.GetProperty("quantiles").GetProperty("0.95").EnumerateArray().Select(e => e.GetDouble()).ToArray();
        Assert.All(Enumerable.Range(0, 12), j => Assert.True(lo[j] <= mid[j] && mid[j] <= hi[j] && lo[j] >= 0, $"step {j}"));
    }

    [Fact]
    public void Forecasting_on_the_training_file_adds_nothing_and_is_reproducible()
    {
        string data = Hourly("train.csv", 0, 24 * 6);
        (string model, _) = Train("gru", data, "--horizon", "6", "--seed", "3");

        (int c1, string e1, JsonElement? r1) = Forecast(model, data, 6, _workspace.Path("f1.json"));
        (int c2, string e2, JsonElement? r2) = Forecast(model, data, 6, _workspace.Path("f2.json"));

        Assert.True(c1 == 0, e1);
        Assert.True(c2 == 0, e2);
        Assert.Equal(0, r1!.Value.GetProperty("newObservations").GetInt32());
        Assert.Equal(File.ReadAllText(_workspace.Path("f1.json")), File.ReadAllText(_workspace.Path("f2.json")));
    }

    [Fact]
    public void A_gap_between_the_model_and_the_new_data_exits_2_naming_the_series()
    {
        (string model, _) = Train("seasonal-naive", Hourly("train.csv", 0, 24 * 3));

        (int code, string error, _) = Forecast(model, Hourly("later.csv", (24 * 3) + 2, (24 * 4) + 2), 4, _workspace.Path("f.json"));

        Assert.Equal(2, code);
        Assert.Contains("series '*/default/a' resumes at", error);
    }

    [Fact]
    public void A_skipped_row_is_a_filled_step_instead_of_shifting_the_series()
    {
        string json = _workspace.Path("holes.json");
        (int code, string error) = CliWorkspace.Run(
            "train", "--data", Hourly("holes.csv", 0, 48, skipRow: 20), "--model", "ets", "--out", _workspace.Path("m"), "--json", json);

        Assert.True(code == 0, error);
        JsonElement report = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(48 * 2, report.GetProperty("points").GetInt32());   // the missing hour is there, in both series
        Assert.Equal(1, report.GetProperty("fills").GetProperty("filledSteps").GetInt64());
        Assert.Equal(2, report.GetProperty("fills").GetProperty("filledCells").GetInt64());
        Assert.Contains("2 missing readings filled by linear-interpolation, 2 of them in 1 missing step of 3600 s", error);
    }

    [Fact]
    public void A_series_the_model_does_not_know_exits_2()
    {
        (string model, _) = Train("seasonal-naive", Hourly("train.csv", 0, 48));
        string other = _workspace.Write("other.csv", "timestamp,a,zzz\n2024-05-08T00:00:00Z,1,2\n2024-05-08T01:00:00Z,1,2\n2024-05-08T02:00:00Z,1,2\n");

        (int code, string error, _) = Forecast(model, other, 4, _workspace.Path("f.json"));

        Assert.Equal(2, code);
        Assert.Contains("'*/default/zzz' is not one the model was trained on", error);
    }

    [Fact]
    public void A_horizon_beyond_the_neural_head_exits_2()
    {
        string data = Hourly("train.csv", 0, 24 * 4);
        (string model, _) = Train("lstm", data, "--horizon", "4");

        (int code, string error, _) = Forecast(model, data, 5, _workspace.Path("f.json"));

        Assert.Equal(2, code);
        Assert.Contains("--horizon", error);
        Assert.Contains("1..4", error);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("")]
    public void A_file_that_is_not_a_model_exits_2_naming_it(string content)
    {
        string bad = _workspace.Write("bad.model", content);

        (int code, string error, _) = Forecast(bad, Hourly("d.csv", 0, 24), 2, _workspace.Path("f.json"));

        Assert.Equal(2, code);
        Assert.Contains("bad.model", error);
    }

    [Fact]
    public void Bad_train_options_exit_2()
    {
        string data = Hourly("d.csv", 0, 48);
        Assert.Equal(2, CliWorkspace.Run("train", "--data", data, "--model", "prophet", "--out", _workspace.Path("m")).Code);
        Assert.Equal(2, CliWorkspace.Run("train", "--data", data, "--model", "ets", "--out", _workspace.Path("m"), "--horizon", "0").Code);
        Assert.Equal(2, CliWorkspace.Run("train", "--data", data, "--model", "ets", "--out", _workspace.Path("missing", "m")).Code);
        Assert.Equal(2, CliWorkspace.Run("train", "--data", _workspace.Path("nope.csv"), "--model", "ets", "--out", _workspace.Path("m")).Code);
        Assert.Equal(2, CliWorkspace.Run("forecast", "--model", _workspace.Path("m"), "--data", data, "--horizon", "-1").Code);
    }
}
