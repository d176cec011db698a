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
        double[][] weights)
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
                    pairs.Add((topology.SiteRttMs(i, j), i, j));
                }
            }
        }

        pairs.Sort();
        foreach ((double _, int from, int to) in pairs)
        {
            if (remainingDemand[from] <= 0 || room[to] <= 0)
            {
                continue;
            }

            double take = Math.Min(remainingDemand[from], room[to]);
            weights[from][to] += take;
            remainingDemand[from] -= take;
            room[to] -= take;
        }

        for (int i = 0; i < sites; i++)
        {
            if (remainingDemand[i] > 0)
            {
                for (int j = 0; j < sites; j++)
                {
                    weights[i][j] += remainingDemand[i] * Math.Max(0, capacityBySite[j]) / totalCapacity;
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
