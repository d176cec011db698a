using System.Globalization;
using Foresight.Control.Decision;
using Foresight.Core;

namespace Foresight.Simulation.Runner;

/// <summary>
/// A parameter swept over values, for latency/cost trade-off (Pareto) curves. The target utilization is shared by
/// every policy (parity holds at each point); the predictive thresholds vary only the predictive policies.
/// </summary>
public sealed record Sweep(string Parameter, IReadOnlyList<double> Values)
{
    public const string TargetUtilization = "target-utilization";
    public const string PlanningQuantile = "planning-quantile";
    public const string PlanningUtilization = "planning-utilization";
    public const string MissCost = "miss-cost";
    public const string Confidence = "confidence";
    public const string ShiftThreshold = "shift-threshold";

    public static IReadOnlyList<string> Parameters { get; } = [TargetUtilization, PlanningQuantile, PlanningUtilization, MissCost, Confidence, ShiftThreshold];

    /// <summary>Parses <c>name=v1,v2,...</c>; errors name <paramref name="field"/>.</summary>
    public static Sweep Parse(string text, string field = "--sweep")
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new InvalidInputException(field, $"expected PARAMETER=V1,V2,... with PARAMETER one of {string.Join(", ", Parameters)} (got '{text}')");
        }

        string name = text[..eq].Trim();
        if (!Parameters.Contains(name))
        {
            throw new InvalidInputException(field, $"unknown parameter '{name}'; choose from {string.Join(", ", Parameters)}");
        }

        var values = new List<double>();
        foreach (string part in text[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            {
                throw new InvalidInputException(field, $"'{part}' is not a number", field: name);
            }

            values.Add(v);
        }

        if (values.Count == 0)
        {
            throw new InvalidInputException(field, $"give at least one value for '{name}'", field: name);
        }

        if (values.Distinct().Count() != values.Count)
        {
            throw new InvalidInputException(field, $"a value of '{name}' is given twice", field: name);
        }

        var sweep = new Sweep(name, values);
        foreach (double v in values)
        {
            if (sweep.Check(v) is string problem)
            {
                throw new InvalidInputException(field, $"{name}={v.ToString(CultureInfo.InvariantCulture)}: {problem}", field: name);
            }
        }

        return sweep;
    }

    /// <summary>Whether the parameter changes <paramref name="policy"/>; the others run once, at their defaults.</summary>
    public bool Varies(string policy) =>
        Parameter == TargetUtilization || policy is "predictive" or "predictive-nofeedback" or "oracle";

    /// <summary>The run name of a policy at one value, e.g. <c>hpa@target-utilization=0.6</c>.</summary>
    public string NameOf(string policy, double value) =>
        string.Create(CultureInfo.InvariantCulture, $"{policy}@{Parameter}={value:0.######}");

    public PredictiveOptions Apply(PredictiveOptions options, double value) => Parameter switch
    {
        PlanningQuantile => options with { PlanningQuantile = value },
        PlanningUtilization => options with { PlanningUtilization = value },
        MissCost => options with { MissCost = value },
        Confidence => options with { ConfidenceThreshold = value },
        ShiftThreshold => options with { TrafficShiftThreshold = value },
        _ => options,
    };

    private string? Check(double value) => Parameter switch
    {
        TargetUtilization => value is > 0 and <= 1 ? null : "must be in (0, 1]",
        _ => Apply(new PredictiveOptions(), value).Validate() is null ? null : Parameter switch
        {
            PlanningQuantile => "must be in [0.5, 1)",
            PlanningUtilization => "must be in (0, 1]",
            MissCost => "must be 0 or more (instance-seconds per missed request)",
            Confidence => "must be in (0, 1)",
            _ => "must be 0 or more",
        },
    };
}

/// <summary>One policy run of a report: which policy, under which name, at which setting.</summary>
public sealed record PolicyRun(string Name, string Policy, double TargetUtilization, PredictiveOptions Options, SweepPoint? Point);

/// <summary>Where a run sits in a sweep (a field of its result).</summary>
public sealed record SweepPoint(string Policy, string Parameter, double Value);
