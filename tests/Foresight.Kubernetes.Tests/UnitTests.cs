using Foresight.Orchestration;
using k8s.Models;

namespace Foresight.Kubernetes.Tests;

public sealed class InstanceStateMappingTests
{
    private static readonly DateTimeOffset s_now = new(2030, 1, 1, 0, 1, 0, TimeSpan.Zero);
    private static readonly AppWorkload s_workload = new() { Image = "x", WarmupSeconds = 20, WarmupStartCapacity = 0.5 };

    public enum Pod
    {
        None,
        Unscheduled,
        Creating,
        RunningNotReady,
        ReadySince10s,
        ReadySince30s,
        Terminating,
        PhaseFailed,
        CrashLooping,
    }

    [Theory]
    [InlineData(Pod.None, false, false, InstanceState.Pending, 0)]
    [InlineData(Pod.Unscheduled, false, false, InstanceState.Pending, 0)]
    [InlineData(Pod.Creating, false, false, InstanceState.Starting, 0)]
    [InlineData(Pod.RunningNotReady, false, false, InstanceState.Starting, 0)]
    [InlineData(Pod.ReadySince10s, false, false, InstanceState.Warming, 0.75)]
    [InlineData(Pod.ReadySince30s, false, false, InstanceState.Ready, 1)]
    [InlineData(Pod.ReadySince30s, true, false, InstanceState.Draining, 1)]
    [InlineData(Pod.Creating, true, false, InstanceState.Draining, 0)]
    [InlineData(Pod.None, true, false, InstanceState.Draining, 0)]
    [InlineData(Pod.ReadySince30s, true, true, InstanceState.Stopped, 0)]
    [InlineData(Pod.Terminating, false, false, InstanceState.Stopped, 0)]
    [InlineData(Pod.PhaseFailed, false, false, InstanceState.Failed, 0)]
    [InlineData(Pod.CrashLooping, false, false, InstanceState.Failed, 0)]
    public void Pod_and_claim_map_to_one_state(Pod pod, bool draining, bool stopped, InstanceState expected, double capacity)
    {
        var claim = new RegistryEntry
        {
            Id = "shop-edge-a-i1",
            CreatedAt = s_now.AddMinutes(-1),
            DrainingAt = draining ? s_now.AddSeconds(-1) : null,
            StoppedAt = stopped ? s_now : null,
        };

        InstanceInfo info = InstanceStateMapper.Map("shop-edge-a-i1", "shop", "edge-a", Make(pod), claim, s_workload, s_now);

        Assert.Equal(expected, info.State);
        Assert.Equal(capacity, info.CapacityFraction, 6);
    }

    [Fact]
    public void A_claim_whose_bound_pod_vanished_is_Failed_with_the_reason()
    {
        var claim = new RegistryEntry { Id = "i", Pod = "shop-edge-a-abc", CreatedAt = s_now };
        InstanceInfo info = InstanceStateMapper.Map("i", "shop", "edge-a", null, claim, s_workload, s_now);
        Assert.Equal(InstanceState.Failed, info.State);
        Assert.Contains("shop-edge-a-abc", info.FailureReason);
    }

    [Fact]
    public void Ready_reports_when_warm_up_ended_and_the_node()
    {
        InstanceInfo info = InstanceStateMapper.Map("p", "shop", "edge-a", Make(Pod.ReadySince30s), null, s_workload, s_now);
        Assert.Equal(s_now.AddSeconds(-10), info.ReadyAt);
        Assert.Equal(s_now.AddSeconds(-10), info.StateSince);
        Assert.Equal("node-1", info.ServerId);
    }

