namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// Settings of the Kubernetes HorizontalPodAutoscaler baseline (autoscaling/v2, one CPU Resource metric with an
/// averageUtilization target). Every default is the documented upstream default, except
/// <see cref="TargetUtilization"/> which is the project's fairness parity value (DESIGN.md §5 "Fairness").
/// Docs: https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/
/// </summary>
public sealed record HpaOptions
{
    /// <summary>
    /// Target average CPU utilization as a fraction of the pod request (0.7 = 70%). Upstream takes a whole
    /// percentage (<c>target.averageUtilization</c> is an int32), so the value must be a whole percent.
    /// </summary>
    public double TargetUtilization { get; init; } = 0.7;

    /// <summary>
    /// No scaling while usage/target is within [1 - tolerance, 1 + tolerance]
    /// (kube-controller-manager <c>--horizontal-pod-autoscaler-tolerance</c>, default 0.1).
    /// </summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>Controller sync period (<c>--horizontal-pod-autoscaler-sync-period</c>, default 15 s). The simulator calls Reconcile at this cadence.</summary>
    public TimeSpan SyncPeriod { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Scale-up behavior; defaults from pkg/apis/autoscaling/v2/defaults.go (window 0 s, Pods 4 / 15 s and Percent 100 / 15 s, select Max).</summary>
    public HpaScalingRules ScaleUp { get; init; } = HpaScalingRules.DefaultScaleUp;

    /// <summary>Scale-down behavior; window 300 s (<c>--horizontal-pod-autoscaler-downscale-stabilization</c>), Percent 100 / 15 s, select Max.</summary>
    public HpaScalingRules ScaleDown { get; init; } = HpaScalingRules.DefaultScaleDown;

    /// <summary><c>--horizontal-pod-autoscaler-cpu-initialization-period</c>, default 5 min.</summary>
    public TimeSpan CpuInitializationPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary><c>--horizontal-pod-autoscaler-initial-readiness-delay</c>, default 30 s.</summary>
    public TimeSpan InitialReadinessDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Window of one CPU sample from the resource metrics API (metrics-server <c>--metric-resolution</c>, 15 s in
    /// the upstream manifests). Used by the "one full metric window since the readiness transition" rule.
    /// </summary>
    public TimeSpan MetricWindow { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary><c>spec.minReplicas</c>; the API defaults it to 1.</summary>
    public int MinReplicas { get; init; } = 1;

    /// <summary><c>spec.maxReplicas</c>; required upstream, so required here (fairness: same bounds for every policy).</summary>
    public required int MaxReplicas { get; init; }

    /// <summary>The target as upstream's whole-number percentage.</summary>
    public int TargetPercent => (int)Math.Round(TargetUtilization * 100, MidpointRounding.AwayFromZero);

    /// <summary>Returns the name of the first invalid field, or null when the options are valid.</summary>
    /// <remarks>Ranges follow pkg/apis/autoscaling/validation/validation.go.</remarks>
    public string? Validate()
    {
        double percent = TargetUtilization * 100;
        if (!double.IsFinite(percent) || percent < 1 || Math.Abs(percent - Math.Round(percent)) > 1e-9)
        {
            return nameof(TargetUtilization);
        }

        if (!double.IsFinite(Tolerance) || Tolerance < 0)
        {
            return nameof(Tolerance);
        }

        if (SyncPeriod <= TimeSpan.Zero)
        {
            return nameof(SyncPeriod);
        }

        if (ScaleUp is null)
        {
            return nameof(ScaleUp);
        }

        if (ScaleUp.Validate() is { } up)
        {
            return $"{nameof(ScaleUp)}.{up}";
        }

        if (ScaleDown is null)
        {
            return nameof(ScaleDown);
        }

        if (ScaleDown.Validate() is { } down)
        {
            return $"{nameof(ScaleDown)}.{down}";
        }

        if (CpuInitializationPeriod < TimeSpan.Zero)
        {
            return nameof(CpuInitializationPeriod);
        }

        if (InitialReadinessDelay < TimeSpan.Zero)
        {
            return nameof(InitialReadinessDelay);
        }

        if (MetricWindow <= TimeSpan.Zero)
        {
            return nameof(MetricWindow);
        }

        // minReplicas 0 needs the HPAScaleToZero feature gate and an Object/External metric; not our case.
        if (MinReplicas < 1)
        {
            return nameof(MinReplicas);
        }

        return MaxReplicas < MinReplicas ? nameof(MaxReplicas) : null;
    }
}

/// <summary><c>spec.behavior.scaleUp</c> / <c>scaleDown</c> (HPAScalingRules).</summary>
public sealed record HpaScalingRules(TimeSpan StabilizationWindow, HpaSelectPolicy SelectPolicy, IReadOnlyList<HpaScalingPolicy> Policies)
{
    /// <summary>Upper bound of stabilizationWindowSeconds in the API validation.</summary>
    public static readonly TimeSpan MaxStabilizationWindow = TimeSpan.FromHours(1);

    /// <summary>Upper bound of periodSeconds in the API validation.</summary>
    public static readonly TimeSpan MaxPolicyPeriod = TimeSpan.FromMinutes(30);

    /// <summary>defaultHPAScaleUpRules in pkg/apis/autoscaling/v2/defaults.go ("repeats previous HPA behavior").</summary>
    public static HpaScalingRules DefaultScaleUp { get; } = new(
        TimeSpan.Zero,
        HpaSelectPolicy.Max,
        [
            new HpaScalingPolicy(HpaPolicyType.Pods, 4, TimeSpan.FromSeconds(15)),
            new HpaScalingPolicy(HpaPolicyType.Percent, 100, TimeSpan.FromSeconds(15)),
        ]);

    /// <summary>
    /// defaultHPAScaleDownRules; its window is nil in the API and filled by the controller from
    /// <c>--horizontal-pod-autoscaler-downscale-stabilization</c> (5 min), see maybeInitScaleDownStabilizationWindow.
    /// </summary>
    public static HpaScalingRules DefaultScaleDown { get; } = new(
        TimeSpan.FromMinutes(5),
        HpaSelectPolicy.Max,
        [new HpaScalingPolicy(HpaPolicyType.Percent, 100, TimeSpan.FromSeconds(15))]);

    /// <summary>Longest policy period: scale events older than this are never read again (getLongestPolicyPeriod).</summary>
    public TimeSpan LongestPeriod => Policies.Count == 0 ? TimeSpan.Zero : Policies.Max(p => p.Period);

    /// <summary>Returns the name of the first invalid field, or null.</summary>
    public string? Validate()
    {
        if (StabilizationWindow < TimeSpan.Zero || StabilizationWindow > MaxStabilizationWindow || !IsWholeSeconds(StabilizationWindow))
        {
            return nameof(StabilizationWindow);
        }

        if (!Enum.IsDefined(SelectPolicy))
        {
            return nameof(SelectPolicy);
        }

        if (Policies is null || Policies.Count == 0)
        {
            return nameof(Policies);
        }

        for (int i = 0; i < Policies.Count; i++)
        {
            HpaScalingPolicy p = Policies[i];
            if (!Enum.IsDefined(p.Type))
            {
                return $"{nameof(Policies)}[{i}].{nameof(HpaScalingPolicy.Type)}";
            }

            if (p.Value <= 0)
            {
                return $"{nameof(Policies)}[{i}].{nameof(HpaScalingPolicy.Value)}";
            }

            if (p.Period <= TimeSpan.Zero || p.Period > MaxPolicyPeriod || !IsWholeSeconds(p.Period))
            {
                return $"{nameof(Policies)}[{i}].{nameof(HpaScalingPolicy.Period)}";
            }
        }

        return null;
    }

    // Value equality over the policy list, so a parity test can compare options with ==.
    public bool Equals(HpaScalingRules? other) =>
        other is not null
        && StabilizationWindow == other.StabilizationWindow
        && SelectPolicy == other.SelectPolicy
        && Policies.SequenceEqual(other.Policies);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(StabilizationWindow);
        hash.Add(SelectPolicy);
        foreach (HpaScalingPolicy p in Policies)
        {
            hash.Add(p);
        }

        return hash.ToHashCode();
    }

    // The API counts in whole seconds (stabilizationWindowSeconds, periodSeconds).
    private static bool IsWholeSeconds(TimeSpan t) => t.Ticks % TimeSpan.TicksPerSecond == 0;
}

/// <summary>One HPAScalingPolicy: change at most <see cref="Value"/> pods or percent within <see cref="Period"/>.</summary>
public readonly record struct HpaScalingPolicy(HpaPolicyType Type, int Value, TimeSpan Period);

public enum HpaPolicyType
{
    /// <summary>Absolute number of pods.</summary>
    Pods,

    /// <summary>Percentage of the replicas at the start of the period.</summary>
    Percent,
}

/// <summary><c>selectPolicy</c>: which policy wins when several allow different changes.</summary>
public enum HpaSelectPolicy
{
    /// <summary>The policy allowing the largest change (upstream default).</summary>
    Max,

    /// <summary>The policy allowing the smallest change.</summary>
    Min,

    /// <summary>No scaling in this direction.</summary>
    Disabled,
}
