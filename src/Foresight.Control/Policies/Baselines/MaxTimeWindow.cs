namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// The maximum of the values recorded over a trailing window, indexed by whole ticks: a port of max.TimeWindow and
/// its descending-maxima window (knative/serving pkg/autoscaler/aggregation/max). KPA uses it for scale-down-delay.
/// </summary>
internal sealed class MaxTimeWindow
{
    private readonly (long Index, double Value)[] _maxima;
    private readonly long _granularitySeconds;
    private int _first;
    private int _length;

    public MaxTimeWindow(TimeSpan duration, TimeSpan granularity)
    {
        _granularitySeconds = (long)granularity.TotalSeconds;
        int size = (int)Math.Ceiling(duration / granularity);
        _maxima = new (long, double)[Math.Max(1, size)];
    }

    /// <summary>Records a value in the tick bucket of <paramref name="now"/> (index = whole seconds / granularity seconds).</summary>
    public void Record(TimeSpan now, double value)
    {
        long index = (long)Math.Floor(now.TotalSeconds) / _granularitySeconds;

        // Drop smaller values from the back: the new one is both larger and more recent.
        for (; _length > 0; _length--)
        {
            if (value < _maxima[At(_first + _length - 1)].Value)
            {
                break;
            }
        }

        // Drop values that have left the window from the front.
        while (_length > 0 && index - _maxima[_first].Index >= _maxima.Length)
        {
            _length--;
            _first = At(_first + 1);
        }

        // Several values at the same index: keep the largest.
        if (_length > 0)
        {
            (long lastIndex, double lastValue) = _maxima[At(_first + _length - 1)];
            if (lastIndex == index)
            {
                value = Math.Max(value, lastValue);
                _length--;
            }
        }

        _maxima[At(_first + _length)] = (index, value);
        _length++;
    }

    /// <summary>The maximum within the window as of the last record.</summary>
    public double Current => _maxima[_first].Value;

    private int At(int i) => i % _maxima.Length;
}
