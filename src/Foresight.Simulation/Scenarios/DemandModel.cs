using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Scenarios;

/// <summary>
/// The true demand a scenario replays: requests per simulated second, per app and source, at any simulated time.
/// <para>
/// Units. A trace row holds the volume of its interval (e.g. requests in that hour). Its rate is volume divided by
/// the trace's row interval (the median gap), in requests per trace second; then, per app, it is multiplied by the
/// app's share (wide traces) and by the app's peak scale, which makes the app's busiest row total exactly
/// <c>peakRps</c>. Without <c>peakRps</c> the trace's own rate is kept. <c>timeScale</c> speeds up the clock, not the
/// load: simulated time t reads the trace at trace second <c>traceStart + t × timeScale</c>, and the rate there is
/// used as requests per simulated second, so the instances needed do not depend on the replay speed.
/// </para>
/// <para>
/// Between rows the rate is linearly interpolated, with each row's rate placed at its start time; before the first
/// row and after the last the nearest row's rate holds. Reads are allocation-free and thread-safe (the model is immutable).
/// </para>
/// </summary>
public sealed class DemandModel : IDemand
{
    private readonly double[] _rowTrace;
    private readonly double[][] _rates;
    private readonly double[][] _rowTotals;
    private readonly double[] _peak;
    private readonly int _sourceCount;
    private readonly double _traceStart;
    private readonly double _timeScale;
    private readonly double _uniformStep;
    private readonly DateTimeOffset? _startTime;

    /// <param name="rowTraceSeconds">Trace time of each row (seconds since the trace's first row), strictly increasing.</param>
    /// <param name="ratesByApp">Per app, row-major rates <c>[row × sourceCount + source]</c> in requests per simulated second.</param>
    /// <param name="sourceCount">Sources per row.</param>
    /// <param name="traceStart">Trace second that simulated time 0 reads.</param>
    /// <param name="timeScale">Trace seconds per simulated second.</param>
    /// <param name="startTime">Wall clock of trace second 0, when the trace has timestamps.</param>
    public DemandModel(
        double[] rowTraceSeconds,
        IReadOnlyList<double[]> ratesByApp,
        int sourceCount,
        double traceStart = 0,
        double timeScale = 1,
        DateTimeOffset? startTime = null)
    {
        ArgumentNullException.ThrowIfNull(rowTraceSeconds);
        ArgumentNullException.ThrowIfNull(ratesByApp);
        if (rowTraceSeconds.Length == 0)
        {
            throw new ArgumentException("Demand needs at least one row.", nameof(rowTraceSeconds));
        }

        ArgumentOutOfRangeException.ThrowIfNegative(sourceCount);
        if (!(timeScale > 0) || !double.IsFinite(timeScale))
        {
            throw new ArgumentOutOfRangeException(nameof(timeScale), "timeScale must be a positive number.");
        }

        for (int i = 1; i < rowTraceSeconds.Length; i++)
        {
            if (!(rowTraceSeconds[i] > rowTraceSeconds[i - 1]))
            {
                throw new ArgumentException($"Row times must increase strictly (row {i}).", nameof(rowTraceSeconds));
            }
        }

        int rows = rowTraceSeconds.Length;
        _rates = new double[ratesByApp.Count][];
        _rowTotals = new double[ratesByApp.Count][];
        _peak = new double[ratesByApp.Count];
        for (int a = 0; a < ratesByApp.Count; a++)
        {
            double[] rates = ratesByApp[a];
            if (rates.Length != rows * sourceCount)
            {
                throw new ArgumentException($"App {a} needs {rows} × {sourceCount} rates.", nameof(ratesByApp));
            }

            var totals = new double[rows];
            for (int r = 0; r < rows; r++)
            {
                double sum = 0;
                for (int s = 0; s < sourceCount; s++)
                {
                    double v = rates[(r * sourceCount) + s];
                    if (!(v >= 0) || !double.IsFinite(v))
                    {
                        throw new ArgumentException($"App {a} has an invalid rate {v} at row {r}, source {s}.", nameof(ratesByApp));
                    }

                    sum += v;
                }

                totals[r] = sum;
                _peak[a] = Math.Max(_peak[a], sum);
            }

            _rates[a] = rates;
            _rowTotals[a] = totals;
        }

        _rowTrace = rowTraceSeconds;
        _sourceCount = sourceCount;
        _traceStart = traceStart;
        _timeScale = timeScale;
        _startTime = startTime;
        _uniformStep = UniformStep(rowTraceSeconds);
    }

