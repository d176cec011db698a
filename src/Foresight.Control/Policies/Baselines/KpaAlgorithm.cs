namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// The Knative Pod Autoscaler for one revision, concurrency metric: a port of autoscaler.Scale
/// (knative/serving pkg/autoscaler/scaling/autoscaler.go) plus the min/max bounds applied by the PA reconciler
/// (applyBounds in pkg/reconciler/autoscaling/kpa/scaler.go). Every tick (2 s):
/// <list type="number">
/// <item>stable and panic concurrency = linear averages of the all-pods concurrency over the 60 s and 6 s windows;</item>
/// <item>desired stable / panic pods = ceil(average / target per pod), kept within
/// [floor(ready / maxScaleDownRate), ceil(maxScaleUpRate × ready)] (ready counted as at least 1);</item>
/// <item>panic starts (or is extended) whenever ceil(panic / target) / ready ≥ panic threshold (200%), and ends once a
/// whole stable window has passed since it was last extended;</item>
/// <item>in panic the result is the larger of the two counts and never decreases; otherwise it is the stable count;</item>
/// <item>scale-down-delay (off by default) takes the maximum over its trailing window; then min/max scale.</item>
/// </list>
/// Docs: https://knative.dev/docs/serving/autoscaling/kpa-specific/ ,
/// https://knative.dev/docs/serving/autoscaling/scale-bounds/ ,
/// knative/serving docs/scaling/SYSTEM.md.
/// </summary>
public sealed class KpaAlgorithm
{
    private readonly KpaOptions _options;
    private readonly TimedBuckets _stable;
    private readonly TimedBuckets _panic;
    private readonly MaxTimeWindow? _delayWindow;

    // Panic state (autoscaler.go panicTime / maxPanicPods).
    private TimeSpan? _panicTime;
    private int _maxPanicPods;

    private int? _lastDesired;

    /// <summary>
    /// Creates the autoscaler as the multiscaler does when the revision's decider is created: if more than one pod
    /// is ready at that moment it starts in panic mode holding that count ("we're keeping at least the current scale
    /// until we accumulate enough data"), since its metric history is empty.
    /// </summary>
    /// <param name="options">Validated settings.</param>
    /// <param name="now">Simulation time of creation.</param>
    /// <param name="readyPods">Ready pods at creation.</param>
    public KpaAlgorithm(KpaOptions options, TimeSpan now, int readyPods)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(readyPods);
        if (options.Validate() is { } field)
        {
            throw new ArgumentException($"Invalid KPA option '{field}'.", nameof(options));
        }

        _options = options;
        _stable = new TimedBuckets(options.StableWindow);
        _panic = new TimedBuckets(options.PanicWindow);

        // Only with a positive delay: a one-tick window is not a no-op when two decisions share a tick.
        if (options.ScaleDownDelay > TimeSpan.Zero)
        {
            _delayWindow = new MaxTimeWindow(options.ScaleDownDelay, options.TickInterval);
        }

        if (readyPods > 1)
        {
            _panicTime = now;
        }

