using Foresight.Control.Journal;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Orchestration;

namespace Foresight.Simulation.Tests.Reconcile;

/// <summary>The two strategies on the real simulator: how the weight of ingress site-0 moves to the new site.</summary>
public sealed class HotSwapTests
{
    /// <summary>Weight (of 1000) that ingress site-0 sends to site-2, after each pass, until converged.</summary>
    private static List<double> WeightsPerPass(ReconcileRig rig, ReconcilerOptions options, out int passesWithOldDrainingWhileRouted)
    {
        DesiredPlacement desired = ReconcileRig.Desired(0, 0, 1);
        JournaledReconciler controller = rig.Start(options: options);
        var weights = new List<double>();
        passesWithOldDrainingWhileRouted = 0;
        for (int t = 0; t < 400; t++)
        {
            if (t % 5 == 0)
            {
                controller.ReconcileAsync(desired, rig.Demand(), CancellationToken.None).AsTask().GetAwaiter().GetResult();
                rig.AssertSafe();
                ClusterSnapshot snap = rig.Sim.Snapshot();
                Route? route = snap.Routes.FirstOrDefault(r => r.IngressSiteId == "site-0");
                double total = route?.Weights.Sum(w => w.Weight) ?? 0;
                double toNew = route?.Weights.Where(w => w.SiteId == "site-2").Sum(w => w.Weight) ?? 0;
                weights.Add(total > 0 ? Math.Round(toNew / total * 1000) : 0);
                bool oldDraining = snap.Instances.Any(i => i.SiteId == "site-0" && i.State == InstanceState.Draining);
                passesWithOldDrainingWhileRouted += oldDraining && toNew < total ? 1 : 0;
                if (rig.Converged(desired))
                {
                    return weights;
                }
            }

            rig.Sim.Step();
            rig.AssertSafe();
        }

        Assert.Fail("did not converge");
        return weights;
    }

    [Fact]
    public void Hot_swap_moves_the_weights_in_quarter_steps_once_the_new_instance_is_ready()
    {
        using var rig = new ReconcileRig([1, 0, 0]);

        List<double> weights = WeightsPerPass(rig, new ReconcilerOptions { Strategy = MigrationStrategy.HotSwap }, out int unsafePasses);

        double[] moving = weights.Where(w => w is > 0 and < 1000).ToArray();
        Assert.Equal([250, 500, 750], moving);
        Assert.Equal(1000, weights[^1]);
        Assert.Equal(0, unsafePasses);
        Assert.Contains(rig.Journal.ForApp("api"), e => e.Kind == JournalKinds.Route && e.Detail.Contains("site-2=250", StringComparison.Ordinal));
    }

    [Fact]
    public void Pre_emptive_moves_all_of_the_weight_in_one_pass()
    {
        using var rig = new ReconcileRig([1, 0, 0]);

        List<double> weights = WeightsPerPass(rig, new ReconcilerOptions(), out int unsafePasses);

        Assert.DoesNotContain(weights, w => w is > 0 and < 1000);
        Assert.Equal(1000, weights[^1]);
        Assert.Equal(0, unsafePasses);
    }
}
