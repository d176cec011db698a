using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Foresight.Simulation.Runner;

namespace Foresight.Simulation.Tests.Runner;

public sealed class EqualCostTests
{
    [Theory]
    [InlineData(100, 0.10)]
    [InlineData(150, 0.07)]
    [InlineData(200, 0.04)]
    [InlineData(250, 0.03)]
    [InlineData(300, 0.02)]
    public void Interpolates_linearly_between_the_neighbouring_runs(double cost, double expected)
    {
        (double, double)[] curve = [(300, 0.02), (100, 0.10), (200, 0.04)];

        Assert.Equal(expected, EqualCost.Interpolate(curve, cost)!.Value, 10);
    }

    [Theory]
    [InlineData(99.9)]
    [InlineData(300.1)]
    [InlineData(double.NaN)]
    public void A_cost_outside_the_curve_gives_null(double cost)
    {
        Assert.Null(EqualCost.Interpolate([(100, 0.1), (300, 0.02)], cost));
        Assert.Null(EqualCost.Interpolate([], 100));
    }

    [Property]
    public Property On_a_monotone_curve_the_value_lies_between_its_neighbours() =>
        Prop.ForAll(
            Gen.ListOf(Gen.Choose(1, 1000)).Where(l => l.Distinct().Count() >= 2).ToArbitrary(),
            Gen.Choose(0, 1000).ToArbitrary(),
            (xs, u) =>
            {
                // A falling curve, as violations fall with cost.
                double[] x = xs.Distinct().Select(v => (double)v).Order().ToArray();
                var curve = x.Select(v => (X: v, Y: 1000.0 / v)).Reverse().ToList();
                double cost = x[0] + ((x[^1] - x[0]) * u / 1000.0);
                double y = EqualCost.Interpolate(curve, cost)!.Value;
                int i = Array.FindLastIndex(x, v => v <= cost);
                int j = Array.FindIndex(x, v => v >= cost);
                double hi = 1000.0 / x[i], lo = 1000.0 / x[j];
                return y <= hi + 1e-12 && y >= lo - 1e-12;
            });

    [Fact]
    public void Outside_the_curve_the_point_is_null_with_a_note()
    {
        PolicyResult[] curve = [Run("hpa", 100, 0.10, 50), Run("hpa@target-utilization=0.5", 200, 0.04, 30, 0.5)];

        EqualCostPoint above = EqualCost.At("hpa", curve, 250);
        EqualCostPoint inside = EqualCost.At("hpa", curve, 150);

        Assert.Null(above.SloViolationRate);
        Assert.Null(above.LatencyP99Ms);
        Assert.Contains("above", above.Note, StringComparison.Ordinal);
        Assert.Equal(0.07, inside.SloViolationRate!.Value, 10);
        Assert.Equal(40, inside.LatencyP99Ms!.Value, 10);
        Assert.Equal((100, 200, 2), (inside.CostMin, inside.CostMax, inside.Runs));
        Assert.Null(inside.Note);
    }

    [Fact]
    public void Only_predictive_runs_get_points_and_only_from_target_utilization_curves()
    {
        PolicyResult[] results =
        [
            Run("hpa", 100, 0.10, 50),
            Run("hpa@target-utilization=0.5", 200, 0.04, 30, 0.5),
            Run("kpa", 180, 0.03, 20),
            Run("predictive", 150, 0.02, 25),
        ];

        EqualCost.Attach(results);

        Assert.Null(results[0].EqualCost);
        Assert.Null(results[2].EqualCost);
        IReadOnlyList<EqualCostPoint> points = results[3].EqualCost!;
        Assert.Equal(["hpa", "kpa"], points.Select(p => p.Baseline));
        Assert.Equal(0.07, points[0].SloViolationRate!.Value, 10);
        Assert.Null(points[1].SloViolationRate); // one kpa run at another cost: no curve to read
    }

    private static PolicyResult Run(string name, double cost, double slo, double p99, double? target = null) => new()
    {
        Name = name,
        InstanceSeconds = cost,
        SloViolationRate = slo,
        LatencyP99Ms = p99,
        Sweep = target is double t ? new SweepPoint(name.Split('@')[0], Sweep.TargetUtilization, t) : null,
        Apps = [],
        Timeline = [],
        LatencyCdf = [],
    };
}
