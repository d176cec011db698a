using Foresight.Core.Forecasts;

namespace Foresight.Control.Decision;

/// <summary>
/// Predicts the arrival rate of each (app, ingress site) from what has been observed so far. The predictive policy sees
/// the future only through this; the oracle's implementation is the one place that reads the true demand ahead of time.
/// </summary>
public interface IDemandForecaster
{
    /// <summary>Simulated seconds per forecast step.</summary>
    double StepSeconds { get; }

    /// <summary>Forecast steps produced by <see cref="Predict"/>.</summary>
    int HorizonSteps { get; }

    /// <summary>Records the requests per second that entered at each site during the step that ended at <paramref name="time"/>.</summary>
    void Observe(int app, double time, ReadOnlySpan<double> ratesBySite);

    /// <summary>The predicted arrival rate (req/s) at the site for the steps after <paramref name="now"/>, or null if it cannot predict yet.</summary>
    Forecast? Predict(int app, int site, double now);
}

/// <summary>How well a forecaster has done so far, for results and status.</summary>
/// <param name="Mase">Mean absolute error of the median over the scored steps, scaled by the seasonal naive error (below 1 beats it).</param>
/// <param name="Coverage90">Share of actual values inside the forecast's central 90% interval.</param>
/// <param name="ScoredPoints">How many (actual, forecast step) pairs were scored.</param>
public sealed record ForecastAccuracy(double? Mase, double? Coverage90, long ScoredPoints);

/// <summary>A forecaster that scores its own forecasts against what it later observes.</summary>
public interface IScoredForecaster
{
    ForecastAccuracy Accuracy { get; }
}
