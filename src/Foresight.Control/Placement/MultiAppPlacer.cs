namespace Foresight.Control.Placement;

/// <summary>One app's replicas to place: how many serve the demand entering at each site, and how large each is.</summary>
/// <param name="Cpu">CPU units one replica takes (the app's concurrency).</param>
/// <param name="Replicas">Per ingress site: replicas needed for the demand entering there.</param>
/// <param name="DemandRps">Per ingress site: that demand, which the replicas share evenly.</param>
public sealed record AppNeed(int Cpu, IReadOnlyList<int> Replicas, IReadOnlyList<double> DemandRps);

/// <summary>
/// Many apps placed at once under shared site capacity. The objective is the demand-weighted network latency
/// Σ demand × RTT(ingress, serving site) of DESIGN.md §3: each replica carries an equal share of the demand entering at
/// its ingress site. Queueing delay does not depend on where a replica runs (each is sized to the same utilization), so
/// it is left out.
/// </summary>
/// <param name="RttMs">[from][to] site RTTs.</param>
/// <param name="CapacityCpu">Per site: CPU units the apps being placed may use (free CPU plus what they hold now).</param>
/// <param name="Apps">What each app needs.</param>
public sealed record PlacementProblem(IReadOnlyList<IReadOnlyList<double>> RttMs, IReadOnlyList<int> CapacityCpu, IReadOnlyList<AppNeed> Apps)
{
    public int SiteCount => CapacityCpu.Count;

    /// <summary>The problem's first inconsistency (a field name and why), or null when it is well formed.</summary>
    public string? Validate()
    {
        int sites = CapacityCpu.Count;
        if (RttMs.Count != sites || RttMs.Any(r => r.Count != sites || r.Any(v => !(v >= 0) || double.IsInfinity(v))))
        {
            return $"{nameof(RttMs)} must be a {sites} x {sites} matrix of finite, non-negative values";
        }

        if (CapacityCpu.Any(c => c < 0))
        {
            return $"{nameof(CapacityCpu)} must be non-negative";
        }

        for (int a = 0; a < Apps.Count; a++)
        {
            AppNeed app = Apps[a];
            if (app.Cpu < 1 || app.Replicas.Count != sites || app.DemandRps.Count != sites
                || app.Replicas.Any(r => r < 0) || app.DemandRps.Any(d => !(d >= 0) || double.IsInfinity(d)))
            {
                return $"{nameof(Apps)}[{a}] needs Cpu >= 1 and {sites} non-negative replica counts and demands";
            }
        }

        return null;
    }
}

/// <summary>A placement of every app: replicas per (app, site it runs at).</summary>
/// <param name="Replicas">[app][site] replica counts.</param>
/// <param name="Cost">Σ demand share × RTT over the placed replicas.</param>
/// <param name="Unplaced">Replicas that fit nowhere (0 when the placement is feasible).</param>
public sealed record MultiAppPlacement(int[][] Replicas, double Cost, int Unplaced)
{
    public bool Feasible => Unplaced == 0;

    /// <summary>Replicas of <paramref name="app"/> per site they run at.</summary>
    public int[] BySite(int app) => Replicas[app];
}

/// <summary>
/// Greedy multi-app placement with a repair pass, and an exact solver for small cases to measure it against.
/// <para>
/// Greedy: each replica goes to the lowest-latency site from its ingress that still has room, so a replica that would
/// over-fill its own site moves to the next-best feasible one. Two orders are tried: heaviest demand share first (cost)
/// and largest replica first. The second is complete when replica sizes divide one another (1, 2, 4 cores...): every
/// size class then sees the same number of free slots whatever the earlier choices were, so it places everything
/// whenever any placement exists (docs/design/0013-multi-app-placement-and-migration-report.md).
/// </para>
/// <para>
/// Repair: moves to a nearer site with room, and ejections (one resident of a full nearer site goes to its best other
/// site, possibly the one being vacated) while they lower the cost. This undoes the order-dependence of the first pass.
/// </para>
/// </summary>
public static class MultiAppPlacer
{
    private const double Epsilon = 1e-9;

