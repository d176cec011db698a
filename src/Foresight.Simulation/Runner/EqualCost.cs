namespace Foresight.Simulation.Runner;

/// <summary>
/// What a reactive baseline would achieve at a predictive run's cost: its SLO-violation rate and p99 interpolated
/// on its cost curve (runs at several target utilizations). Null values, with a note, when the cost lies outside
/// the curve: the curve is never extrapolated.
/// </summary>
/// <param name="Baseline">The baseline policy (hpa or kpa).</param>
/// <param name="CostMin">The cheapest run of the baseline's curve (instance-seconds).</param>
/// <param name="CostMax">The dearest run of the baseline's curve (instance-seconds).</param>
/// <param name="Runs">Runs on the curve.</param>
/// <param name="Note">Why a value is missing; null when both are given.</param>
public sealed record EqualCostPoint(
    string Baseline,
    double? SloViolationRate,
    double? LatencyP99Ms,
    double CostMin,
    double CostMax,
    int Runs,
    string? Note);

/// <summary>Equal-cost comparison of the predictive family against the reactive baselines.</summary>
public static class EqualCost
{
    /// <summary>The baselines each predictive run is compared with.</summary>
    public static IReadOnlyList<string> Baselines { get; } = ["hpa", "kpa"];

    /// <summary>Target utilizations of the default curve <c>--equal-cost</c> runs when no target-utilization sweep did.</summary>
    public static IReadOnlyList<double> DefaultTargets { get; } = [0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

    /// <summary>Policies compared at equal cost: those that read a forecast.</summary>
    public static bool IsPredictive(string policy) => policy is "predictive" or "predictive-nofeedback" or "oracle";

    /// <summary>
    /// Linear interpolation of y at <paramref name="x"/> between the two neighbouring points of the curve (in any
    /// order; points at the same x are averaged). Null when the curve is empty or <paramref name="x"/> lies outside it.
    /// </summary>
    public static double? Interpolate(IReadOnlyList<(double X, double Y)> curve, double x)
    {
        var points = curve.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y))
            .GroupBy(p => p.X)
            .Select(g => (X: g.Key, Y: g.Average(p => p.Y)))
            .OrderBy(p => p.X)
            .ToList();
        if (points.Count == 0 || !double.IsFinite(x) || x < points[0].X || x > points[^1].X)
        {
            return null;
        }

        for (int i = 0; i < points.Count; i++)
        {
            if (points[i].X == x)
            {
                return points[i].Y;
            }

            if (points[i].X > x)
            {
                (double x0, double y0) = points[i - 1];
                (double x1, double y1) = points[i];
                double t = (x - x0) / (x1 - x0);
                return y0 + (t * (y1 - y0));
            }
        }

        return null;
    }

    /// <summary>A baseline's curve: its default run and its target-utilization sweep runs.</summary>
    public static IReadOnlyList<PolicyResult> CurveOf(IReadOnlyList<PolicyResult> results, string baseline) =>
        results.Where(r => (r.Sweep?.Policy ?? r.Name) == baseline && (r.Sweep is null || r.Sweep.Parameter == Sweep.TargetUtilization)).ToList();

    /// <summary>The baseline's values at <paramref name="cost"/> on its curve.</summary>
    public static EqualCostPoint At(string baseline, IReadOnlyList<PolicyResult> curve, double cost)
    {
        if (curve.Count == 0)
        {
            return new EqualCostPoint(baseline, null, null, double.NaN, double.NaN, 0, $"no {baseline} run");
        }

        double min = curve.Min(r => r.InstanceSeconds), max = curve.Max(r => r.InstanceSeconds);
        double? slo = Interpolate(curve.Select(r => (r.InstanceSeconds, r.SloViolationRate)).ToList(), cost);
        double? p99 = Interpolate(curve.Select(r => (r.InstanceSeconds, r.LatencyP99Ms)).ToList(), cost);
        string? note = slo is null || p99 is null
            ? cost < min ? $"cost below {baseline}'s cheapest run" : $"cost above {baseline}'s dearest run"
            : null;
        return new EqualCostPoint(baseline, slo, p99, min, max, curve.Count, note);
    }

    /// <summary>Gives every predictive-family run its equal-cost points against each baseline that ran.</summary>
    public static void Attach(PolicyResult[] results)
    {
        var curves = Baselines.Select(b => (Baseline: b, Curve: CurveOf(results, b))).Where(c => c.Curve.Count > 0).ToList();
        for (int i = 0; i < results.Length; i++)
        {
            PolicyResult run = results[i];
            if (IsPredictive(run.Sweep?.Policy ?? run.Name))
            {
                results[i] = run with { EqualCost = curves.Select(c => At(c.Baseline, c.Curve, run.InstanceSeconds)).ToList() };
            }
        }
    }
}
