namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// The metric half of the HPA: a port of ReplicaCalculator.GetResourceReplicas and groupPods from
/// kubernetes/kubernetes pkg/controller/podautoscaler/replica_calculator.go (CPU Resource metric, Utilization target).
/// <list type="number">
/// <item>Group pods: terminating → ignored; Pending → unready; no sample → missing; CPU readiness rules → unready; else ready.</item>
/// <item>ratio = utilization% / target%, utilization over the ready pods' samples (integer percent, as upstream).</item>
/// <item>No missing pods and no scale-up with unready pods: keep current within tolerance, else ceil(ratio × ready).</item>
/// <item>Otherwise assume missing pods at 100% of request on scale-down and 0% on scale-up, unready pods at 0% on
/// scale-up, recompute; keep current if the new ratio is within tolerance or flips direction.</item>
/// </list>
/// Docs ("Algorithm details"): https://kubernetes.io/docs/concepts/workloads/autoscaling/horizontal-pod-autoscale/#algorithm-details
/// </summary>
public static class HpaReplicaCalculator
{
    /// <summary>
    /// Every pod is given the same nominal request of one core (1000 m). Upstream sums milli-core samples over
    /// milli-core requests; with equal requests only the quantisation to milli-units matters, and it keeps the
    /// arithmetic exact (0.9 → 900 m, not 899.99…).
    /// </summary>
    public const long NominalRequestMilli = 1000;

    // Guards the int64 sums against absurd inputs (a pod cannot burn a million cores).
    private const double MaxUtilization = 1e6;

    /// <summary>How groupPods classifies one pod.</summary>
    public static HpaPodGroup Classify(PodMetric pod, TimeSpan now, HpaOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);

        // "pod.DeletionTimestamp != nil || podutil.IsPodTerminal(pod)" → ignoredPods.
        if (pod.Phase == PodPhase.Terminating)
        {
            return HpaPodGroup.Ignored;
        }

        // "Pending pods are ignored" → unreadyPods.
        if (pod.Phase == PodPhase.Pending)
        {
            return HpaPodGroup.Unready;
        }

        if (pod.CpuUtilization is null)
        {
            return HpaPodGroup.Missing;
        }

        // "condition == nil || pod.Status.StartTime == nil" → unready.
        if (pod.StartTime is not { } start)
        {
            return HpaPodGroup.Unready;
        }

        bool unready;
        if (start + options.CpuInitializationPeriod > now)
        {
            // Within the CPU initialization period: ignore the sample if the pod is unready, or if one full metric
            // window has not been collected since the last readiness transition.
            TimeSpan sampledAt = pod.MetricTimestamp ?? now;
            unready = !pod.Ready || sampledAt < pod.ReadyTransitionTime + options.MetricWindow;
        }
        else
        {
            // After it: ignore only a pod that is unready and has never been ready (its last transition happened
            // within initial-readiness-delay of its start).
            unready = !pod.Ready && start + options.InitialReadinessDelay > pod.ReadyTransitionTime;
        }