    /// <summary>The greedy placement with repair.</summary>
    /// <param name="problem">Apps, capacities and RTTs.</param>
    /// <param name="repair">Run the repair pass (off only to measure what it adds).</param>
    public static MultiAppPlacement Place(PlacementProblem problem, bool repair = true)
    {
        Throw(problem);
        Group[] groups = Groups(problem);
        double[][] rtt = problem.RttMs.Select(r => r.ToArray()).ToArray();
        int[][] near = Nearest(rtt);

        // Two orders: heaviest demand share first (cost), and largest replica first (complete for divisible sizes).
        // The first that places everything at the lower cost wins, so the guarantee of the second is kept.
        int[] byWeight = Order(groups, (p, q) => Compare(q.Weight, p.Weight, q.Cpu, p.Cpu));
        MultiAppPlacement best = Greedy(problem, groups, rtt, near, byWeight, repair);
        if (!best.Feasible || Array.Exists(groups, g => g.Cpu != groups[0].Cpu))
        {
            int[] bySize = Order(groups, (p, q) => Compare(q.Cpu, p.Cpu, q.Weight, p.Weight));
            MultiAppPlacement other = Greedy(problem, groups, rtt, near, bySize, repair);
            if (other.Unplaced < best.Unplaced || (other.Unplaced == best.Unplaced && other.Cost < best.Cost - Epsilon))
            {
                best = other;
            }
        }

        return best;
    }

    private static int Compare(double first1, double first2, double second1, double second2) =>
        first1 != first2 ? first1.CompareTo(first2) : second1.CompareTo(second2);

    /// <summary>Group indices sorted by <paramref name="comparison"/>, ties by index (deterministic).</summary>
    private static int[] Order(Group[] groups, Func<Group, Group, int> comparison)
    {
        int[] order = new int[groups.Length];
        for (int g = 0; g < order.Length; g++)
        {
            order[g] = g;
        }

        Array.Sort(order, (p, q) =>
        {
            int c = comparison(groups[p], groups[q]);
            return c != 0 ? c : p.CompareTo(q);
        });
        return order;
    }

    private static MultiAppPlacement Greedy(PlacementProblem problem, Group[] groups, double[][] rtt, int[][] near, int[] order, bool repair)
    {
        int sites = problem.SiteCount;
        var room = problem.CapacityCpu.ToArray();
        var x = new Counts(groups.Length, sites);
        int unplaced = 0;
        foreach (int g in order)
        {
            Group group = groups[g];
            int left = group.Count;
            foreach (int s in near[group.Ingress])
            {
                int fit = Math.Min(left, room[s] / group.Cpu);
                x[g, s] += fit;
                room[s] -= fit * group.Cpu;
                left -= fit;
                if (left == 0)
                {
                    break;
                }
            }

            unplaced += left;
        }

        if (repair)
        {
            Repair(rtt, near, groups, x, room);
        }

        return Build(problem.Apps.Count, rtt, groups, x, unplaced);
    }

    /// <summary>
    /// The optimum by branch and bound over replicas (largest first; replicas of one group take non-decreasing sites, so
    /// equal replicas are not permuted). Exponential: for checking the greedy on small cases only.
    /// </summary>
    /// <param name="problem">Apps, capacities and RTTs.</param>
    /// <param name="maxReplicas">Refuses larger problems.</param>
    /// <returns>The optimal placement, or one with every replica unplaced when none is feasible.</returns>
    public static MultiAppPlacement Exact(PlacementProblem problem, int maxReplicas = 16)
    {
        Throw(problem);
        Group[] groups = Groups(problem);
        int sites = problem.SiteCount;
        var items = new List<int>();
        foreach (int g in Enumerable.Range(0, groups.Length).OrderByDescending(g => groups[g].Cpu).ThenBy(g => g))
        {
            items.AddRange(Enumerable.Repeat(g, groups[g].Count));
        }

        if (items.Count > maxReplicas)
        {
            throw new ArgumentException($"The exact solver takes at most {maxReplicas} replicas; this problem has {items.Count}.", nameof(problem));
        }

        // Lower bound of what is left: each remaining replica at its cheapest site, ignoring capacity.
        var suffix = new double[items.Count + 1];
        for (int k = items.Count - 1; k >= 0; k--)
        {
            Group g = groups[items[k]];
            double min = double.MaxValue;
            for (int s = 0; s < sites; s++)
            {
                min = Math.Min(min, g.Cost(problem, s));
            }

            suffix[k] = suffix[k + 1] + min;
        }

        var room = problem.CapacityCpu.ToArray();
        var site = new int[items.Count];
        int[]? best = null;
        double bestCost = double.PositiveInfinity;

        void Search(int k, double cost)
        {
            if (cost + suffix[k] >= bestCost - Epsilon)
            {
                return;
            }

            if (k == items.Count)
            {
                bestCost = cost;
                best = (int[])site.Clone();
                return;
            }

            Group g = groups[items[k]];
            int first = k > 0 && items[k - 1] == items[k] ? site[k - 1] : 0;
            for (int s = first; s < sites; s++)
            {
                if (room[s] < g.Cpu)
                {
                    continue;
                }

                room[s] -= g.Cpu;
                site[k] = s;
                Search(k + 1, cost + g.Cost(problem, s));
                room[s] += g.Cpu;
            }
        }

        Search(0, 0);
        var x = new Counts(groups.Length, sites);
        double[][] rtt = problem.RttMs.Select(r => r.ToArray()).ToArray();
        if (best is null)
        {
            return Build(problem.Apps.Count, rtt, groups, x, items.Count);
        }

        for (int k = 0; k < items.Count; k++)
        {
            x[items[k], best[k]]++;
        }

        return Build(problem.Apps.Count, rtt, groups, x, 0);
    }

