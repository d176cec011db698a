using Foresight.Control.Decision;
using Foresight.Core;
using Foresight.Forecasting;
using Foresight.Forecasting.Neural;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;

namespace Foresight.Cli.Commands;

/// <summary>
/// The pretrained global LSTM (docs/design/0023-pretrained-global-model.md): one network over every app and ingress site
/// of several traces, at the loop's resolution, that each app's online model starts from and fine-tunes.
/// </summary>
public static class GlobalModel
{
    /// <summary>The <c>--forecaster</c> name.</summary>
    public const string ModelName = "global-lstm";

    /// <summary>The shipped model file (bump the version when its inputs or shape change).</summary>
    public const string ShippedFile = "global-lstm-v1.fsm";

    /// <summary>Epochs of each fine-tune in the loop (at warm-up's end and at every refit).</summary>
    public const int FineTuneEpochs = 1;

    /// <summary>Steps between highway inputs' oldest and newest value: fixed, so the model depends on no season length.</summary>
    public const int Highway = 16;

    private const string Resource = "Foresight.Cli.models." + ShippedFile;

    /// <summary>
    /// The corpus: the built-in scenarios of the hourly development traces, all replayed at timeScale 60 (one 5 s
    /// bucket = 5 trace minutes). The model is trained for that resolution only; nasa (timeScale 1) is not in it, and the
    /// regime-change and degraded-network scenarios replay traces already listed.
    /// </summary>
    public static IReadOnlyList<string> CorpusScenarios { get; } = ["milan", "bikenyc", "melbourne", "bayarea"];

    /// <summary>Options of the offline training.</summary>
    public static RecurrentOptions TrainingOptions(int horizon, ulong seed, int hidden, int epochs, double timeScale) => new()
    {
        HiddenSize = hidden,
        Horizon = horizon,
        SeasonLength = 1, // no seasonal baseline: the head predicts offsets from the last value
        HighwayLength = Highway,
        MaxEpochs = epochs,
        Patience = 3,
        Seed = seed,
        CalendarTimeScale = timeScale,
        CalendarOrigin = DateTimeOffset.UnixEpoch,
    };

    /// <summary>Loads the training corpus: observed demand per (scenario, app, site), except scenarios whose trace an excluded scenario replays.</summary>
    /// <param name="exclude">Built-in scenario names; every corpus scenario replaying the same trace is left out (leave-one-out).</param>
    /// <param name="horizon">The longest forecast horizon any corpus scenario's loop asks for, in steps.</param>
    public static SeriesSet Corpus(IReadOnlyCollection<string> exclude, out IReadOnlyList<string> used, out int horizon, out double timeScale)
    {
        var excludedTraces = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in exclude)
        {
            if (!BuiltInScenarios.Contains(name))
            {
                throw new InvalidInputException("--exclude", $"unknown scenario '{name}'; built-in scenarios: {string.Join(", ", BuiltInScenarios.Names)}");
            }

            excludedTraces.Add(BuiltInScenarios.Load(name).Trace);
        }

        var series = new List<Series>();
        var names = new List<string>();
        horizon = 1;
        timeScale = 0;
        foreach (string name in CorpusScenarios)
        {
            ScenarioSpec spec = BuiltInScenarios.Load(name);
            SimulationScenario scenario = SimulateCommand.LoadScenario(new SimulateCommand.SimulateArgs(name, null, null, "hpa", null, null, null, null, Quiet: true));
            horizon = Math.Max(horizon, ScenarioRunner.HorizonSteps(scenario, new PredictiveOptions()));
            if (timeScale != 0 && scenario.TimeScale != timeScale)
            {
                throw new InvalidOperationException($"Corpus scenario '{name}' replays at timeScale {scenario.TimeScale}, not {timeScale}.");
            }

            timeScale = scenario.TimeScale;
            if (excludedTraces.Contains(spec.Trace))
            {
                continue;
            }

            names.Add(name);
            double[][][] buckets = ObservedDemand.Buckets(scenario, ScenarioRunner.ForecastStepSeconds);

            // Stamped so that CalendarOrigin (the Unix epoch) + (t - origin) × timeScale is the trace's wall clock.
            DateTimeOffset epoch = ScenarioRunner.SetupFor(scenario).Epoch;
            DateTimeOffset start = DateTimeOffset.UnixEpoch + ((epoch - DateTimeOffset.UnixEpoch) / scenario.TimeScale);
            for (int a = 0; a < buckets.Length; a++)
            {
                for (int i = 0; i < buckets[a].Length; i++)
                {
                    if (buckets[a][i].Any(v => v > 0))
                    {
                        series.Add(new Series($"{name}/{scenario.Apps[a].Name}/site{i}", buckets[a][i], start));
                    }
                }
            }
        }

