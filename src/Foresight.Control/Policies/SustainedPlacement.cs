using Foresight.Control.Placement;
using Foresight.Core.Topology;

namespace Foresight.Control.Policies;

/// <summary>
/// Turns a replica count into a per-site placement, reactively. Count changes apply at once (new replicas go where the
/// observed demand is least served; removals come from where it is most over-served). Relocating existing replicas
/// happens only after the observed demand has pointed elsewhere for <c>sustainSeconds</c>, as a descheduler-style
/// rebalancer would: this is the reactive relocation of the hpa and kpa baselines.
/// </summary>
public sealed class SustainedPlacement
{
    private readonly EdgeTopology _topology;
    private readonly double _sustainSeconds;
    private readonly double[] _differentSince;
    private readonly int[] _proposal;

    public SustainedPlacement(EdgeTopology topology, int apps, double sustainSeconds)
    {
        _topology = topology;
        _sustainSeconds = sustainSeconds;
        _differentSince = Enumerable.Repeat(double.NaN, apps).ToArray();
        _proposal = new int[topology.SiteCount];
    }

    public int Relocations { get; private set; }

    /// <param name="network">Live network conditions (<see cref="ClusterView.Network"/>); null places by static distance.</param>
    /// <param name="megabitsPerRequest">The app's request size on the wire, for link bandwidth.</param>
    /// <param name="budget">Link bandwidth shared by the apps placed in the same decision.</param>
    public void Update(
        int app,
        int total,
        ReadOnlySpan<double> demand,
        ReadOnlySpan<int> hostable,
        double now,
        DesiredPlacement desired,
        NetworkView? network = null,
        double megabitsPerRequest = 0,
        LinkBudget? budget = null)
    {
        int sites = _topology.SiteCount;
        Span<int> current = stackalloc int[sites];
        desired.ForApp(app).CopyTo(current);
        ReplicaPlacer.Place(_topology, total, demand, hostable, current, _proposal, network, megabitsPerRequest, budget);

        int have = desired.Total(app);
        while (have < total)
        {
            int best = ArgMax(_proposal, current, +1);
            current[best]++;
            have++;
        }

        while (have > total)
        {
            int best = ArgMax(_proposal, current, -1);
            current[best]--;
            have--;
        }

        if (!current.SequenceEqual(_proposal))
        {
            if (double.IsNaN(_differentSince[app]))
            {
                _differentSince[app] = now;
            }
            else if (now - _differentSince[app] >= _sustainSeconds)
            {
                _proposal.CopyTo(current);
                _differentSince[app] = double.NaN;
                Relocations++;
            }
        }
        else
        {
            _differentSince[app] = double.NaN;
        }

        desired.SetApp(app, current);
    }

    // direction +1: site whose proposal most exceeds current; -1: site whose current most exceeds proposal (and is > 0).
    private static int ArgMax(ReadOnlySpan<int> proposal, ReadOnlySpan<int> current, int direction)
    {
        int best = -1;
        int bestGap = int.MinValue;
        for (int s = 0; s < proposal.Length; s++)
        {
            if (direction < 0 && current[s] == 0)
            {
                continue;
            }

            int gap = direction * (proposal[s] - current[s]);
            if (gap > bestGap)
            {
                bestGap = gap;
                best = s;
            }
        }

        return best;
    }
}