        _maxPanicPods = readyPods;
    }

    public KpaOptions Options => _options;

    /// <summary>Whether the last decision was taken in panic mode.</summary>
    public bool InPanic => _panicTime is not null;

    /// <summary>Average all-pods concurrency over the stable window at the last decision.</summary>
    public double ObservedStableConcurrency { get; private set; }

    /// <summary>Average all-pods concurrency over the panic window at the last decision.</summary>
    public double ObservedPanicConcurrency { get; private set; }

    /// <summary>What the last decision was based on.</summary>
    public string LastReason { get; private set; } = "";

    /// <summary>
    /// Records the in-flight requests summed over all pods, time-averaged over the last second (the queue-proxy
    /// reports average concurrency; the scraper multiplies the per-pod average by the pod count). Call once per
    /// second, as the collector scrapes every second, and before <see cref="Scale"/> at the same time.
    /// </summary>
    public void Record(TimeSpan now, double observedConcurrency)
    {
        if (!double.IsFinite(observedConcurrency) || observedConcurrency < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(observedConcurrency), observedConcurrency, "Concurrency must be finite and non-negative.");
        }

        _stable.Record(now, observedConcurrency);
        _panic.Record(now, observedConcurrency);
    }

    /// <summary>One autoscaler tick: the desired pod count, already within [MinScale, MaxScale].</summary>
    /// <param name="now">Simulation time since start.</param>
    /// <param name="readyPods">Ready endpoints of the revision.</param>
    public int Scale(TimeSpan now, int readyPods)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(readyPods);

        if (_stable.IsEmpty(now))
        {
            // Upstream returns an invalid ScaleResult (ErrNoData) and the scale is left untouched.
            LastReason = "no data to scale on yet";
            return _lastDesired ?? ApplyBounds(readyPods);
        }

        // "Use 1 if there are zero current pods."
        double ready = Math.Max(1, readyPods);
        double target = _options.TargetPerPod;
        double stable = _stable.WindowAverage(now);
        double panic = _panic.WindowAverage(now);
        ObservedStableConcurrency = stable;
        ObservedPanicConcurrency = panic;

        // Grow by at least one pod even with a conservative rate; shrink to at most ready / rate.
        // maxScaleDown assumes the revision is reachable (routed), which it always is in the simulator.
        double maxScaleUp = Math.Ceiling(_options.MaxScaleUpRate * ready);
        double maxScaleDown = Math.Floor(ready / _options.MaxScaleDownRate);

        double dspc = Math.Ceiling(stable / target);
        double dppc = Math.Ceiling(panic / target);
        int desiredStable = ToPods(Math.Min(Math.Max(dspc, maxScaleDown), maxScaleUp));
        int desiredPanic = ToPods(Math.Min(Math.Max(dppc, maxScaleDown), maxScaleUp));

        if (_options.ActivationScale > 1)
        {
            if (dspc > 0 && _options.ActivationScale > desiredStable)
            {
                desiredStable = _options.ActivationScale;
            }

            if (dppc > 0 && _options.ActivationScale > desiredPanic)
            {
                desiredPanic = _options.ActivationScale;
            }
        }

        bool overPanicThreshold = dppc / ready >= _options.PanicThreshold;
        if (overPanicThreshold)
        {
            // Begin panicking, or extend the panic while still over the threshold.
            _panicTime = now;
        }
        else if (_panicTime is { } since && since + _options.StableWindow < now)
        {
            // Stop after the surge has made its way into the stable metric.
            _panicTime = null;
            _maxPanicPods = 0;
        }

        int desired = desiredStable;
        if (_panicTime is not null)
        {
            // Provision for the larger of the two, and never scale down while panicking.
            if (desired < desiredPanic)
            {
                desired = desiredPanic;
            }

            if (desired > _maxPanicPods)
            {
                _maxPanicPods = desired;
            }

            desired = _maxPanicPods;
        }

        if (_delayWindow is not null)
        {
            _delayWindow.Record(now, desired);
            desired = (int)_delayWindow.Current;
        }

        int bounded = ApplyBounds(desired);
        LastReason = $"{(InPanic ? "panic" : "stable")}: stable {stable:0.###} → {desiredStable} pods, panic {panic:0.###} → {desiredPanic} pods, ready {readyPods}";
        _lastDesired = bounded;
        return bounded;
    }

    // applyBounds(min, max, x): max 0 means unbounded.
    private int ApplyBounds(int x)
    {
        if (x < _options.MinScale)
        {
            return _options.MinScale;
        }

        return _options.MaxScale != 0 && x > _options.MaxScale ? _options.MaxScale : x;
    }

    private static int ToPods(double x) => x >= int.MaxValue ? int.MaxValue : (int)x;
}