    public int AppCount => _rates.Length;

    public int SourceCount => _sourceCount;

    public int RowCount => _rowTrace.Length;

    public double TimeScale => _timeScale;

    public double TraceStart => _traceStart;

    /// <summary>A demand that never changes: <paramref name="ratesBySourcePerApp"/>[app][source] requests per simulated second.</summary>
    public static DemandModel Constant(IReadOnlyList<double[]> ratesBySourcePerApp)
    {
        ArgumentNullException.ThrowIfNull(ratesBySourcePerApp);
        int sources = ratesBySourcePerApp.Count == 0 ? 0 : ratesBySourcePerApp[0].Length;
        return new DemandModel([0.0], ratesBySourcePerApp.Select(r => (double[])r.Clone()).ToArray(), sources);
    }

    /// <summary>Requests per simulated second of app <paramref name="app"/> from each source at simulated time <paramref name="simTime"/>.</summary>
    public void FillRates(int app, double simTime, Span<double> ratesBySource)
    {
        if (ratesBySource.Length < _sourceCount)
        {
            throw new ArgumentException($"The span needs room for {_sourceCount} sources.", nameof(ratesBySource));
        }

        double[] rates = _rates[app];
        int n = _sourceCount;
        (int row, double frac) = Locate(simTime);
        ReadOnlySpan<double> a = rates.AsSpan(row * n, n);
        Span<double> destination = ratesBySource[..n];
        if (frac == 0)
        {
            a.CopyTo(destination);
            return;
        }

        ReadOnlySpan<double> b = rates.AsSpan((row + 1) * n, n);
        for (int s = 0; s < n; s++)
        {
            destination[s] = a[s] + (frac * (b[s] - a[s]));
        }
    }

    /// <summary>Total requests per simulated second of app <paramref name="app"/> over all sources at <paramref name="simTime"/>.</summary>
    public double TotalRps(int app, double simTime)
    {
        double[] totals = _rowTotals[app];
        (int row, double frac) = Locate(simTime);
        return frac == 0 ? totals[row] : totals[row] + (frac * (totals[row + 1] - totals[row]));
    }

    /// <summary>The app's largest total rate over the whole trace (equal to its <c>peakRps</c> when one is given).</summary>
    public double PeakTotalRps(int app) => _peak[app];

    /// <summary>Trace seconds since the trace's first row that simulated time <paramref name="simTime"/> reads.</summary>
    public double TraceSecondsAt(double simTime) => _traceStart + (simTime * _timeScale);

    /// <summary>The simulated time at which trace second <paramref name="traceSeconds"/> is replayed.</summary>
    public double SimTimeAt(double traceSeconds) => (traceSeconds - _traceStart) / _timeScale;

    /// <summary>Wall-clock time that simulated time <paramref name="simTime"/> replays, when the trace has timestamps.</summary>
    public DateTimeOffset? WallClockAt(double simTime) =>
        _startTime is { } start ? start.AddTicks((long)Math.Round(TraceSecondsAt(simTime) * TimeSpan.TicksPerSecond)) : null;

    /// <summary>The row at or before the trace time, and how far (0..1) towards the next row it lies.</summary>
    private (int Row, double Frac) Locate(double simTime)
    {
        double tau = _traceStart + (simTime * _timeScale);
        double[] t = _rowTrace;
        int last = t.Length - 1;
        if (!(tau > t[0]))
        {
            return (0, 0);
        }

        if (tau >= t[last])
        {
            return (last, 0);
        }

        int i;
        if (_uniformStep > 0)
        {
            i = Math.Clamp((int)((tau - t[0]) / _uniformStep), 0, last - 1);

            // Rounding in the division can land one row off; the row times are the truth.
            if (t[i] > tau)
            {
                i--;
            }
            else if (t[i + 1] <= tau)
            {
                i++;
            }
        }
        else
        {
            int found = Array.BinarySearch(t, tau);
            i = found >= 0 ? found : ~found - 1;
        }

        double frac = (tau - t[i]) / (t[i + 1] - t[i]);
        return (i, frac);
    }

    private static double UniformStep(double[] t)
    {
        if (t.Length < 2)
        {
            return 0;
        }

        double step = t[1] - t[0];
        for (int i = 2; i < t.Length; i++)
        {
            if (Math.Abs(t[i] - t[i - 1] - step) > 1e-9 * Math.Max(1, step))
            {
                return 0;
            }
        }

        return step;
    }
}
