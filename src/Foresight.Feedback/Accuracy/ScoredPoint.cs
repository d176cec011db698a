using Foresight.Core.Forecasts;

namespace Foresight.Feedback.Accuracy;

/// <summary>
/// One actual value scored against the forecast made for it. Scoring is separated from the rolling window so that
/// the same point can feed a series window and its app's window without being scored twice.
/// </summary>
/// <param name="Pinball">Pinball (quantile) loss averaged over the forecast's levels, in the units of the series.</param>
/// <param name="AbsError">|actual − median|: the point forecast used for MASE.</param>
/// <param name="NaiveAbsError">|actual − seasonal naive value|, or NaN when the naive value is unknown (first season).</param>
/// <param name="In80">Whether the actual lies in the central 80% interval (bounds included).</param>
/// <param name="In90">Whether the actual lies in the central 90% interval (bounds included).</param>
public readonly record struct ScoredPoint(double Pinball, double AbsError, double NaiveAbsError, bool In80, bool In90)
{
    /// <summary>Scores <paramref name="actual"/> against step <paramref name="step"/> of <paramref name="forecast"/>.</summary>
    /// <param name="seasonalNaiveValue">y(t−m), the seasonal naive forecast for this point; NaN when not yet known.</param>
    public static ScoredPoint Score(double actual, Forecast forecast, int step, double seasonalNaiveValue)
    {
        ArgumentNullException.ThrowIfNull(forecast);
        if (!double.IsFinite(actual))
        {
            throw new ArgumentOutOfRangeException(nameof(actual), actual, "The actual value must be finite.");
        }

        IReadOnlyList<double> levels = forecast.Levels;
        IReadOnlyList<IReadOnlyList<double>> values = forecast.Values;
        double pinball = 0;
        for (int i = 0; i < levels.Count; i++)
        {
            pinball += PinballLoss(actual, values[i][step], levels[i]);
        }

        // Quantile(q, step) interpolates between stored levels, so these work for any level set (no allocation).
        bool in80 = actual >= forecast.Quantile(0.1, step) && actual <= forecast.Quantile(0.9, step);
        bool in90 = actual >= forecast.Quantile(0.05, step) && actual <= forecast.Quantile(0.95, step);
        double naive = double.IsFinite(seasonalNaiveValue) ? Math.Abs(actual - seasonalNaiveValue) : double.NaN;
        return new ScoredPoint(pinball / levels.Count, Math.Abs(actual - forecast.Quantile(0.5, step)), naive, in80, in90);
    }

    /// <summary>The pinball loss of quantile <paramref name="predicted"/> at level <paramref name="tau"/>.</summary>
    public static double PinballLoss(double actual, double predicted, double tau)
    {
        double diff = actual - predicted;
        return diff >= 0 ? tau * diff : (tau - 1) * diff;
    }
}
