using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Control.Placement;
using Xunit.Abstractions;

namespace Foresight.Control.Tests.Placement;

public sealed class MultiAppPlacerTests(ITestOutputHelper output)
{
    /// <summary>
    /// Regression guards on the seeded 2,000-case sample of <see cref="Measured_ratio_over_two_thousand_seeded_cases"/>,
    /// set from its measurement (worst 1.517, mean 1.005, optimal in 96.8% of feasible cases; see ADR 0013). They are not
    /// guarantees: the guaranteed bounds are the ones the property checks.
    /// </summary>
    private const double MeasuredWorstRatio = 1.52;
    private const double MeasuredMeanRatio = 1.01;
    private const double MeasuredOptimalShare = 0.95;

    [Fact]
    public void Without_binding_capacity_every_replica_runs_where_its_demand_enters()
    {
        PlacementProblem problem = Problem(
            [[2, 10, 20], [10, 2, 10], [20, 10, 2]],
            [100, 100, 100],
            new AppNeed(2, [1, 2, 0], [50, 80, 0]),
            new AppNeed(4, [0, 0, 3], [0, 0, 90]));

        MultiAppPlacement placement = MultiAppPlacer.Place(problem);

        Assert.True(placement.Feasible);
        Assert.Equal([1, 2, 0], placement.BySite(0));
        Assert.Equal([0, 0, 3], placement.BySite(1));
        Assert.Equal(MultiAppPlacer.LowerBound(problem), placement.Cost, 9);
    }

    [Fact]
    public void A_replica_that_would_overfill_its_site_goes_to_the_next_nearest_site_with_room()
    {
        // Site 0 holds two 2-core replicas; the third goes to site 1 (10 ms), not site 2 (20 ms).
        PlacementProblem problem = Problem(
            [[2, 10, 20], [10, 2, 10], [20, 10, 2]],
            [4, 8, 8],
            new AppNeed(2, [3, 0, 0], [90, 0, 0]));

        MultiAppPlacement placement = MultiAppPlacer.Place(problem);

        Assert.Equal([2, 1, 0], placement.BySite(0));
    }

    [Fact]
    public void Repair_gives_the_contested_slot_to_the_replica_that_loses_most_elsewhere()
    {
        // One slot at site 0 and one at site 1. App 0 (heavier share, enters at site 0) takes site 0 first; app 1 (enters
        // at site 2, which is full) is then left with site 1 at 40 ms. The repair sends app 0 to site 1 (3 ms) and app 1
        // to site 0 (5 ms): 600 instead of 2,600.
        PlacementProblem problem = Problem(
            [[2, 3, 5], [3, 2, 40], [5, 40, 2]],
            [1, 1, 0],
            new AppNeed(1, [1, 0, 0], [100, 0, 0]),
            new AppNeed(1, [0, 0, 1], [0, 0, 60]));

        MultiAppPlacement greedyOnly = MultiAppPlacer.Place(problem, repair: false);
        MultiAppPlacement repaired = MultiAppPlacer.Place(problem);
        MultiAppPlacement exact = MultiAppPlacer.Exact(problem);

        Assert.Equal(2600, greedyOnly.Cost, 9);
        Assert.Equal(600, repaired.Cost, 9);
        Assert.Equal(exact.Cost, repaired.Cost, 9);
        Assert.Equal([0, 1, 0], repaired.BySite(0));
        Assert.Equal([1, 0, 0], repaired.BySite(1));
    }

    [Fact]
    public void Infeasible_problems_report_the_replicas_that_fit_nowhere()
    {
        PlacementProblem problem = Problem([[2, 5], [5, 2]], [2, 2], new AppNeed(4, [1, 0], [10, 0]), new AppNeed(1, [2, 0], [10, 0]));

        MultiAppPlacement greedy = MultiAppPlacer.Place(problem);
        MultiAppPlacement exact = MultiAppPlacer.Exact(problem);

        Assert.Equal(1, greedy.Unplaced);
        Assert.False(exact.Feasible);
    }

