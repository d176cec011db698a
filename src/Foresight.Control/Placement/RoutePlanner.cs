using Foresight.Core.Topology;

namespace Foresight.Control.Placement;

/// <summary>
/// Locality-first traffic weights: each ingress site's demand goes to the nearest sites with serving capacity,
/// filling each up to <c>maxUtilization</c> before spilling to the next nearest; demand beyond all capacity is spread
/// in proportion to capacity. Pairs are filled globally in RTT order so nearby demand claims nearby capacity first.
/// </summary>
public static class RoutePlanner
{
    /// <param name="weights">[ingress][destination] output weights; a row of zeros means "no route needed".</param>
    public static void Plan(
        EdgeTopology topology,
        ReadOnlySpan<double> demandByIngress,
        ReadOnlySpan<double> capacityBySite,
        double maxUtilization,
        double[][] weights) => Plan(topology, demandByIngress, capacityBySite, maxUtilization, weights, network: null, megabitsPerRequest: 0);

    /// <summary>
    /// As the other overload, but pairs are filled in order of live cost (<see cref="NetworkView.CostMs"/>: RTT plus a
    /// full buffer's delay on a saturated path) and no path is given more than its links' bandwidth holds at
    /// <paramref name="maxUtilization"/> (a site's own link is shared by every path into it). A null
    /// <paramref name="network"/> gives exactly the other overload's answer.
    /// </summary>
    public static void Plan(
        EdgeTopology topology,
        ReadOnlySpan<double> demandByIngress,
        ReadOnlySpan<double> capacityBySite,
        double maxUtilization,
        double[][] weights,
        NetworkView? network,
        double megabitsPerRequest,
        LinkBudget? budget = null)
    {
        int sites = topology.SiteCount;
        var remainingDemand = new double[sites];
        var room = new double[sites];
        double totalCapacity = 0;
        for (int s = 0; s < sites; s++)
        {
            remainingDemand[s] = Math.Max(0, demandByIngress[s]);
            room[s] = Math.Max(0, capacityBySite[s]) * maxUtilization;
            totalCapacity += Math.Max(0, capacityBySite[s]);
            Array.Clear(weights[s]);
        }

        if (totalCapacity <= 0)
        {
            return;
        }

        var pairs = new List<(double Rtt, int From, int To)>(sites * sites);
        for (int i = 0; i < sites; i++)
        {
            for (int j = 0; j < sites; j++)
            {
                if (capacityBySite[j] > 0)
                {
                    pairs.Add((network?.CostMs(i, j) ?? topology.SiteRttMs(i, j), i, j));
                }
            }
        }

        pairs.Sort();
        if (network is not null)
        {
            budget ??= new LinkBudget(network, maxUtilization);
        }

        foreach ((double _, int from, int to) in pairs)
        {
            if (remainingDemand[from] <= 0 || room[to] <= 0)
            {
                continue;
            }

            double take = Math.Min(remainingDemand[from], room[to]);
            if (budget is not null)
            {
                take = Math.Min(take, budget.RoomRps(from, to, megabitsPerRequest));
                if (take <= 0)
                {
                    continue;
                }

                budget.Use(from, to, take, megabitsPerRequest);
            }

            weights[from][to] += take;
            remainingDemand[from] -= take;
            room[to] -= take;
        }

        for (int i = 0; i < sites; i++)
        {
            if (remainingDemand[i] > 0)
            {
                // Beyond all room: spread by capacity, over paths that are not saturated when there are any.
                double spread = 0;
                for (int j = 0; j < sites; j++)
                {
                    spread += network is not null && network.IsSaturated(i, j) ? 0 : Math.Max(0, capacityBySite[j]);
                }

                bool avoid = spread > 0;
                spread = avoid ? spread : totalCapacity;
                for (int j = 0; j < sites; j++)
                {
                    double c = avoid && network is not null && network.IsSaturated(i, j) ? 0 : Math.Max(0, capacityBySite[j]);
                    weights[i][j] += remainingDemand[i] * c / spread;
                }
            }

            if (demandByIngress[i] <= 0)
            {
                // No demand seen yet: send whatever arrives to the nearest serving site.
                foreach ((double _, int from, int to) in pairs)
                {
                    if (from == i)
                    {
                        weights[i][to] = 1;
                        break;
                    }
                }
            }
        }
    }
}
