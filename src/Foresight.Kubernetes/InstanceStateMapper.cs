using Foresight.Orchestration;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// Maps a pod (and the spin-up claim bound to it) to the port's <see cref="InstanceState"/>. First match wins:
/// <list type="number">
/// <item>Stopped: the claim or pod carries <see cref="Names.StoppedAnnotation"/>, or the pod is terminating (deletionTimestamp).</item>
/// <item>Failed: pod phase Failed or Succeeded, a container waiting in CrashLoopBackOff, ImagePullBackOff, ErrImagePull,
/// InvalidImageName, CreateContainerConfigError or CreateContainerError, or a claim whose bound pod was deleted outside Foresight.</item>
/// <item>Draining: <see cref="Names.DrainingSinceAnnotation"/> on the pod or the claim (the pod has also left the Services).</item>
/// <item>Pending: a claim with no pod yet, or a pod not yet scheduled (PodScheduled is not True).</item>
/// <item>Starting: scheduled, Ready condition not True (image pull, container start, readiness probe failing).</item>
/// <item>Warming: Ready, for <see cref="AppWorkload.WarmupSeconds"/> after the Ready condition's lastTransitionTime.</item>
/// <item>Ready: Ready and past the warm-up period.</item>
/// </list>
/// </summary>
internal static class InstanceStateMapper
{
    private static readonly HashSet<string> s_fatalWaiting = new(StringComparer.Ordinal)
    {
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError", "CreateContainerError",
    };

    public static InstanceInfo Map(
        string id, string app, string site, V1Pod? pod, RegistryEntry? claim, AppWorkload workload, DateTimeOffset now)
    {
        DateTimeOffset created = claim?.CreatedAt ?? Time(pod?.Metadata.CreationTimestamp) ?? now;
        string? node = pod?.Spec?.NodeName;

        InstanceInfo Info(InstanceState state, DateTimeOffset since, double capacity = 0, DateTimeOffset? readyAt = null, string? reason = null) =>
            new(new InstanceId(id), app, site, string.IsNullOrEmpty(node) ? null : node, state, capacity, created, since, readyAt, 0, reason);

        if (claim?.StoppedAt is { } stoppedAt)
        {
            return Info(InstanceState.Stopped, stoppedAt);
        }

        if (pod is null)
        {
            if (claim?.Pod is not null)
            {
                return Info(InstanceState.Failed, now, reason: $"pod {claim.Pod} was deleted outside Foresight");
            }

            return claim?.DrainingAt is { } drainingAt ? Info(InstanceState.Draining, drainingAt) : Info(InstanceState.Pending, created);
        }

        IDictionary<string, string> annotations = pod.Metadata.Annotations ?? new Dictionary<string, string>();
        if (Parse(annotations, Names.StoppedAnnotation) is { } podStopped)
        {
            return Info(InstanceState.Stopped, podStopped);
        }

        if (pod.Metadata.DeletionTimestamp is { } deleting)
        {
            return Info(InstanceState.Stopped, Time(deleting) ?? now);
        }

        if (Failure(pod) is { } failure)
        {
            return Info(InstanceState.Failed, now, reason: failure);
        }

        V1PodCondition? ready = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "Ready");
        bool isReady = ready?.Status == "True";
        DateTimeOffset readySince = Time(ready?.LastTransitionTime) ?? now;
        TimeSpan warmup = TimeSpan.FromSeconds(workload.WarmupSeconds);
        DateTimeOffset? readyAt = isReady ? readySince + warmup : null;

        DateTimeOffset? draining = Parse(annotations, Names.DrainingSinceAnnotation) ?? claim?.DrainingAt;
        if (draining is { } drainingSince)
        {
            return Info(InstanceState.Draining, drainingSince, isReady ? Capacity(workload, readySince, now) : 0, readyAt);
        }

        V1PodCondition? scheduled = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
        if (scheduled?.Status != "True")
        {
            return Info(InstanceState.Pending, Time(pod.Metadata.CreationTimestamp) ?? created);
        }

        if (!isReady)
        {
            return Info(InstanceState.Starting, Time(scheduled.LastTransitionTime) ?? created);
        }

        if (now < readySince + warmup)
        {
            return Info(InstanceState.Warming, readySince, Capacity(workload, readySince, now), readyAt);
        }

        return Info(InstanceState.Ready, readySince + warmup, 1.0, readyAt);
    }

    /// <summary>Capacity ramps linearly over the warm-up period, from <see cref="AppWorkload.WarmupStartCapacity"/> to 1.</summary>
    internal static double Capacity(AppWorkload workload, DateTimeOffset readySince, DateTimeOffset now)
    {
        if (workload.WarmupSeconds <= 0)
        {
            return 1.0;
        }

        double progress = Math.Clamp((now - readySince).TotalSeconds / workload.WarmupSeconds, 0, 1);
        return workload.WarmupStartCapacity + ((1 - workload.WarmupStartCapacity) * progress);
    }

    private static string? Failure(V1Pod pod)
    {
        if (pod.Status?.Phase is "Failed" or "Succeeded")
        {
            return $"pod {pod.Metadata.Name} phase {pod.Status.Phase}: {pod.Status.Reason ?? pod.Status.Message ?? "terminated"}";
        }

        foreach (V1ContainerStatus status in pod.Status?.ContainerStatuses ?? [])
        {
            if (status.State?.Waiting?.Reason is { } reason && s_fatalWaiting.Contains(reason))
            {
                return $"container {status.Name}: {reason}{(status.State.Waiting.Message is { } m ? ": " + m : "")}";
            }
        }

        return null;
    }

    private static DateTimeOffset? Parse(IDictionary<string, string> annotations, string key) =>
        annotations.TryGetValue(key, out string? value) && DateTimeOffset.TryParse(value, System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal, out DateTimeOffset t)
            ? t
            : null;

    private static DateTimeOffset? Time(DateTime? t) =>
        t is { } v ? new DateTimeOffset(v.Kind == DateTimeKind.Local ? v.ToUniversalTime() : DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;
}
