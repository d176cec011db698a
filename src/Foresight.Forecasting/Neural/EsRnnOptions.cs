using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Neural;

/// <summary>Options of <see cref="EsRnnForecaster"/>. Defaults are not tuned to any data set.</summary>
public sealed record EsRnnOptions
{
    public CellKind Cell { get; init; } = CellKind.Lstm;

    public int HiddenSize { get; init; } = 32;

    /// <summary>Recurrent layers; with <see cref="Residual"/> at least 2.</summary>
    public int Layers { get; init; } = 2;

    /// <summary>The head reads the sum of the top two layers' outputs (a residual stack).</summary>
    public bool Residual { get; init; } = true;

    /// <summary>K: steps the head predicts. <see cref="IForecaster.Predict"/> accepts any horizon up to K.</summary>
    public int Horizon { get; init; } = 48;

    public IReadOnlyList<double> Levels { get; init; } = Forecast.DefaultLevels;

    /// <summary>m of the smoothing; null takes <see cref="SeriesSet.SeasonLength"/>.</summary>
    public int? SeasonLength { get; init; }

    /// <summary>W: deseasonalised past values per input; null gives <see cref="InputSeasons"/>·m (or 16 when m = 1).</summary>
    public int? InputWindow { get; init; }

    /// <summary>
    /// Seasons in the default input window: 7 on hourly data (m = 24) shows the network the last week, so it can learn
    /// the weekly pattern that one daily seasonality leaves in the deseasonalised values.
    /// </summary>
    public int InputSeasons { get; init; } = 1;

    /// <summary>Series per mini-batch; each runs whole from its start (full BPTT through the smoothing).</summary>
    public int BatchSize { get; init; } = 8;

    /// <summary>A safety bound: early stopping on the held-out loss (<see cref="Patience"/>) ends training first.</summary>
    public int MaxEpochs { get; init; } = 60;

    public int Patience { get; init; } = 4;

    public float LearningRate { get; init; } = 3e-3f;

    /// <summary>Adam's rate for the per-series smoothing parameters (they see one series' gradient, not a batch's).</summary>
    public float SmoothingLearningRate { get; init; } = 1e-2f;

    public float WeightDecay { get; init; } = 1e-4f;

    public float ClipNorm { get; init; } = 1f;

    /// <summary>λ of the level variability penalty (Smyl's); 0 disables.</summary>
    public float LevelPenalty { get; init; } = 1f;

    /// <summary>c in z = log(y/scale + c) for series non-negative at fit; keeps the log finite at zero.</summary>
    public double LogShift { get; init; } = 0.1;

    public ulong Seed { get; init; } = 1;

    /// <summary>Steps from a series' start before the loss counts; null gives max(W, m).</summary>
    public int? WarmupSteps { get; init; }

    internal void Validate()
    {
        if (HiddenSize < 1 || Layers < 1 || (Residual && Layers < 2) || Horizon < 1 || BatchSize < 1 || MaxEpochs < 0 || Patience < 0
            || InputWindow < 1 || InputSeasons < 1 || SeasonLength < 1 || WarmupSteps < 0 || LevelPenalty < 0 || !(LogShift > 0) || !(LearningRate > 0) || !(SmoothingLearningRate > 0))
        {
            throw new ArgumentException($"Invalid ES-RNN options: {this}.");
        }
    }
}
