namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// The Kubernetes HorizontalPodAutoscaler (autoscaling/v2) for one workload: a port of reconcileAutoscaler and
/// normalizeDesiredReplicasWithBehaviors from kubernetes/kubernetes pkg/controller/podautoscaler/horizontal.go.
/// Each sync (every <see cref="HpaOptions.SyncPeriod"/>):
/// <list type="number">
/// <item>replicas outside [min, max] are moved to the nearest bound without reading metrics;</item>
/// <item>otherwise the CPU metric proposes ceil(current × utilization / target) (<see cref="HpaReplicaCalculator"/>);</item>
/// <item>stabilization: the proposal is bounded below by the minimum recommendation over the scale-up window and
/// above by the maximum over the scale-down window (default 300 s), and the current count is moved into that band;</item>
/// <item>rate limits: the scale-up/scale-down policies over their periods, using the history of scale events;</item>
/// <item>min/max replicas.</item>
/// </list>
/// Like the controller it keeps the unstabilized recommendations and the scale events in memory, so one instance
/// must follow one workload from the start. Docs:
/// https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/ ("Algorithm details",
/// "Configurable scaling behavior", "Default Behavior").
/// </summary>
/// <remarks>
/// Upstream takes the documented default behavior when <c>spec.behavior</c> is set (the API server fills in every
/// unset field); an HPA with no behavior at all takes a legacy path whose scale-up limit is max(2 × current, 4).
/// This class always follows the behavior path with the documented defaults.
/// </remarks>
public sealed class HpaAlgorithm
{
    private readonly HpaOptions _options;

    // Latest unstabilized recommendations (horizontal.go "recommendations").
    private readonly List<Stamped> _recommendations = [];

    // Latest scale events as absolute replica changes (horizontal.go "scaleUpEvents" / "scaleDownEvents").
    private readonly List<Stamped> _scaleUpEvents = [];
    private readonly List<Stamped> _scaleDownEvents = [];

    public HpaAlgorithm(HpaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Validate() is { } field)
        {
            throw new ArgumentException($"Invalid HPA option '{field}'.", nameof(options));
        }