        return unready ? HpaPodGroup.Unready : HpaPodGroup.Ready;
    }

    /// <summary>GetResourceReplicas: the replica count the CPU metric asks for, before behavior and bounds.</summary>
    public static HpaReplicaProposal GetResourceReplicas(int currentReplicas, IReadOnlyList<PodMetric> pods, TimeSpan now, HpaOptions options)
    {
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(options);
        if (pods.Count == 0)
        {
            return HpaReplicaProposal.Failed("no pods returned by selector while calculating replica count");
        }

        int target = options.TargetPercent;
        int ready = 0, unready = 0, missing = 0;
        long readyUsage = 0;
        foreach (PodMetric pod in pods)
        {
            switch (Classify(pod, now, options))
            {
                case HpaPodGroup.Ready:
                    ready++;
                    readyUsage += ToMilli(pod.CpuUtilization!.Value);
                    break;
                case HpaPodGroup.Unready:
                    unready++;
                    break;
                case HpaPodGroup.Missing:
                    missing++;
                    break;
            }
        }

        if (ready == 0)
        {
            return HpaReplicaProposal.Failed("did not receive metrics for targeted pods (pods might be unready)");
        }

        (double usageRatio, int utilization) = UtilizationRatio(readyUsage, ready, target);

        bool scaleUpWithUnready = unready > 0 && usageRatio > 1.0;
        if (!scaleUpWithUnready && missing == 0)
        {
            if (IsWithinTolerance(usageRatio, options.Tolerance))
            {
                return new HpaReplicaProposal(currentReplicas, utilization, null);
            }

            return new HpaReplicaProposal(CeilToInt(usageRatio * ready), utilization, null);
        }

        long usage = readyUsage;
        int counted = ready;
        if (missing > 0)
        {
            if (usageRatio < 1.0)
            {
                // Scale-down: missing pods use 100% of their request, or the target if it exceeds 100%
                // ("fallbackUtilization := max(100, targetUtilization)"). The docs say "100% of the desired value";
                // the code, which we follow, uses the request.
                usage += missing * (NominalRequestMilli * Math.Max(100, target) / 100);
                counted += missing;
            }
            else if (usageRatio > 1.0)
            {
                counted += missing; // at 0%
            }
        }

        if (scaleUpWithUnready)
        {
            counted += unready; // at 0%
        }

        (double newUsageRatio, _) = UtilizationRatio(usage, counted, target);
        if (IsWithinTolerance(newUsageRatio, options.Tolerance)
            || (usageRatio < 1.0 && newUsageRatio > 1.0)
            || (usageRatio > 1.0 && newUsageRatio < 1.0))
        {
            return new HpaReplicaProposal(currentReplicas, utilization, null);
        }

        int newReplicas = CeilToInt(newUsageRatio * counted);
        if ((newUsageRatio < 1.0 && newReplicas > currentReplicas) || (newUsageRatio > 1.0 && newReplicas < currentReplicas))
        {
            // The extra pods in the denominator would flip the direction of the change.
            return new HpaReplicaProposal(currentReplicas, utilization, null);
        }

        return new HpaReplicaProposal(newReplicas, utilization, null);
    }

    /// <summary>Tolerances.isWithin: (1 - down) ≤ ratio ≤ (1 + up), with one tolerance for both directions.</summary>
    public static bool IsWithinTolerance(double usageRatio, double tolerance) =>
        1.0 - tolerance <= usageRatio && usageRatio <= 1.0 + tolerance;

    // metrics.GetResourceUtilizationRatio: currentUtilization = int32(metricsTotal*100/requestsTotal), integer division.
    private static (double Ratio, int Utilization) UtilizationRatio(long usageMilli, int pods, int targetPercent)
    {
        long utilization = usageMilli * 100 / (pods * NominalRequestMilli);
        int clamped = (int)Math.Min(utilization, int.MaxValue);
        return ((double)clamped / targetPercent, clamped);
    }

    private static long ToMilli(double utilization)
    {
        if (!double.IsFinite(utilization) || utilization < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(utilization), utilization, "CPU utilization must be a finite, non-negative fraction of the request.");
        }

        return (long)Math.Round(Math.Min(utilization, MaxUtilization) * NominalRequestMilli, MidpointRounding.AwayFromZero);
    }

    private static int CeilToInt(double x) => x >= int.MaxValue ? int.MaxValue : (int)Math.Ceiling(x);
}

/// <summary>The group groupPods puts a pod in.</summary>
public enum HpaPodGroup
{
    /// <summary>Its sample counts.</summary>
    Ready,

    /// <summary>Set aside; assumed at 0% only when scaling up.</summary>
    Unready,

    /// <summary>No sample; assumed at 100% on scale-down, 0% on scale-up.</summary>
    Missing,

    /// <summary>Deleted or terminal: not counted at all.</summary>
    Ignored,
}

/// <param name="Replicas">The metric's desired replica count (meaningless when <see cref="Error"/> is set).</param>
/// <param name="UtilizationPercent">Average utilization of the ready pods in whole percent of the request, as the HPA status reports it.</param>
/// <param name="Error">Why no proposal could be computed (upstream returns an error and does not scale).</param>
public readonly record struct HpaReplicaProposal(int Replicas, int? UtilizationPercent, string? Error)
{
    public static HpaReplicaProposal Failed(string error) => new(0, null, error);
}