        if (series.Count == 0)
        {
            throw new InvalidInputException("--exclude", "every corpus scenario is excluded; nothing to train on");
        }

        used = names;
        return new SeriesSet(TimeSpan.FromSeconds(ScenarioRunner.ForecastStepSeconds), series, seasonLength: 1, source: "global corpus");
    }

    /// <summary>
    /// Reads a pretrained global model: <paramref name="path"/>, or the shipped file when null. Any problem is an
    /// <see cref="InvalidInputException"/> naming the file.
    /// </summary>
    /// <param name="horizon">Steps the loop will ask for; the model must predict at least that far.</param>
    public static RecurrentForecaster Load(string? path, int horizon)
    {
        string label = path ?? $"{ShippedFile} (shipped with the CLI)";
        IForecaster model;
        try
        {
            using Stream stream = path is null
                ? typeof(GlobalModel).Assembly.GetManifestResourceStream(Resource)
                    ?? throw new InvalidInputException(label, "this build ships no pretrained model; give --pretrained FILE (see `foresight train global`)")
                : File.Exists(path) ? File.OpenRead(path) : throw new InvalidInputException(path, "file not found", field: "--pretrained");
            model = ForecasterFile.Load(stream);
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidInputException(label, $"not a usable pretrained model: {e.Message}", inner: e);
        }

        if (model is not LstmForecaster lstm)
        {
            throw new InvalidInputException(label, $"holds a '{model.Name}' model; {ModelName} starts from an lstm network");
        }

        if (lstm.SeasonLength != 1 || lstm.ExogenousCount != 0)
        {
            throw new InvalidInputException(label,
                $"is not a global model of this version (season length {lstm.SeasonLength}, {lstm.ExogenousCount} exogenous inputs; v1 has 1 and 0); train one with `foresight train global`");
        }

        if (lstm.Horizon < horizon)
        {
            throw new InvalidInputException(label, $"predicts {lstm.Horizon} steps ahead; this scenario needs {horizon}");
        }

        return lstm;
    }

    /// <summary>
    /// Each app's model: starts from the pretrained weights and fine-tunes on the app's own history; refits then
    /// warm-start from the app's current model (<see cref="IWarmStartForecaster"/>), so nothing is fitted from scratch.
    /// </summary>
    /// <param name="timeScale">Trace seconds per second of the loop's clock, so calendar features read trace time.</param>
    /// <param name="origin">The loop's time of trace time <paramref name="origin"/> (the replay's start).</param>
    public static Func<IForecaster> Factory(RecurrentForecaster pretrained, double timeScale, DateTimeOffset origin)
    {
        ArgumentNullException.ThrowIfNull(pretrained);
        RecurrentOptions tune = pretrained.Options with
        {
            FineTuneEpochs = FineTuneEpochs,
            LearningRate = 1e-3f,
            ValidationSteps = 2 * pretrained.Horizon,
            // Long histories train on sampled windows and score the tail from one window back, so a refit costs about the
            // same at any history length (whole-series passes over 2,000 buckets made each fit 2.5 s).
            MaxWindowsPerEpoch = 32,
            WindowLength = 96,
            PrimeSteps = 192,
            CalendarTimeScale = timeScale,
            CalendarOrigin = origin,
        };
        return () => pretrained.WarmStart(tune);
    }
}
