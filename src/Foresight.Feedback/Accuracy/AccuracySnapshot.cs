namespace Foresight.Feedback.Accuracy;

/// <summary>Accuracy over a rolling window. Each figure is null while it is undefined (no points, or no naive error).</summary>
/// <param name="Points">Scored points currently in the window.</param>
/// <param name="MeanPinball">Pinball loss averaged over the window (and over each forecast's levels).</param>
/// <param name="Coverage80">Share of actuals inside the central 80% interval (nominal 0.8).</param>
/// <param name="Coverage90">Share of actuals inside the central 90% interval (nominal 0.9).</param>
/// <param name="Mase">
/// Mean |error| / mean |y(t) − y(t−m)| over the window's points whose seasonal naive value was known; below 1 beats
/// seasonal naive. Null while no such point exists or the naive error is zero.
/// </param>
/// <param name="MasePoints">Points that entered <paramref name="Mase"/>.</param>
public sealed record AccuracySnapshot(int Points, double? MeanPinball, double? Coverage80, double? Coverage90, double? Mase, int MasePoints)
{
    public static AccuracySnapshot Empty { get; } = new(0, null, null, null, null, 0);
}