    [Fact]
    public void Bad_input_is_rejected_naming_the_field()
    {
        PlacementProblem problem = Problem([[2, 5], [5, 2]], [2, 2], new AppNeed(0, [1, 0], [10, 0]));

        var e = Assert.Throws<ArgumentException>(() => MultiAppPlacer.Place(problem));
        Assert.Contains("Apps[0]", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Greedy with repair against the exact optimum, with the bounds that are proved (ADR 0013): it is feasible whenever
    /// the optimum is (replica sizes 1, 2 and 4 divide one another); it is optimal whenever capacity does not bind (the
    /// optimum equals the uncapacitated lower bound); and its cost is within the instance's latency spread
    /// ρ = max over ingress sites of (farthest RTT / nearest RTT) of the optimum, as any feasible placement is.
    /// It never exceeds capacity and places every replica when feasible.
    /// </summary>
    [Property(MaxTest = 300)]
    public Property Greedy_is_feasible_whenever_exact_is_and_within_the_proved_bounds() =>
        Prop.ForAll(Arb.From(Gen.Choose(0, int.MaxValue)), seed =>
        {
            PlacementProblem problem = RandomProblem(new Random(seed), divisible: true);
            MultiAppPlacement greedy = MultiAppPlacer.Place(problem);
            MultiAppPlacement exact = MultiAppPlacer.Exact(problem);
            double lowerBound = MultiAppPlacer.LowerBound(problem);
            double spread = Enumerable.Range(0, problem.SiteCount).Max(i => problem.RttMs[i].Max() / problem.RttMs[i].Min());
            bool feasibleWhenExactIs = !exact.Feasible || greedy.Feasible;
            bool withinCapacity = WithinCapacity(problem, greedy);
            bool placesAll = !greedy.Feasible || Enumerable.Range(0, problem.Apps.Count).All(a => greedy.BySite(a).Sum() == problem.Apps[a].Replicas.Sum());
            bool optimalWhenUnconstrained = !exact.Feasible || exact.Cost > lowerBound + 1e-9 || Math.Abs(greedy.Cost - exact.Cost) <= 1e-9;
            bool withinSpread = !exact.Feasible || greedy.Cost <= (exact.Cost * spread) + 1e-9;
            bool notBelowOptimum = !exact.Feasible || greedy.Cost >= exact.Cost - 1e-9;
            return (feasibleWhenExactIs && withinCapacity && placesAll && optimalWhenUnconstrained && withinSpread && notBelowOptimum)
                .Label($"seed {seed}: greedy {greedy.Cost:F3} ({greedy.Unplaced} unplaced), exact {exact.Cost:F3} ({exact.Unplaced} unplaced), bound {lowerBound:F3}");
        });

    /// <summary>The measured quality of the greedy on 2,000 seeded cases, reported in the test output.</summary>
    [Fact]
    public void Measured_ratio_over_two_thousand_seeded_cases()
    {
        var random = new Random(20261130);
        double worst = 1;
        double worstNoRepair = 1;
        double sumRatio = 0;
        int compared = 0;
        int optimal = 0;
        int binding = 0;
        int infeasible = 0;
        for (int i = 0; i < 2000; i++)
        {
            PlacementProblem problem = RandomProblem(random, divisible: true);
            MultiAppPlacement exact = MultiAppPlacer.Exact(problem);
            MultiAppPlacement greedy = MultiAppPlacer.Place(problem);
            MultiAppPlacement noRepair = MultiAppPlacer.Place(problem, repair: false);
            if (!exact.Feasible)
            {
                infeasible++;
                continue;
            }

            Assert.True(greedy.Feasible, $"case {i}: greedy infeasible where the optimum is feasible");
            double ratio = exact.Cost > 0 ? greedy.Cost / exact.Cost : 1;
            worst = Math.Max(worst, ratio);
            worstNoRepair = Math.Max(worstNoRepair, exact.Cost > 0 ? noRepair.Cost / exact.Cost : 1);
            sumRatio += ratio;
            compared++;
            optimal += ratio <= 1 + 1e-9 ? 1 : 0;
            binding += exact.Cost > MultiAppPlacer.LowerBound(problem) + 1e-9 ? 1 : 0;
        }

        double mean = sumRatio / compared;
        output.WriteLine(
            $"feasible {compared} (capacity binding in {binding}), infeasible {infeasible}; greedy+repair worst ratio {worst:F4}, " +
            $"mean {mean:F5}, optimal in {optimal}; greedy without repair worst {worstNoRepair:F4}");
        Assert.True(binding > compared / 4, "too few cases where capacity binds to say anything");
        Assert.InRange(worst, 1, MeasuredWorstRatio);
        Assert.InRange(mean, 1, MeasuredMeanRatio);
        Assert.True(optimal >= MeasuredOptimalShare * compared, $"optimal in only {optimal} of {compared}");
    }

    /// <summary>With sizes that do not divide one another (3 and 2) greedy can fail where a placement exists: measured, not asserted away.</summary>
    [Fact]
    public void Non_divisible_sizes_can_defeat_the_greedy_feasibility()
    {
        // Sites of 5 and 4 cores; replicas of 3, 3 and 2 cores... 3+2 | 3 fits, but greedy puts both 3s first.
        PlacementProblem problem = Problem([[2, 5], [5, 2]], [5, 4], new AppNeed(3, [2, 0], [60, 0]), new AppNeed(2, [1, 0], [10, 0]));
        Assert.True(MultiAppPlacer.Exact(problem).Feasible);

        var random = new Random(7);
        int failures = 0;
        int feasible = 0;
        for (int i = 0; i < 500; i++)
        {
            PlacementProblem p = RandomProblem(random, divisible: false);
            if (MultiAppPlacer.Exact(p).Feasible)
            {
                feasible++;
                failures += MultiAppPlacer.Place(p).Feasible ? 0 : 1;
            }
        }

        output.WriteLine($"sizes 1-3: greedy infeasible in {failures} of {feasible} feasible cases");
    }

    private static bool WithinCapacity(PlacementProblem problem, MultiAppPlacement placement)
    {
        for (int s = 0; s < problem.SiteCount; s++)
        {
            int used = 0;
            for (int a = 0; a < problem.Apps.Count; a++)
            {
                used += placement.BySite(a)[s] * problem.Apps[a].Cpu;
            }

            if (used > problem.CapacityCpu[s])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Up to 4 apps and 4 sites and at most 8 replicas; capacity from scarce to ample, so it binds in many cases.</summary>
    private static PlacementProblem RandomProblem(Random random, bool divisible)
    {
        int sites = random.Next(2, 5);
        int apps = random.Next(1, 5);
        var x = Enumerable.Range(0, sites).Select(_ => random.NextDouble() * 40).ToArray();
        var y = Enumerable.Range(0, sites).Select(_ => random.NextDouble() * 40).ToArray();

        // Access 2 ms at the own site; elsewhere one hop plus 0.5 ms/km (the shape of the simulator's RTT model).
        double[][] rtt = Enumerable.Range(0, sites)
            .Select(i => Enumerable.Range(0, sites).Select(j => i == j ? 2 : 3 + (0.5 * Math.Sqrt(Math.Pow(x[i] - x[j], 2) + Math.Pow(y[i] - y[j], 2)))).ToArray())
            .ToArray();
        int[] sizes = divisible ? [1, 2, 4] : [1, 2, 3];
        var needs = new List<AppNeed>();
        int budget = 8;
        int cpuTotal = 0;
        for (int a = 0; a < apps; a++)
        {
            int cpu = sizes[random.Next(sizes.Length)];
            var replicas = new int[sites];
            var demand = new double[sites];
            for (int i = 0; i < sites; i++)
            {
                int n = Math.Min(budget, random.Next(0, 3));
                budget -= n;
                replicas[i] = n;
                demand[i] = n * (10 + (random.NextDouble() * 90));
                cpuTotal += n * cpu;
            }

            needs.Add(new AppNeed(cpu, replicas, demand));
        }

        int max = Math.Max(1, (int)Math.Ceiling(2.2 * cpuTotal / sites));
        int[] capacity = Enumerable.Range(0, sites).Select(_ => random.Next(0, max + 1)).ToArray();
        return new PlacementProblem(rtt, capacity, needs);
    }

    private static PlacementProblem Problem(double[][] rtt, int[] capacity, params AppNeed[] apps) => new(rtt, capacity, apps);
}
