namespace Foresight.Control.Policies.Baselines;

/// <summary>
/// What the HPA controller sees of one pod in a sync: the pod's status (phase, start time, Ready condition) and its
/// CPU sample from the resource metrics API. Upstream's groupPods (pkg/controller/podautoscaler/replica_calculator.go)
/// reads exactly these fields, so they are modelled rather than dropped.
/// </summary>
/// <remarks>
/// A suggested mapping from simulator instance states: Pending → <see cref="PodPhase.Pending"/> with no start time;
/// Starting (cold start) → Running, not Ready, <see cref="StartTime"/> = when it was scheduled; Warming and Ready →
/// Running, Ready, <see cref="ReadyTransitionTime"/> = when it began serving; Draining / Failed →
/// <see cref="PodPhase.Terminating"/>. Utilization is the busy CPU over the pod's request.
/// </remarks>
/// <param name="StartTime"><c>status.startTime</c> (simulation time); null before the kubelet has started the pod. A pod without it is treated as unready.</param>
/// <param name="Ready">Status of the pod's Ready condition.</param>
/// <param name="ReadyTransitionTime"><c>lastTransitionTime</c> of the Ready condition: when it last became ready (or unready).</param>
/// <param name="CpuUtilization">Mean CPU usage over the sample window as a fraction of the pod's CPU request (1.0 = 100%); null when the metrics API has no sample for the pod.</param>
public readonly record struct PodMetric(TimeSpan? StartTime, bool Ready, TimeSpan ReadyTransitionTime, double? CpuUtilization)
{
    /// <summary>Pod phase; default Running.</summary>
    public PodPhase Phase { get; init; }

    /// <summary>When the CPU sample was taken; null means "at the reconcile's <c>now</c>".</summary>
    public TimeSpan? MetricTimestamp { get; init; }

    /// <summary>A Running pod that has been Ready since <paramref name="readySince"/> (started at the same time).</summary>
    public static PodMetric Serving(TimeSpan readySince, double? cpuUtilization) =>
        new(readySince, true, readySince, cpuUtilization);
}

/// <summary>The part of the pod phase and deletion state the HPA distinguishes.</summary>
public enum PodPhase
{
    /// <summary>Running (or Ready): its metric is used subject to the readiness rules.</summary>
    Running,

    /// <summary>Phase Pending: always set aside as unready.</summary>
    Pending,

    /// <summary>Has a deletionTimestamp, or is Succeeded/Failed: ignored entirely.</summary>
    Terminating,
}