    private static V1Pod? Make(Pod kind)
    {
        if (kind == Pod.None)
        {
            return null;
        }

        var pod = new V1Pod
        {
            Metadata = new V1ObjectMeta { Name = "shop-edge-a-abc", CreationTimestamp = s_now.AddMinutes(-1).UtcDateTime },
            Spec = new V1PodSpec { Containers = [new V1Container { Name = "shop" }] },
            Status = new V1PodStatus { Phase = "Pending", Conditions = [] },
        };
        if (kind == Pod.Unscheduled)
        {
            pod.Status.Conditions.Add(new V1PodCondition { Type = "PodScheduled", Status = "False", Reason = "Unschedulable" });
            return pod;
        }

        pod.Spec.NodeName = "node-1";
        pod.Status.Conditions.Add(new V1PodCondition { Type = "PodScheduled", Status = "True", LastTransitionTime = s_now.AddSeconds(-50).UtcDateTime });
        switch (kind)
        {
            case Pod.RunningNotReady:
                pod.Status.Phase = "Running";
                pod.Status.Conditions.Add(new V1PodCondition { Type = "Ready", Status = "False" });
                break;
            case Pod.ReadySince10s or Pod.ReadySince30s or Pod.Terminating:
                pod.Status.Phase = "Running";
                pod.Status.Conditions.Add(new V1PodCondition
                {
                    Type = "Ready", Status = "True", LastTransitionTime = s_now.AddSeconds(kind == Pod.ReadySince10s ? -10 : -30).UtcDateTime,
                });
                if (kind == Pod.Terminating)
                {
                    pod.Metadata.DeletionTimestamp = s_now.AddSeconds(20).UtcDateTime;
                }

                break;
            case Pod.PhaseFailed:
                pod.Status.Phase = "Failed";
                pod.Status.Reason = "Evicted";
                break;
            case Pod.CrashLooping:
                pod.Status.Phase = "Running";
                pod.Status.ContainerStatuses =
                [
                    new V1ContainerStatus
                    {
                        Name = "shop", Image = "x", ImageID = "", Ready = false, RestartCount = 5,
                        State = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = "CrashLoopBackOff" } },
                    },
                ];
                break;
        }

        return pod;
    }
}

public sealed class OptionsTests
{
    private static KubernetesOrchestratorOptions Valid() => new()
    {
        Namespace = "edge",
        Sites = ["edge-a", "edge-b"],
        Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "shop:1" } },
        Gateway = new GatewayParent("gw"),
    };

    [Fact]
    public void Valid_options_have_no_errors_and_the_documented_defaults()
    {
        KubernetesOrchestratorOptions o = Valid();
        Assert.Empty(o.Validate());
        Assert.Equal(("topology.kubernetes.io/zone", "foresight", TrafficMode.Auto), (o.SiteLabelKey, o.FieldManager, o.TrafficMode));
    }

    public static TheoryData<string, Func<KubernetesOrchestratorOptions, KubernetesOrchestratorOptions>> Invalid => new()
    {
        { "namespace", o => o with { Namespace = "Edge_NS" } },
        { "siteLabelKey", o => o with { SiteLabelKey = "bad key" } },
        { "sites", o => o with { Sites = [] } },
        { "sites", o => o with { Sites = ["Edge A"] } },
        { "sites", o => o with { Sites = ["a", "a"] } },
        { "apps", o => o with { Apps = new Dictionary<string, AppWorkload>() } },
        { "apps.shop.image", o => o with { Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "" } } } },
        { "apps.shop.cpuRequest", o => o with { Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "x", CpuRequest = "lots" } } } },
        { "apps.shop.warmupStartCapacity", o => o with { Apps = new Dictionary<string, AppWorkload> { ["shop"] = new() { Image = "x", WarmupStartCapacity = 0 } } } },
        { "gateway", o => o with { Gateway = null } },
        { "drainGracePeriod", o => o with { DrainGracePeriod = TimeSpan.FromSeconds(-1) } },
        { "conflictRetries", o => o with { ConflictRetries = 0 } },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Each_invalid_field_is_named_and_construction_refuses_it(string field, Func<KubernetesOrchestratorOptions, KubernetesOrchestratorOptions> breakIt)
    {
        KubernetesOrchestratorOptions o = breakIt(Valid());
        Assert.Contains(o.Validate(), e => e.StartsWith(field + ":", StringComparison.Ordinal));
        using var client = new k8s.Kubernetes(new k8s.KubernetesClientConfiguration { Host = "http://127.0.0.1:9" });
        ArgumentException e = Assert.Throws<ArgumentException>(() => new KubernetesOrchestrator(client, o));
        Assert.Contains(field, e.Message);
    }

    [Fact]
    public void Selector_mode_needs_no_gateway()
    {
        Assert.Empty((Valid() with { Gateway = null, TrafficMode = TrafficMode.ServiceSelector }).Validate());
    }

    [Theory]
    [InlineData(new double[] { 80, 20 }, new[] { 80, 20 })]
    [InlineData(new double[] { 0.5, 0.5 }, new[] { 5000, 5000 })]
    [InlineData(new double[] { 1, 0 }, new[] { 1, 0 })]
    [InlineData(new double[] { 0.9999, 0.0001 }, new[] { 9999, 1 })]
    [InlineData(new double[] { 0.99999, 0.00001 }, new[] { 10000, 1 })]
    public void Weights_become_Gateway_API_integers(double[] weights, int[] expected)
    {
        var sites = new[] { "a", "b" };
        IReadOnlyList<(string Site, int Weight)> ints = KubernetesOrchestrator.IntegerWeights(
            weights.Select((w, i) => new SiteWeight(sites[i], w)).ToList());
        Assert.Equal(expected, ints.Select(w => w.Weight));
    }
}