    /// <summary>The cost of the cheapest placement if capacity were unlimited: a lower bound of the optimum.</summary>
    public static double LowerBound(PlacementProblem problem)
    {
        Throw(problem);
        double sum = 0;
        foreach (Group g in Groups(problem))
        {
            double min = double.MaxValue;
            for (int s = 0; s < problem.SiteCount; s++)
            {
                min = Math.Min(min, g.Cost(problem, s));
            }

            sum += g.Count * min;
        }

        return sum;
    }

    private static void Repair(double[][] rtt, int[][] near, Group[] groups, Counts x, int[] room)
    {
        int sites = rtt.Length;

        // Groups with replicas at each site (entries may be stale or repeated; readers check x), so finding a replica
        // to send elsewhere looks at one site's residents, not at every group. Built on first need: most ticks have
        // every replica at its nearest site and never need it.
        List<int>[]? residents = null;
        List<int>[] Residents()
        {
            if (residents is null)
            {
                residents = new List<int>[sites];
                for (int s = 0; s < sites; s++)
                {
                    residents[s] = [];
                }

                for (int g = 0; g < groups.Length; g++)
                {
                    for (int s = 0; s < sites; s++)
                    {
                        if (x[g, s] > 0)
                        {
                            residents[s].Add(g);
                        }
                    }
                }
            }

            return residents;
        }

        // Every accepted step lowers the cost by more than Epsilon, so this ends. The work cap keeps a decision tick
        // bounded when capacity binds everywhere (the repair then stops early, with a feasible placement); small
        // problems never reach it.
        long work = 0;
        long maxWork = Math.Max(1_000_000, 16L * groups.Length);
        bool improved = true;
        while (improved && work < maxWork)
        {
            improved = false;
            for (int g = 0; g < groups.Length && work < maxWork; g++)
            {
                int[] order = near[groups[g].Ingress];
                work++;
                if (x[g, order[0]] == groups[g].Count)
                {
                    continue; // all at the nearest site: nothing to gain
                }

                work += sites;

                for (int s = 0; s < sites; s++)
                {
                    if (x[g, s] == 0)
                    {
                        continue;
                    }

                    double here = groups[g].Cost(rtt, s);

                    // Only sites nearer the ingress than s can improve; most replicas sit at their nearest and skip this.
                    for (int k = 0; k < sites && x[g, s] > 0; k++)
                    {
                        int t = order[k];
                        double gain = here - groups[g].Cost(rtt, t);
                        if (t == s || gain <= Epsilon)
                        {
                            if (rtt[groups[g].Ingress][t] >= rtt[groups[g].Ingress][s])
                            {
                                break;
                            }

                            continue;
                        }

                        if (room[t] >= groups[g].Cpu)
                        {
                            Move(groups, x, room, residents, g, s, t);
                            improved = true;
                            continue;
                        }

                        // t is full: make room by sending one replica h at t to its best other site u, when h loses
                        // less than g gains (u may be s itself, which g is leaving: a swap).
                        (int h, int u) = BestEjection(rtt, near, groups, x, room, Residents()[t], g, s, t, gain, ref work);
                        if (h >= 0)
                        {
                            Move(groups, x, room, residents, h, t, u);
                            Move(groups, x, room, residents, g, s, t);
                            improved = true;
                        }
                    }
                }
            }
        }
    }

