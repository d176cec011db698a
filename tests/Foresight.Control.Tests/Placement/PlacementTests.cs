using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Control.Placement;
using Foresight.Core.Topology;

namespace Foresight.Control.Tests.Placement;

public sealed class PlacementTests
{
    private static EdgeTopology Line(int n)
    {
        var sites = Enumerable.Range(0, n).Select(i => new Site($"s{i}", i * 10, 0)).ToList();
        return new EdgeTopology(
            sites,
            sites.Select(s => new Server($"{s.Id}/0", s.Id, 64)).ToList(),
            sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(),
            Enumerable.Range(0, n).ToArray(),
            new RttModel());
    }

    [Theory]
    [InlineData(new double[] { 30, 10, 0 }, 4, new[] { 3, 1, 0 })]
    [InlineData(new double[] { 1, 1, 1 }, 3, new[] { 1, 1, 1 })]
    [InlineData(new double[] { 5, 3, 2 }, 5, new[] { 3, 1, 1 })] // 2.5, 1.5, 1.0 -> largest remainders: site 0 first
    [InlineData(new double[] { 0, 0, 0 }, 2, new[] { 2, 0, 0 })] // no demand and no fallback: all on the first site
    public void Replicas_follow_demand_by_largest_remainder(double[] demand, int total, int[] expected)
    {
        var result = new int[3];
        ReplicaPlacer.Place(Line(3), total, demand, new[] { 99, 99, 99 }, new int[3], result);
        Assert.Equal(expected, result);
    }

    [Fact]
    public void Replicas_a_site_cannot_host_move_to_the_nearest_site_with_room()
    {
        var result = new int[3];
        ReplicaPlacer.Place(Line(3), 5, new double[] { 100, 0, 0 }, new[] { 2, 10, 10 }, new int[3], result);
        Assert.Equal(new[] { 2, 3, 0 }, result);
    }

    [Property(MaxTest = 200)]
    public bool Placement_always_places_exactly_the_total(PositiveInt total, NonNegativeInt d0, NonNegativeInt d1, NonNegativeInt d2)
    {
        var result = new int[3];
        int n = total.Get % 50;
        ReplicaPlacer.Place(Line(3), n, new double[] { d0.Get, d1.Get, d2.Get }, new[] { 20, 20, 20 }, new int[3], result);
        return result.Sum() == n && result.All(r => r >= 0);
    }

    [Fact]
    public void Routes_keep_demand_local_until_the_local_site_is_full()
    {
        var weights = new[] { new double[3], new double[3], new double[3] };
        // Site 0 has 100 req/s of capacity (85 usable at 0.85), site 1 has plenty; all demand enters at site 0.
        RoutePlanner.Plan(Line(3), new double[] { 120, 0, 0 }, new double[] { 100, 1000, 0 }, 0.85, weights);

        Assert.Equal(85, weights[0][0], 6);
        Assert.Equal(35, weights[0][1], 6);
        Assert.Equal(0, weights[0][2]);
        Assert.Equal(1, weights[2][1]); // no demand yet at site 2: nearest serving site
    }

    [Property(MaxTest = 200)]
    public bool Routes_never_point_at_sites_without_capacity(NonNegativeInt d0, NonNegativeInt d1, bool cap0, bool cap1, bool cap2)
    {
        double[] capacity = { cap0 ? 50 : 0, cap1 ? 50 : 0, cap2 ? 50 : 0 };
        var weights = new[] { new double[3], new double[3], new double[3] };
        RoutePlanner.Plan(Line(3), new double[] { d0.Get, d1.Get, 5 }, capacity, 0.85, weights);
        for (int i = 0; i < 3; i++)
        {
            for (int j = 0; j < 3; j++)
            {
                if (capacity[j] == 0 && weights[i][j] != 0)
                {
                    return false;
                }
            }
        }

        return true;
    }
}
