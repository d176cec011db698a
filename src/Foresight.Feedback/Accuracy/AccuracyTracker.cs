using Foresight.Core.Forecasts;

namespace Foresight.Feedback.Accuracy;

/// <summary>
/// Rolling accuracy per (app, series) and per app. The app window holds the app's last N points across all of its
/// series, so a busy series weighs more, as it should for decisions taken on the app's total traffic.
/// </summary>
/// <typeparam name="TSeries">Series key within an app (a site index, a <c>TrafficKey</c>, ...).</typeparam>
public sealed class AccuracyTracker<TSeries>
    where TSeries : notnull
{
    private readonly int _seriesWindow;
    private readonly int _appWindow;
    private readonly Dictionary<(int App, TSeries Series), RollingAccuracy> _series = new();
    private readonly Dictionary<int, RollingAccuracy> _apps = new();

    /// <param name="seriesWindow">Points kept per series.</param>
    /// <param name="appWindow">Points kept per app (defaults to <paramref name="seriesWindow"/>).</param>
    public AccuracyTracker(int seriesWindow, int? appWindow = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seriesWindow, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(appWindow ?? seriesWindow, 1);
        _seriesWindow = seriesWindow;
        _appWindow = appWindow ?? seriesWindow;
    }

    public ScoredPoint Record(int app, TSeries series, double actual, Forecast forecastForThisPoint, int stepIndexInForecast, double seasonalNaiveValue)
    {
        ScoredPoint point = ScoredPoint.Score(actual, forecastForThisPoint, stepIndexInForecast, seasonalNaiveValue);
        Record(app, series, point);
        return point;
    }

    public void Record(int app, TSeries series, in ScoredPoint point)
    {
        if (!_series.TryGetValue((app, series), out RollingAccuracy? s))
        {
            s = new RollingAccuracy(_seriesWindow);
            _series.Add((app, series), s);
        }

        if (!_apps.TryGetValue(app, out RollingAccuracy? a))
        {
            a = new RollingAccuracy(_appWindow);
            _apps.Add(app, a);
        }

        s.Record(point);
        a.Record(point);
    }

    public AccuracySnapshot ForSeries(int app, TSeries series) =>
        _series.TryGetValue((app, series), out RollingAccuracy? s) ? s.Snapshot() : AccuracySnapshot.Empty;

    public AccuracySnapshot ForApp(int app) =>
        _apps.TryGetValue(app, out RollingAccuracy? a) ? a.Snapshot() : AccuracySnapshot.Empty;
}
