using Foresight.Control.Placement;
using Foresight.Orchestration;

namespace Foresight.Control.Policies;

/// <summary>
/// Fixed provisioning: an operator sizes each site once for the busiest moment of a short history window (by default
/// the first trace day) at the target utilization, and never changes it.
/// </summary>
public sealed class StaticPolicy : IScalingPolicy
{
    private readonly Func<int, int, double> _peakRate;
    private bool _done;

    /// <param name="peakRate">(app, site) -> the peak request rate entering at that site in the planning window.</param>
    public StaticPolicy(Func<int, int, double> peakRate)
    {
        _peakRate = peakRate;
    }

    public string Name { get; init; } = "static";

    public double DecisionPeriodSeconds => 3600;

    public void OnStep(PolicyContext context)
    {
    }

    public void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired)
    {
        if (_done)
        {
            return;
        }

        _done = true;
        for (int a = 0; a < context.Apps.Count; a++)
        {
            double perInstance = context.Apps[a].InstanceCapacityRps * context.TargetUtilization;
            int total = 0;
            for (int s = 0; s < context.Topology.SiteCount; s++)
            {
                int n = (int)Math.Ceiling(_peakRate(a, s) / perInstance);
                desired[a, s] = n;
                total += n;
            }

            int min = context.Apps[a].MinInstances;
            int max = context.Apps[a].MaxInstances;
            while (total < min)
            {
                desired[a, ArgMaxPeak(context, a)]++;
                total++;
            }

            while (total > max)
            {
                int s = ArgMaxReplicas(desired, a);
                desired[a, s]--;
                total--;
            }
        }
    }

    private int ArgMaxPeak(PolicyContext context, int app)
    {
        int best = 0;
        for (int s = 1; s < context.Topology.SiteCount; s++)
        {
            if (_peakRate(app, s) > _peakRate(app, best))
            {
                best = s;
            }
        }

        return best;
    }

    private static int ArgMaxReplicas(DesiredPlacement desired, int app)
    {
        int best = 0;
        for (int s = 1; s < desired.SiteCount; s++)
        {
            if (desired[app, s] > desired[app, best])
            {
                best = s;
            }
        }

        return best;
    }
}
