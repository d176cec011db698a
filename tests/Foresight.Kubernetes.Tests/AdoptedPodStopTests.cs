using Foresight.Kubernetes.Tests.Fake;
using Foresight.Orchestration;

namespace Foresight.Kubernetes.Tests;

/// <summary>
/// Stopping the pods of a user's own Deployment (instances no spin-up of ours made, so the registry has no entry for
/// them): the replica goes with the pod, so the ReplicaSet does not replace it.
/// </summary>
public sealed class AdoptedPodStopTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    [Fact]
    public async Task Draining_and_stopping_both_pods_of_a_users_Deployment_scales_it_to_zero_without_replacements()
    {
        await using var f = new KubernetesFixture();
        f.Server.Create("deployments", UserWorkloads.Deployment("shop-edge-a", "edge-a", replicas: 2, ("app", "shop")));
        await f.AdvanceAsync(f.ReadyWithin);
        IReadOnlyList<InstanceInfo> pods = (await f.Kube.ObserveAsync(s_none)).Instances;
        Assert.Equal(2, pods.Count);

        // As the reconciler retires a site: drain both, then (a drain period later) stop both in one pass.
        foreach (InstanceInfo pod in pods)
        {
            await f.Kube.DrainAsync(pod.Id, s_none);
        }

        await f.AdvanceAsync(TimeSpan.FromSeconds(5));
        foreach (InstanceInfo pod in pods)
        {
            await f.Kube.StopAsync(pod.Id, s_none);
        }

        // Passes of a level-triggered controller after that: each stops what it still sees.
        for (int i = 0; i < 6; i++)
        {
            await f.AdvanceAsync(TimeSpan.FromSeconds(5));
            foreach (InstanceInfo left in (await f.Kube.ObserveAsync(s_none)).Instances)
            {
                await f.Kube.StopAsync(left.Id, s_none);
            }
        }

        await f.AdvanceAsync(f.Options.DrainGracePeriod + TimeSpan.FromSeconds(2));
        Assert.Equal(0, f.Server.Get("deployments", "shop-edge-a")!["spec"]!["replicas"]!.GetValue<int>());
        Assert.Equal(2, f.Cluster.CreatedPods.Count);
        Assert.Empty(f.Server.List("pods"));
        Assert.Empty((await f.Kube.ObserveAsync(s_none)).Instances);
    }
}
