using Foresight.Core.Forecasts;

namespace Foresight.Feedback.Accuracy;

/// <summary>
/// Accuracy over the last <see cref="Capacity"/> scored points of one stream (a series, or all series of an app).
/// A ring buffer with running sums: recording is O(1) and allocation-free, reading builds one small snapshot.
/// </summary>
public sealed class RollingAccuracy
{
    private readonly ScoredPoint[] _window;
    private int _next;
    private int _count;
    private long _recorded;
    private double _pinballSum;
    private double _absErrorSum;
    private double _naiveSum;
    private int _naiveCount;
    private int _in80;
    private int _in90;

    public RollingAccuracy(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _window = new ScoredPoint[capacity];
    }

    public int Capacity => _window.Length;

    /// <summary>Points in the window.</summary>
    public int Count => _count;

    /// <summary>Points recorded since creation (including those that have left the window).</summary>
    public long Recorded => _recorded;

    /// <summary>Scores and records one point; see <see cref="ScoredPoint.Score"/>.</summary>
    public ScoredPoint Record(double actual, Forecast forecastForThisPoint, int stepIndexInForecast, double seasonalNaiveValue)
    {
        ScoredPoint point = ScoredPoint.Score(actual, forecastForThisPoint, stepIndexInForecast, seasonalNaiveValue);
        Record(point);
        return point;
    }

    public void Record(in ScoredPoint point)
    {
        if (_count == _window.Length)
        {
            Apply(_window[_next], -1);
        }
        else
        {
            _count++;
        }

        _window[_next] = point;
        Apply(point, +1);
        _next = (_next + 1) % _window.Length;
        _recorded++;

        // Running sums of doubles drift after many add/subtract pairs; re-sum exactly once per lap (amortised O(1)).
        if (_next == 0 && _count == _window.Length)
        {
            Resum();
        }
    }

    public AccuracySnapshot Snapshot()
    {
        if (_count == 0)
        {
            return AccuracySnapshot.Empty;
        }

        double? mase = _naiveCount > 0 && _naiveSum > 0 ? _absErrorSum / _naiveSum : null;
        return new AccuracySnapshot(
            _count,
            _pinballSum / _count,
            (double)_in80 / _count,
            (double)_in90 / _count,
            mase,
            _naiveCount);
    }

    public void Clear()
    {
        _next = 0;
        _count = 0;
        Resum();
    }

    private void Apply(in ScoredPoint p, int sign)
    {
        _pinballSum += sign * p.Pinball;
        _in80 += p.In80 ? sign : 0;
        _in90 += p.In90 ? sign : 0;

        // MASE uses only the points whose naive value was known, so numerator and denominator cover the same points.
        if (!double.IsNaN(p.NaiveAbsError))
        {
            _absErrorSum += sign * p.AbsError;
            _naiveSum += sign * p.NaiveAbsError;
            _naiveCount += sign;
        }
    }

    private void Resum()
    {
        _pinballSum = _absErrorSum = _naiveSum = 0;
        _naiveCount = _in80 = _in90 = 0;
        for (int i = 0; i < _count; i++)
        {
            Apply(_window[i], +1);
        }
    }
}