    private static (int Group, int Site) BestEjection(
        double[][] rtt, int[][] near, Group[] groups, Counts x, int[] room, List<int> atT, int g, int s, int t, double gain, ref long work)
    {
        (int, int) best = (-1, -1);
        double bestDelta = -Epsilon;
        foreach (int h in atT)
        {
            // After h leaves, g must fit at t.
            work++;
            if (h == g || x[h, t] == 0 || room[t] + groups[h].Cpu < groups[g].Cpu)
            {
                continue;
            }

            // h loses at least the step to the next site in its RTT order; skip it when that alone outweighs the gain.
            double leave = groups[h].Cost(rtt, t);
            int[] order = near[groups[h].Ingress];
            int next = order[0] == t ? order[1 % order.Length] : order[0];
            if (groups[h].Cost(rtt, next) - leave - gain >= bestDelta)
            {
                continue;
            }

            // h's cheapest other site with room is the first in its RTT order (s gets back the room g leaves).
            foreach (int u in order)
            {
                work++;
                int free = u == s ? room[u] + groups[g].Cpu : room[u];
                if (u == t || free < groups[h].Cpu)
                {
                    continue;
                }

                double delta = groups[h].Cost(rtt, u) - leave - gain;
                if (delta < bestDelta)
                {
                    bestDelta = delta;
                    best = (h, u);
                }

                break;
            }
        }

        return best;
    }

    private static void Move(Group[] groups, Counts x, int[] room, List<int>[]? residents, int g, int from, int to)
    {
        x[g, from]--;
        if (++x[g, to] == 1)
        {
            residents?[to].Add(g);
        }

        room[from] += groups[g].Cpu;
        room[to] -= groups[g].Cpu;
    }

    private static MultiAppPlacement Build(int apps, double[][] rtt, Group[] groups, Counts x, int unplaced)
    {
        int sites = rtt.Length;
        var replicas = new int[apps][];
        for (int a = 0; a < replicas.Length; a++)
        {
            replicas[a] = new int[sites];
        }

        double cost = 0;
        for (int g = 0; g < groups.Length; g++)
        {
            for (int s = 0; s < sites; s++)
            {
                int n = x[g, s];
                if (n != 0)
                {
                    replicas[groups[g].App][s] += n;
                    cost += n * groups[g].Cost(rtt, s);
                }
            }
        }

        return new MultiAppPlacement(replicas, cost, unplaced);
    }

    private static Group[] Groups(PlacementProblem problem)
    {
        var groups = new List<Group>();
        for (int a = 0; a < problem.Apps.Count; a++)
        {
            AppNeed app = problem.Apps[a];
            for (int i = 0; i < problem.SiteCount; i++)
            {
                if (app.Replicas[i] > 0)
                {
                    groups.Add(new Group(a, i, app.Cpu, app.Replicas[i], app.DemandRps[i] / app.Replicas[i]));
                }
            }
        }

        return groups.ToArray();
    }

    /// <summary>Per site, all sites by RTT from it (ties by index).</summary>
    private static int[][] Nearest(double[][] rtt)
    {
        var near = new int[rtt.Length][];
        for (int i = 0; i < rtt.Length; i++)
        {
            double[] row = rtt[i];
            near[i] = Enumerable.Range(0, rtt.Length).ToArray();
            Array.Sort(near[i], (p, q) => row[p] != row[q] ? row[p].CompareTo(row[q]) : p.CompareTo(q));
        }

        return near;
    }

    private static void Throw(PlacementProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        if (problem.Validate() is string error)
        {
            throw new ArgumentException(error, nameof(problem));
        }
    }

    /// <summary>Replica counts per (group, site) in one flat array: one allocation for the whole tick.</summary>
    private sealed class Counts(int groups, int sites)
    {
        private readonly int[] _counts = new int[groups * sites];

        public ref int this[int group, int site] => ref _counts[(group * sites) + site];
    }

    /// <summary>Replicas of one app that serve one ingress site; each carries <see cref="Weight"/> req/s.</summary>
    private readonly record struct Group(int App, int Ingress, int Cpu, int Count, double Weight)
    {
        public double Cost(PlacementProblem problem, int site) => Weight * problem.RttMs[Ingress][site];

        public double Cost(double[][] rtt, int site) => Weight * rtt[Ingress][site];
    }
}