        _options = options;
    }

    public HpaOptions Options => _options;

    /// <summary>The raw metric proposal of the last sync, before stabilization, rate limits and bounds; null if none was computed.</summary>
    public int? LastRecommendation { get; private set; }

    /// <summary>Average CPU utilization of the ready pods at the last sync, in whole percent of the request.</summary>
    public int? LastUtilizationPercent { get; private set; }

    /// <summary>Why the last sync decided what it did, in the controller's own words (condition reasons and event text).</summary>
    public string LastReason { get; private set; } = "";

    /// <summary>One controller sync: returns the replica count to set (equal to <paramref name="currentReplicas"/> for "no change").</summary>
    /// <param name="now">Simulation time since start.</param>
    /// <param name="currentReplicas">The scale target's <c>spec.replicas</c>.</param>
    /// <param name="pods">Every pod the selector matches, with its status and CPU sample.</param>
    public int Reconcile(TimeSpan now, int currentReplicas, IReadOnlyList<PodMetric> pods)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(currentReplicas);
        ArgumentNullException.ThrowIfNull(pods);

        // recordInitialRecommendation: the first sync seeds the history with the current scale, so a fresh HPA
        // does not scale below it for one scale-down window.
        if (_recommendations.Count == 0)
        {
            _recommendations.Add(new Stamped(currentReplicas, now));
        }

        int min = _options.MinReplicas;
        int max = _options.MaxReplicas;
        int desired;
        string reason;

        if (currentReplicas == 0)
        {
            // Scaling is disabled while the target is at zero (minReplicas ≥ 1, no HPAScaleToZero).
            LastRecommendation = null;
            LastUtilizationPercent = null;
            LastReason = "ScalingDisabled: scaling is disabled since the replica count of the target is zero";
            return 0;
        }

        if (currentReplicas > max)
        {
            LastRecommendation = null;
            LastUtilizationPercent = null;
            desired = max;
            reason = "Current number of replicas above Spec.MaxReplicas";
        }
        else if (currentReplicas < min)
        {
            LastRecommendation = null;
            LastUtilizationPercent = null;
            desired = min;
            reason = "Current number of replicas below Spec.MinReplicas";
        }
        else
        {
            HpaReplicaProposal proposal = HpaReplicaCalculator.GetResourceReplicas(currentReplicas, pods, now, _options);
            LastUtilizationPercent = proposal.UtilizationPercent;
            if (proposal.Error is { } error)
            {
                // Upstream returns an error from the sync: no recommendation is stored and nothing is scaled.
                LastRecommendation = null;
                LastReason = $"FailedGetResourceMetric: {error}";
                return currentReplicas;
            }

            LastRecommendation = proposal.Replicas;

            // "desiredReplicas := 0; if metricDesiredReplicas > desiredReplicas { desiredReplicas = metricDesiredReplicas }"
            desired = Math.Max(0, proposal.Replicas);
            reason = desired > currentReplicas ? "cpu resource utilization (percentage of request) above target"
                : desired < currentReplicas ? "All metrics below target"
                : "";

            int stabilized = Stabilize(now, currentReplicas, desired);
            string stabilizedReason = stabilized == desired ? "ReadyForNewScale"
                : desired >= currentReplicas ? "ScaleUpStabilized" : "ScaleDownStabilized";
            (desired, string limit) = LimitRate(now, currentReplicas, stabilized);
            reason = string.Join("; ", new[] { reason, stabilizedReason, limit }.Where(r => r.Length > 0));
        }

        if (desired != currentReplicas)
        {
            StoreScaleEvent(now, currentReplicas, desired);
        }

        LastReason = reason;
        return desired;
    }

    /// <summary>
    /// stabilizeRecommendationWithBehaviors: upRecommendation = min over the scale-up window, downRecommendation =
    /// max over the scale-down window (both including the new proposal); the result is the current count moved
    /// into [up, down]. Records the unstabilized proposal.
    /// </summary>
    private int Stabilize(TimeSpan now, int currentReplicas, int desired)
    {
        TimeSpan upCutoff = now - _options.ScaleUp.StabilizationWindow;
        TimeSpan downCutoff = now - _options.ScaleDown.StabilizationWindow;
        int up = desired;
        int down = desired;
        foreach (Stamped rec in _recommendations)
        {
            // rec.timestamp.After(cutoff): a recommendation exactly one window old no longer counts.
            if (rec.At > upCutoff)
            {
                up = Math.Min(rec.Value, up);
            }

            if (rec.At > downCutoff)
            {
                down = Math.Max(rec.Value, down);
            }
        }

        // Upstream overwrites a slot older than both windows; dropping all of them is equivalent and bounds memory.
        _recommendations.RemoveAll(r => r.At < upCutoff && r.At < downCutoff);
        _recommendations.Add(new Stamped(desired, now));

        int recommendation = currentReplicas;
        if (recommendation < up)
        {
            recommendation = up;
        }

        if (recommendation > down)
        {
            recommendation = down;
        }

        return recommendation;
    }

    /// <summary>convertDesiredReplicasWithBehaviorRate: the policy limits, then maxReplicas / minReplicas.</summary>
    private (int Replicas, string Reason) LimitRate(TimeSpan now, int currentReplicas, int desired)
    {
        if (desired > currentReplicas)
        {
            int scaleUpLimit = ScaleUpLimit(now, currentReplicas);
            if (scaleUpLimit < currentReplicas)
            {
                // Don't scale up further until the scale-up events age out.
                scaleUpLimit = currentReplicas;
            }

            int maximumAllowed = _options.MaxReplicas;
            string reason = "TooManyReplicas";
            if (maximumAllowed > scaleUpLimit)
            {
                maximumAllowed = scaleUpLimit;
                reason = "ScaleUpLimit";
            }

            if (desired > maximumAllowed)
            {
                return (maximumAllowed, reason);
            }
        }
        else if (desired < currentReplicas)
        {
            int scaleDownLimit = ScaleDownLimit(now, currentReplicas);
            if (scaleDownLimit > currentReplicas)
            {
                scaleDownLimit = currentReplicas;
            }

            int minimumAllowed = _options.MinReplicas;
            string reason = "TooFewReplicas";
            if (minimumAllowed < scaleDownLimit)
            {
                minimumAllowed = scaleDownLimit;
                reason = "ScaleDownLimit";
            }

            if (desired < minimumAllowed)
            {
                return (minimumAllowed, reason);
            }
        }

        return (desired, "DesiredWithinRange");
    }

    /// <summary>
    /// calculateScaleUpLimitWithScalingRules: per policy, periodStart = current − added + deleted within its period;
    /// Pods → periodStart + value, Percent → ceil(periodStart × (1 + value/100)); select Max (largest) or Min.
    /// </summary>
    private int ScaleUpLimit(TimeSpan now, int currentReplicas)
    {
        HpaScalingRules rules = _options.ScaleUp;
        if (rules.SelectPolicy == HpaSelectPolicy.Disabled)
        {
            return currentReplicas;
        }

        bool pickMin = rules.SelectPolicy == HpaSelectPolicy.Min;
        long result = pickMin ? int.MaxValue : int.MinValue;
        foreach (HpaScalingPolicy policy in rules.Policies)
        {
            long periodStart = PeriodStartReplicas(now, currentReplicas, policy.Period);
            long proposed = policy.Type == HpaPolicyType.Pods
                ? periodStart + policy.Value
                // Rounded up so that a small percentage can still add a pod.
                : (long)Math.Ceiling(periodStart * (1 + policy.Value / 100.0));
            result = pickMin ? Math.Min(result, proposed) : Math.Max(result, proposed);
        }

        return (int)Math.Clamp(result, int.MinValue, int.MaxValue);
    }

    /// <summary>
    /// calculateScaleDownLimitWithBehaviors: Pods → periodStart − value, Percent → trunc(periodStart × (1 − value/100));
    /// "Max" picks the largest change (the smallest count), "Min" the smallest change.
    /// </summary>
    private int ScaleDownLimit(TimeSpan now, int currentReplicas)
    {
        HpaScalingRules rules = _options.ScaleDown;
        if (rules.SelectPolicy == HpaSelectPolicy.Disabled)
        {
            return currentReplicas;
        }

        bool pickSmallestChange = rules.SelectPolicy == HpaSelectPolicy.Min;
        long result = pickSmallestChange ? int.MinValue : int.MaxValue;
        foreach (HpaScalingPolicy policy in rules.Policies)
        {
            long periodStart = PeriodStartReplicas(now, currentReplicas, policy.Period);
            long proposed = policy.Type == HpaPolicyType.Pods
                ? periodStart - policy.Value
                : (long)(periodStart * (1 - policy.Value / 100.0));
            result = pickSmallestChange ? Math.Max(result, proposed) : Math.Min(result, proposed);
        }

        return (int)Math.Clamp(result, int.MinValue, int.MaxValue);
    }

    // The replica count at the start of the policy period: undo the scale events inside it.
    private long PeriodStartReplicas(TimeSpan now, int currentReplicas, TimeSpan period) =>
        (long)currentReplicas - ChangeInPeriod(now, period, _scaleUpEvents) + ChangeInPeriod(now, period, _scaleDownEvents);

    // getReplicasChangePerPeriod: events strictly after now − period.
    private static long ChangeInPeriod(TimeSpan now, TimeSpan period, List<Stamped> events)
    {
        TimeSpan cutoff = now - period;
        long change = 0;
        foreach (Stamped e in events)
        {
            if (e.At > cutoff)
            {
                change += e.Value;
            }
        }

        return change;
    }

    /// <summary>storeScaleEvent: events older than the longest policy period are outdated and replaced.</summary>
    private void StoreScaleEvent(TimeSpan now, int previous, int next)
    {
        bool up = next > previous;
        List<Stamped> events = up ? _scaleUpEvents : _scaleDownEvents;
        TimeSpan cutoff = now - (up ? _options.ScaleUp : _options.ScaleDown).LongestPeriod;
        events.RemoveAll(e => e.At < cutoff);
        events.Add(new Stamped(Math.Abs(next - previous), now));
    }

    private readonly record struct Stamped(int Value, TimeSpan At);
}
