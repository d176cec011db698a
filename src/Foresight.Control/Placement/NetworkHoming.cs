using Foresight.Core.Topology;

namespace Foresight.Control.Placement;

/// <summary>
/// Where each ingress site's demand is best served under the live network: paths are taken in order of their live
/// cost (<see cref="NetworkView.CostMs"/>), each carrying at most what its bandwidth holds at the routing utilisation,
/// with a site's own link shared by every path into it. On a healthy network every site's own path costs 0 ms, so
/// demand stays where it enters. Pure and deterministic.
/// </summary>
public static class NetworkHoming
{
    /// <summary>Utilisation a capped link is planned to, the same headroom the routes keep on instances.</summary>
    public const double DefaultMaxUtilization = 0.85;

    /// <summary>
    /// Splits <paramref name="demandByIngress"/> (req/s) over serving sites into <paramref name="demandBySite"/>.
    /// Demand no path has room for stays at the ingress's cheapest site.
    /// </summary>
    /// <param name="flows">When given, [from * sites + to] receives the demand each pair carries.</param>
    /// <param name="budget">Link bandwidth other apps of the same pass have not planned yet; null starts a fresh one.</param>
    public static void Rehome(
        NetworkView network,
        ReadOnlySpan<double> demandByIngress,
        double megabitsPerRequest,
        double maxUtilization,
        Span<double> demandBySite,
        double[]? flows = null,
        LinkBudget? budget = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        int n = network.SiteCount;
        budget ??= new LinkBudget(network, maxUtilization);
        demandBySite.Clear();
        var remaining = new double[n];
        for (int s = 0; s < n; s++)
        {
            remaining[s] = Math.Max(0, demandByIngress[s]);
        }

        var cheapest = new int[n];
        Array.Fill(cheapest, -1);
        foreach ((double _, int from, int to) in network.PathsByCost)
        {
            if (cheapest[from] < 0)
            {
                cheapest[from] = to;
            }

            if (remaining[from] <= 0)
            {
                continue;
            }

            double take = Math.Min(remaining[from], budget.RoomRps(from, to, megabitsPerRequest));
            if (take <= 0)
            {
                continue;
            }

            demandBySite[to] += take;
            remaining[from] -= take;
            budget.Use(from, to, take, megabitsPerRequest);
            if (flows is not null)
            {
                flows[(from * n) + to] += take;
            }
        }

        for (int i = 0; i < n; i++)
        {
            if (remaining[i] > 0)
            {
                demandBySite[cheapest[i]] += remaining[i];
                if (flows is not null)
                {
                    flows[(i * n) + cheapest[i]] += remaining[i];
                }
            }
        }
    }
}
