namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// A sliding window of 1 s buckets with Knative's linear window average: a port of TimedFloat64Buckets
/// (knative/serving pkg/autoscaler/aggregation/bucketing.go) at the collector's BucketSize of 1 s. Linear is the
/// default <c>autoscaling.knative.dev/metric-aggregation-algorithm</c>; the weighted-exponential variant is not modelled.
/// <list type="bullet">
/// <item>Seconds with no record inside the data span count as zero.</item>
/// <item>If the first record is less than a window ago, the average is over the seconds since it (a partial window).</item>
/// <item>Seconds after the last record are left out of the denominator; after a full window without data the average is 0.</item>
/// <item>The result is floored to 6 decimals, as upstream.</item>
/// </list>
/// </summary>
/// <remarks>
/// Upstream adds every value recorded in a bucket because each source (the 1 s scrape, the activator) reports once
/// per second. Here the caller reports the all-pods total, so several records in one second are averaged instead;
/// with one record per second the two agree exactly.
/// </remarks>
public sealed class TimedBuckets
{
    // Go's zero time.Time: "never written", infinitely long ago for the window arithmetic.
    private const long Never = long.MinValue / 4;

    private readonly double[] _sums;
    private readonly int[] _counts;
    private long _firstWrite = Never;
    private long _lastWrite = Never;

    /// <param name="window">Whole seconds, at least 1: the number of buckets.</param>
    public TimedBuckets(TimeSpan window)
    {
        if (window < TimeSpan.FromSeconds(1) || window.Ticks % TimeSpan.TicksPerSecond != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(window), window, "The window must be a whole number of seconds, at least 1.");
        }

        int buckets = checked((int)(window.Ticks / TimeSpan.TicksPerSecond));
        _sums = new double[buckets];
        _counts = new int[buckets];
        Window = window;
    }

    public TimeSpan Window { get; }

    private int Size => _sums.Length;

    /// <summary>Adds a value at <paramref name="now"/>; values older than a window before the last record are dropped.</summary>
    public void Record(TimeSpan now, double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "The value must be finite.");
        }

        long bucket = Second(now);
        if (bucket != _lastWrite)
        {
            if (bucket + Size <= _lastWrite)
            {
                return; // happened a window or more before the newest data
            }

            if (_firstWrite == Never || _firstWrite > bucket)
            {
                _firstWrite = bucket;
            }

            if (bucket > _lastWrite)
            {
                if (bucket - _lastWrite >= Size)
                {
                    // A full window without writes: start over, and average over a partial window again.
                    _firstWrite = bucket;
                    Array.Clear(_sums);
                    Array.Clear(_counts);
                }
                else
                {
                    // Zero the buckets skipped since the last write (they hold data from a window ago).
                    for (long i = _lastWrite + 1; i <= bucket; i++)
                    {
                        ClearSlot(i);
                    }
                }

                _lastWrite = bucket;
            }
        }

        int slot = Slot(bucket);
        _sums[slot] += value;
        _counts[slot]++;
    }

    /// <summary>True when nothing was recorded within the last window (upstream IsEmpty; the autoscaler then has no data).</summary>
    public bool IsEmpty(TimeSpan now) => Second(now) - _lastWrite > Size;

    /// <summary>The mean over the window ending at <paramref name="now"/>, as described on the class.</summary>
    public double WindowAverage(TimeSpan now)
    {
        long current = Second(now);
        long sinceLastWrite = current - _lastWrite;
        if (sinceLastWrite >= Size)
        {
            return 0; // nothing within the window
        }

        double total = 0;
        for (int i = 0; i < Size; i++)
        {
            total += BucketValue(i);
        }

        long span = _lastWrite - _firstWrite + 1; // +1: the times are inclusive
        if (sinceLastWrite <= 0)
        {
            return Floor6(total / Math.Min(span, Size));
        }

        // Recent past: the slots after the last write still hold data from a window ago; drop them.
        for (long i = _lastWrite + 1; i <= current; i++)
        {
            total -= BucketValue(Slot(i));
        }

        return Floor6(total / Math.Min(span, Size - sinceLastWrite));
    }

    private double BucketValue(int slot) => _counts[slot] == 0 ? 0 : _sums[slot] / _counts[slot];

    private void ClearSlot(long second)
    {
        int slot = Slot(second);
        _sums[slot] = 0;
        _counts[slot] = 0;
    }

    private int Slot(long second) => (int)(((second % Size) + Size) % Size);

    // now.Truncate(granularity) with 1 s granularity.
    private static long Second(TimeSpan now) => Math.DivRem(now.Ticks, TimeSpan.TicksPerSecond, out long rem) - (rem < 0 ? 1 : 0);

    // roundToNDigits(6, x): floors, as upstream.
    private static double Floor6(double x) => Math.Floor(x * 1e6) / 1e6;
}
