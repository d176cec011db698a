using Foresight.Control.Decision;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Calibration;
using Foresight.Forecasting.Ensembles;
using Foresight.Forecasting.Neural;
using Foresight.Feedback;
using Foresight.Forecasting.Baselines;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;

namespace Foresight.Cli.Commands;

/// <summary>Composes the forecaster the predictive policy reads in a simulation: models learn online from observations.</summary>
public static class PredictiveForecasting
{
    /// <summary>Trace days observed before the first fit.</summary>
    public const double WarmupTraceDays = ScenarioRunner.WarmupTraceDays;

    public static IDemandForecaster For(SimulationScenario scenario) => For(scenario, DefaultModel, feedback: true);

    /// <summary>The --calibration values: rolling conformal calibration of the forecasts in the loop (design note 0022).</summary>
    public static IReadOnlyList<string> CalibrationModes { get; } = ["on", "off"];

    /// <summary>Reads --calibration: on (the default) or off.</summary>
    public static bool ParseCalibration(string? mode) => (mode?.Trim().ToLowerInvariant() ?? "on") switch
    {
        "on" => true,
        "off" => false,
        _ => throw new InvalidInputException("--calibration", $"unknown value '{mode}'; choose from {string.Join(", ", CalibrationModes)}"),
    };

    /// <summary>Damped Holt-Winters: on the development traces its 5-30 s forecasts have about half the error of seasonal naive.</summary>
    public const string DefaultModel = "ets";


    /// <summary>The quantile average of the pretrained global LSTM and ETS, each fitted as alone.</summary>
    public const string GlobalPlusEts = GlobalModel.ModelName + "+ets";

    /// <summary>Whether the model starts from a pretrained file (<c>--pretrained</c>, or the shipped one).</summary>
    public static bool UsesPretrained(string model) => model is GlobalModel.ModelName or GlobalPlusEts;

    /// <summary>Every model the loop can run: the backtest's models and the pretrained global one (alone and with ETS).</summary>
    public static IReadOnlyList<string> Models { get; } = [.. BacktestCommand.Models, GlobalModel.ModelName, GlobalPlusEts];

    /// <param name="model">seasonal-naive, ets, lstm, gru or global-lstm (see <see cref="Models"/>).</param>
    /// <param name="feedback">Retrain on schedule and fall back to reactive when forecasts are worse than naive.</param>
    /// <param name="pretrained">The global model's file (null: the shipped one); only read for global-lstm.</param>
    /// <param name="calibration">Calibrate the forecasts' quantiles in the loop (rolling conformal).</param>
    public static IDemandForecaster For(SimulationScenario scenario, string model, bool feedback, string? pretrained = null, bool calibration = true)
    {
        double bucket = ScenarioRunner.ForecastStepSeconds;
        double simDay = 86_400 / scenario.TimeScale;
        var options = new OnlineForecasterOptions
        {
            BucketSeconds = bucket,
            HorizonSteps = ScenarioRunner.HorizonSteps(scenario, new PredictiveOptions()),
            WarmupSeconds = ScenarioRunner.WarmupSeconds(scenario),
            RefitEverySeconds = simDay,
            SeasonLength = Math.Max(1, (int)Math.Round(simDay / bucket)),
            HistoryBuckets = Math.Max(4 * (int)Math.Round(simDay / bucket), 2_000),
            Epoch = ScenarioRunner.SetupFor(scenario).Epoch,
            Feedback = feedback,
            RecentRetrainBuckets = Math.Max(2 * (int)Math.Round(simDay / bucket), 100),
            AppNames = scenario.Apps.Select(a => a.Name).ToArray(),
            Calibration = calibration ? new RollingCalibrationOptions() : null,
        };
        Func<IForecaster> Global() => GlobalModel.Factory(GlobalModel.Load(pretrained, options.HorizonSteps), scenario.TimeScale, options.Epoch);
        Func<IForecaster> factory = model switch
        {
            GlobalModel.ModelName => Global(),
            GlobalPlusEts => WithEts(Global()),
            _ => ModelFactory(model, options.HorizonSteps, options.SeasonLength),
        };
        return new OnlineDemandForecaster(scenario.Apps.Count, scenario.Topology.SiteCount, factory, options);
    }

    /// <summary>
    /// ETS reads the daily profile (it anticipates a ramp from yesterday's), the global LSTM the recent buckets and the
    /// calendar; their quantile average keeps both. A refit builds a new ensemble, whose LSTM starts from the
    /// pretrained weights again (never from scratch).
    /// </summary>
    private static Func<IForecaster> WithEts(Func<IForecaster> global) =>
        () => new EnsembleForecaster(GlobalPlusEts, [global(), new EtsForecaster()]);

    /// <summary>Builds fresh models of the named kind (seasonal-naive, ets, lstm or gru).</summary>
    public static Func<IForecaster> ModelFactory(string model, int horizon, int seasonLength)
    {
        var neural = new RecurrentOptions { Horizon = horizon, SeasonLength = seasonLength, MaxEpochs = 10 };
        return model switch
        {
            "seasonal-naive" => () => new SeasonalNaiveForecaster(),
            "ets" => () => new EtsForecaster(),
            "lstm" => () => new LstmForecaster(neural),
            "gru" => () => new GruForecaster(neural),
            EsRnnForecaster.LstmName => () => new EsRnnForecaster(new EsRnnOptions { Horizon = horizon, SeasonLength = seasonLength, MaxEpochs = 10 }),
            _ => throw new InvalidInputException("--forecaster", $"unknown model '{model}'; choose from {string.Join(", ", BacktestCommand.Models)}"),
        };
    }
}
