using System.Text.Json;

namespace Foresight.Cli.Tests;

public sealed class BacktestCommandTests : IDisposable
{
    private readonly CliWorkspace _workspace = new();

    public void Dispose() => _workspace.Dispose();

    [Fact]
    public void M4_hourly_seasonal_naive_reproduces_the_official_benchmark_row()
    {
        string json = _workspace.Path("bt.json");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", "m4-hourly", "--model", "seasonal-naive", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        JsonElement r = doc.RootElement;
        foreach (string field in new[] { "model", "dataset", "series", "horizon", "smape", "mase", "owa", "msis", "coverage95", "trainSeconds", "predictSeconds" })
        {
            Assert.True(r.TryGetProperty(field, out _), $"missing {field}");
        }

        Assert.Equal(414, r.GetProperty("series").GetInt32());
        Assert.Equal(48, r.GetProperty("horizon").GetInt32());
        Assert.Equal(13.912, r.GetProperty("smape").GetDouble(), 3); // the official sNaive row
        Assert.Equal(1.193, r.GetProperty("mase").GetDouble(), 3);
        Assert.Equal(0.627, r.GetProperty("owa").GetDouble(), 2);
    }

    [Fact]
    public void A_trace_is_backtested_from_rolling_origins()
    {
        var lines = new List<string> { "hour,a,b" };
        for (int h = 0; h < 24 * 10; h++)
        {
            lines.Add($"{h},{50 + (40 * Math.Sin(h * Math.PI / 12)) + (h * 7 % 5):F1},{80 + (10 * Math.Cos(h * Math.PI / 12)) + (h * 3 % 5):F1}");
        }

        string trace = _workspace.Write("daily.csv", string.Join('\n', lines) + "\n");
        string json = _workspace.Path("bt.json");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "seasonal-naive", "--horizon", "24", "--windows", "2", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("series").GetInt32());
        Assert.True(doc.RootElement.GetProperty("mase").GetDouble() > 0);
    }

    [Fact]
    public void Origins_can_be_closer_than_the_horizon_and_the_season_can_be_set()
    {
        var lines = new List<string> { "second,requests" };
        for (int t = 0; t < 600; t++)
        {
            lines.Add($"{t},{(t * 7 % 11) + (t % 60 < 30 ? 5 : 0)}");
        }

        string trace = _workspace.Write("seconds.csv", string.Join('\n', lines) + "\n");
        string json = _workspace.Path("bt.json");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "seasonal-naive", "--horizon", "30", "--windows", "20", "--step-size", "10", "--season", "60", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(20, doc.RootElement.GetProperty("windows").GetInt32());
        Assert.Equal(2, CliWorkspace.Run("backtest", "--data", trace, "--model", "ets", "--season", "0").Code);
        Assert.Equal(2, CliWorkspace.Run("backtest", "--data", trace, "--model", "ets", "--step-size", "-5").Code);
        (int tooMany, string message) = CliWorkspace.Run("backtest", "--data", trace, "--model", "ets", "--horizon", "30", "--windows", "100", "--step-size", "10");
        Assert.Equal(2, tooMany);
        Assert.Contains("too short for 100 windows of 30 steps every 10", message);
    }

    [Theory]
    [InlineData("--horizon", "-3", "--horizon")]
    [InlineData("--model", "prophet", "unknown model 'prophet'")]
    [InlineData("--windows", "0", "--windows")]
    public void Bad_options_exit_2(string option, string value, string expected)
    {
        string[] args = option == "--model"
            ? ["backtest", "--data", "m4-hourly", "--model", value]
            : ["backtest", "--data", "m4-hourly", "--model", "ets", option, value];
        (int code, string error) = CliWorkspace.Run(args);

        Assert.Equal(2, code);
        Assert.Contains(expected, error);
    }

    [Fact]
    public void A_series_too_short_for_the_windows_exits_2_naming_it()
    {
        string trace = _workspace.Write("short.csv", "hour,x\n0,1\n1,2\n2,3\n3,4\n4,5\n5,6\n");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "ets", "--horizon", "4");

        Assert.Equal(2, code);
        Assert.Contains("too short", error);
        Assert.Contains("short.csv", error);
    }

    [Fact]
    public void A_nan_in_the_data_exits_2_naming_file_and_line()
    {
        string trace = _workspace.Write("nan.csv", "hour,x\n0,1\n1,NaN\n2,3\n");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "ets");

        Assert.Equal(2, code);
        Assert.Contains("nan.csv:3", error);
    }

    [Fact]
    public void Exogenous_columns_are_covariates_of_the_other_series_not_series_themselves()
    {
        var lines = new List<string> { "hour,a,b,latency" };
        for (int h = 0; h < 24 * 8; h++)
        {
            double latency = 10 + (h * 5 % 7);
            lines.Add($"{h},{50 + (40 * Math.Sin(h * Math.PI / 12)) + latency:F1},{80 + (10 * Math.Cos(h * Math.PI / 12)) + (h * 3 % 5):F1},{latency:F1}");
        }

        string trace = _workspace.Write("exog.csv", string.Join('\n', lines) + "\n");
        string json = _workspace.Path("bt.json");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "gru", "--horizon", "12", "--windows", "2", "--exog", "latency", "--json", json);

        Assert.True(code == 0, error);
        using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(json));
        Assert.Equal(2, doc.RootElement.GetProperty("series").GetInt32());
        Assert.True(doc.RootElement.GetProperty("mase").GetDouble() > 0);
    }

    [Theory]
    [InlineData("jitter", "column 'jitter' is not in")]
    [InlineData("a,b,latency", "at least one must remain a series")]
    [InlineData("latency,latency", "named twice")]
    [InlineData("latency,", "comma-separated column names")]
    public void Bad_exogenous_columns_exit_2_naming_them(string exog, string expected)
    {
        string trace = _workspace.Write("exog.csv", "hour,a,b,latency\n0,1,2,3\n1,2,3,4\n2,3,4,5\n3,4,5,6\n");
        (int code, string error) = CliWorkspace.Run("backtest", "--data", trace, "--model", "ets", "--horizon", "1", "--exog", exog);

        Assert.Equal(2, code);
        Assert.Contains(expected, error);
        Assert.Contains("--exog", error);
    }
}
