namespace Foresight.Feedback.Drift;

/// <summary>Which change of the mean a detector reports.</summary>
public enum DriftDirection
{
    /// <summary>Only increases (errors growing: the usual case for an error stream).</summary>
    Up,
    Down,
    Both,
}

/// <summary>
/// Page-Hinkley test for a change in the mean of a stream (Page 1954; as in MOA and River). It accumulates the
/// deviations from the running mean minus a tolerance <c>delta</c> and reports drift when the cumulative sum rises
/// more than <c>lambda</c> above its minimum. O(1) per point, no allocation; after a detection it starts afresh.
/// </summary>
/// <remarks>
/// The distance above the minimum is kept directly, G = max(0, alpha·G + x − mean − delta), which equals
/// S − min S when alpha = 1. Forgetting is applied to G rather than to S (as River does) because a faded S settles
/// near −delta/(1 − alpha) with a spread of about 1/√(1 − alpha²), so S − min S alarms on stationary noise unless
/// lambda grows with that spread; fading G only ever weakens old evidence.
/// </remarks>
public sealed class PageHinkley : IDriftDetector
{
    private readonly double _delta;
    private readonly double _lambda;
    private readonly double _alpha;
    private readonly int _minInstances;
    private readonly DriftDirection _direction;
    private long _n;
    private double _mean;
    private double _gapUp;
    private double _gapDown;

    /// <param name="delta">Magnitude of change tolerated (in the units of the stream); about half the shift to detect.</param>
    /// <param name="lambda">Detection threshold: larger means fewer false alarms and later detection.</param>
    /// <param name="alpha">Forgetting factor of the cumulative sum in (0, 1]; 1 forgets nothing.</param>
    /// <param name="minInstances">Points seen before any detection, so the running mean has settled.</param>
    public PageHinkley(double delta, double lambda, double alpha = 1.0, int minInstances = 30, DriftDirection direction = DriftDirection.Up)
    {
        if (!(delta >= 0) || double.IsInfinity(delta))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "delta must be finite and non-negative.");
        }

        if (!(lambda > 0) || double.IsInfinity(lambda))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be finite and positive.");
        }

        if (!(alpha is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must lie in (0, 1].");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(minInstances, 1);
        _delta = delta;
        _lambda = lambda;
        _alpha = alpha;
        _minInstances = minInstances;
        _direction = direction;
    }

    /// <summary>Points seen since the last reset.</summary>
    public long Count => _n;

    /// <summary>Current test statistic (the larger of the directions watched); drift when it exceeds lambda.</summary>
    public double Statistic => Math.Max(_direction == DriftDirection.Down ? 0 : _gapUp, _direction == DriftDirection.Up ? 0 : _gapDown);

    /// <summary>Adds one point; true when drift is detected, after which the detector has reset.</summary>
    public bool Add(double x)
    {
        if (!double.IsFinite(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Stream values must be finite.");
        }

        _n++;
        _mean += (x - _mean) / _n;
        double dev = x - _mean;
        _gapUp = Math.Max(0, (_alpha * _gapUp) + dev - _delta);
        _gapDown = Math.Max(0, (_alpha * _gapDown) - dev - _delta);

        if (_n < _minInstances || Statistic <= _lambda)
        {
            return false;
        }

        Reset();
        return true;
    }

    public void Reset()
    {
        _n = 0;
        _mean = _gapUp = _gapDown = 0;
    }
}
