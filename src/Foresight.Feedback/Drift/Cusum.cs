namespace Foresight.Feedback.Drift;

/// <summary>
/// Tabular CUSUM (Page 1954, Montgomery's form) against a reference mean learned from the first
/// <c>warmup</c> points after each reset: S = max(0, S + x − μ0 − k), drift when S > h (and mirrored downwards).
/// Unlike <see cref="PageHinkley"/> the reference stays fixed after warm-up, so a slow drift is not absorbed into it.
/// </summary>
public sealed class Cusum : IDriftDetector
{
    private readonly double _k;
    private readonly double _h;
    private readonly int _warmup;
    private readonly DriftDirection _direction;
    private long _n;
    private double _reference;
    private double _up;
    private double _down;

    /// <param name="k">Slack per point (in stream units); about half the shift to detect.</param>
    /// <param name="h">Decision threshold.</param>
    /// <param name="warmup">Points averaged into the reference mean before monitoring starts.</param>
    public Cusum(double k, double h, int warmup = 30, DriftDirection direction = DriftDirection.Up)
    {
        if (!(k >= 0) || double.IsInfinity(k))
        {
            throw new ArgumentOutOfRangeException(nameof(k), k, "k must be finite and non-negative.");
        }

        if (!(h > 0) || double.IsInfinity(h))
        {
            throw new ArgumentOutOfRangeException(nameof(h), h, "h must be finite and positive.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(warmup, 1);
        _k = k;
        _h = h;
        _warmup = warmup;
        _direction = direction;
    }

    public long Count => _n;

    public double Statistic => Math.Max(_direction == DriftDirection.Down ? 0 : _up, _direction == DriftDirection.Up ? 0 : _down);

    /// <summary>Adds one point; true when drift is detected, after which the detector has reset.</summary>
    public bool Add(double x)
    {
        if (!double.IsFinite(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "Stream values must be finite.");
        }

        _n++;
        if (_n <= _warmup)
        {
            _reference += (x - _reference) / _n;
            return false;
        }

        _up = Math.Max(0, _up + x - _reference - _k);
        _down = Math.Max(0, _down + _reference - x - _k);
        if (Statistic <= _h)
        {
            return false;
        }

        Reset();
        return true;
    }

    public void Reset()
    {
        _n = 0;
        _reference = _up = _down = 0;
    }
}
