using Foresight.Core.Forecasts;

namespace Foresight.Forecasting;

/// <summary>
/// A forecaster for the series of one application (global across them), in the style of GluonTS / statsforecast.
/// </summary>
/// <remarks>
/// Life cycle: <see cref="Fit"/> once on a history, then any number of <see cref="Update"/> (streaming: each new
/// observation costs O(1) model work, never a re-run of the history) and <see cref="Predict"/> calls.
/// <see cref="Save"/> writes a versioned file that <see cref="ForecasterFile.Load"/> reads back into an equivalent model
/// (same predictions). Implementations are not thread-safe: one caller at a time.
/// </remarks>
public interface IForecaster
{
    /// <summary>The model's name as used on the command line ("seasonal-naive", "ets", "lstm", "gru").</summary>
    string Name { get; }

    bool IsFitted { get; }

    /// <summary>Fits the model on <paramref name="history"/>; the forecast origin is then the end of each series.</summary>
    void Fit(SeriesSet history, CancellationToken cancellationToken = default);

    /// <summary>
    /// Appends new observations to the series they name (a subset of the fitted series, possibly with zero values) and
    /// moves each forecast origin forward. Does not refit parameters.
    /// </summary>
    /// <exception cref="ArgumentException">A series was not seen in <see cref="Fit"/>.</exception>
    void Update(SeriesSet newObservations);

    /// <summary>One forecast per fitted series (in fit order), starting one step after its last observation.</summary>
    IReadOnlyList<Forecast> Predict(int horizon);

    /// <summary>Writes the fitted model (parameters and streaming state) in the versioned format of <see cref="ForecasterFile"/>.</summary>
    void Save(Stream stream);
}
