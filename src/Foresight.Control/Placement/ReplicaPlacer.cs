using Foresight.Core.Topology;

namespace Foresight.Control.Placement;

/// <summary>
/// Spreads an app's replica count over sites in proportion to the demand that enters near each site,
/// respecting how many replicas each site can still host. Pure and deterministic.
/// </summary>
public static class ReplicaPlacer
{
    /// <param name="topology">Sites and RTTs.</param>
    /// <param name="total">Replicas to place.</param>
    /// <param name="demandByIngress">Demand (req/s) entering at each site.</param>
    /// <param name="hostable">Upper bound of replicas per site for this app (free CPU / instance CPU, plus its own current ones).</param>
    /// <param name="fallback">Placement to keep when there is no demand signal at all (e.g. the current one).</param>
    /// <param name="result">Replicas per site.</param>
    public static void Place(
        EdgeTopology topology,
        int total,
        ReadOnlySpan<double> demandByIngress,
        ReadOnlySpan<int> hostable,
        ReadOnlySpan<int> fallback,
        Span<int> result) => Place(topology, total, demandByIngress, hostable, fallback, result, network: null, megabitsPerRequest: 0);

    /// <summary>
    /// As the other overload, but under live network conditions: each ingress's demand is first moved to the sites the
    /// network serves it best from (<see cref="NetworkHoming"/>: lowest live RTT, avoiding saturated links, within
    /// link bandwidth), and the repair looks for room in order of live cost. A null <paramref name="network"/> is the
    /// static topology and gives exactly the other overload's answer.
    /// </summary>
    /// <param name="megabitsPerRequest">The app's request size on the wire (<c>AppProfile.MegabitsPerRequest</c>).</param>
    /// <param name="budget">Link bandwidth the apps placed before this one in the same pass left; null starts a fresh one.</param>
    public static void Place(
        EdgeTopology topology,
        int total,
        ReadOnlySpan<double> demandByIngress,
        ReadOnlySpan<int> hostable,
        ReadOnlySpan<int> fallback,
        Span<int> result,
        NetworkView? network,
        double megabitsPerRequest,
        LinkBudget? budget = null)
    {
        int sites = topology.SiteCount;
        if (network is not null)
        {
            double[] homed = new double[sites];
            NetworkHoming.Rehome(network, demandByIngress, megabitsPerRequest, NetworkHoming.DefaultMaxUtilization, homed, budget: budget);
            demandByIngress = homed;
        }

        result.Clear();
        if (total <= 0)
        {
            return;
        }

        double demandSum = 0;
        foreach (double d in demandByIngress)
        {
            demandSum += Math.Max(0, d);
        }

        Span<double> share = stackalloc double[sites];
        if (demandSum > 0)
        {
            for (int s = 0; s < sites; s++)
            {
                share[s] = Math.Max(0, demandByIngress[s]) / demandSum;
            }
        }
        else
        {
            int fallbackSum = 0;
            foreach (int f in fallback)
            {
                fallbackSum += f;
            }

            for (int s = 0; s < sites; s++)
            {
                share[s] = fallbackSum > 0 ? (double)fallback[s] / fallbackSum : (s == 0 ? 1 : 0);
            }
        }

        // Largest remainder apportionment.
        Span<double> remainder = stackalloc double[sites];
        int assigned = 0;
        for (int s = 0; s < sites; s++)
        {
            double exact = share[s] * total;
            int whole = (int)Math.Floor(exact);
            result[s] = whole;
            remainder[s] = exact - whole;
            assigned += whole;
        }

        while (assigned < total)
        {
            int best = -1;
            for (int s = 0; s < sites; s++)
            {
                if (share[s] > 0 && (best < 0 || remainder[s] > remainder[best]))
                {
                    best = s;
                }
            }

            if (best < 0)
            {
                best = 0;
            }

            result[best]++;
            remainder[best] = -1;
            assigned++;
        }

        // Repair: move replicas a site cannot host to the nearest site with room.
        for (int s = 0; s < sites; s++)
        {
            int excess = result[s] - hostable[s];
            if (excess <= 0)
            {
                continue;
            }

            result[s] = hostable[s];
            int from = s;
            int[] order = Enumerable.Range(0, sites)
                .Where(t => t != from)
                .OrderBy(t => network?.CostMs(from, t) ?? topology.SiteRttMs(from, t))
                .ThenBy(t => t)
                .ToArray();
            foreach (int t in order)
            {
                int room = hostable[t] - result[t];
                if (room <= 0)
                {
                    continue;
                }

                int moved = Math.Min(room, excess);
                result[t] += moved;
                excess -= moved;
                if (excess == 0)
                {
                    break;
                }
            }

            // Whatever cannot be hosted anywhere stays here and waits for capacity (Pending), as on a full cluster.
            result[s] += excess;
        }
    }
}
