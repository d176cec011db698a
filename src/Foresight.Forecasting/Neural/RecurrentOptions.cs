using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Neural;

/// <summary>Options of <see cref="LstmForecaster"/> and <see cref="GruForecaster"/>. Defaults are not tuned to any data set.</summary>
public sealed record RecurrentOptions
{
    public int HiddenSize { get; init; } = 32;

    public int Layers { get; init; } = 2;

    /// <summary>K: steps the head predicts. <see cref="IForecaster.Predict"/> accepts any horizon up to K.</summary>
    public int Horizon { get; init; } = 48;

    public IReadOnlyList<double> Levels { get; init; } = Forecast.DefaultLevels;

    /// <summary>m for the seasonal-naive baseline; null takes <see cref="SeriesSet.SeasonLength"/>.</summary>
    public int? SeasonLength { get; init; }

    /// <summary>E: recent scaled values fed straight to the head; null gives m when m &gt; 1, else 16.</summary>
    public int? HighwayLength { get; init; }

    /// <summary>Truncated BPTT length: gradients flow back at most this many steps; the state carries on across chunks.</summary>
    public int TbpttLength { get; init; } = 48;

    /// <summary>Series per mini-batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>A safety bound: early stopping on the held-out loss (<see cref="Patience"/>) ends training first.</summary>
    public int MaxEpochs { get; init; } = 80;

    /// <summary>Epochs without a better validation loss before stopping.</summary>
    public int Patience { get; init; } = 4;

    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Factor applied to the learning rate after each epoch that does not improve the validation loss.</summary>
    public float LearningRateDecay { get; init; } = 1f;

    public float WeightDecay { get; init; } = 1e-4f;

    public float ClipNorm { get; init; } = 1f;

    public ulong Seed { get; init; } = 1;

    /// <summary>
    /// Mini-batch shards whose gradients are summed in a fixed order. Fixed (not the core count), so the result does
    /// not depend on the machine; shards run in parallel on up to <see cref="MaxDegreeOfParallelism"/> threads.
    /// </summary>
    public int Shards { get; init; } = 2;

    /// <summary>Threads (null: all cores). Changing it never changes the model.</summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>
    /// Held-out steps at the end of each series for early stopping, scored from an origin every <see cref="Horizon"/>
    /// steps; null gives <see cref="Horizon"/> (one origin), or with sampled windows the larger of that and 5% of the
    /// shortest series. 0 disables.
    /// </summary>
    public int? ValidationSteps { get; init; }

    /// <summary>
    /// Bounds an epoch's cost: when the training parts of the series, cut into windows of <see cref="WindowLength"/>,
    /// would give more windows than this, each epoch instead trains on this many windows drawn uniformly (seeded) over
    /// every series' training positions, each from a zero state. Null always trains each series whole from its start.
    /// </summary>
    public int? MaxWindowsPerEpoch { get; init; } = 2048;

    /// <summary>Steps per sampled window (see <see cref="MaxWindowsPerEpoch"/>); null gives 4·<see cref="TbpttLength"/>.</summary>
    public int? WindowLength { get; init; }

    /// <summary>Steps from a series' start before the loss counts (the state warms up); null gives max(m, 8).</summary>
    public int? WarmupSteps { get; init; }

    /// <summary>Level-free inputs beside the scaled value: deviation from the last season's mean and the seasonal difference.</summary>
    public bool LocalInputs { get; init; } = true;

    /// <summary>Model log(y/scale + 0.1) for series that are non-negative at fit: errors become relative, like sMAPE's.</summary>
    public bool LogTransform { get; init; } = true;

    /// <summary>Hour-of-day and day-of-week features (sin/cos) when the series have timestamps.</summary>
    public bool CalendarFeatures { get; init; } = true;

    /// <summary>
    /// Epochs of a fit that starts from another model's weights (<see cref="RecurrentForecaster.WarmStart"/>); null takes
    /// <see cref="MaxEpochs"/>. The starting weights count as epoch 0: a fine-tune that scores worse on the held-out
    /// tail than them keeps them.
    /// </summary>
    public int? FineTuneEpochs { get; init; }

    /// <summary>
    /// Calendar features read the time <c>CalendarOrigin + (t - CalendarOrigin) × CalendarTimeScale</c>: a replay that runs
    /// the trace faster than real time (the simulator's timeScale) still sees the trace's hour of day and day of week.
    /// </summary>
    public double CalendarTimeScale { get; init; } = 1;

    /// <summary>The instant that <see cref="CalendarTimeScale"/> stretches time from (a replay's start).</summary>
    public DateTimeOffset CalendarOrigin { get; init; } = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// After a fit, stream only each series' last this many values into its state (from zero, as sampled training windows
    /// start) instead of the whole history; null streams everything. Bounds a refit's cost on long histories.
    /// </summary>
    public int? PrimeSteps { get; init; }

    internal void Validate()
    {
        if (HiddenSize < 1 || Layers < 1 || Horizon < 1 || TbpttLength < 1 || BatchSize < 1 || MaxEpochs < 0 || Shards < 1 || Patience < 0 || !(LearningRateDecay > 0 && LearningRateDecay <= 1)
            || MaxWindowsPerEpoch < 1 || WindowLength < 1 || ValidationSteps < 0 || WarmupSteps < 0 || FineTuneEpochs < 0 || PrimeSteps < 1
            || !(CalendarTimeScale > 0) || !double.IsFinite(CalendarTimeScale))
        {
            throw new ArgumentException($"Invalid recurrent options: {this}.");
        }
    }
}
