using Foresight.Core.Apps;
using Foresight.Core.Forecasts;

namespace Foresight.Control.Decision;

/// <summary>Thresholds of the predictive path. Defaults are deliberately conservative; the feedback loop adapts them.</summary>
public sealed record PredictiveOptions
{
    /// <summary>
    /// Capacity is planned for this quantile of the predicted demand, at the shared target utilization. The median
    /// sizes the way the reactive path does (the target already leaves headroom for noise); uncertainty gates whether
    /// to act at all, through <see cref="ConfidenceThreshold"/>.
    /// </summary>
    public double PlanningQuantile { get; init; } = 0.5;

    /// <summary>
    /// The price of one missed request in instance-seconds for apps whose profile sets none; when either is set, the
    /// app's planning quantile is the newsvendor's (<see cref="PlanningQuantiles.Newsvendor"/>) instead of
    /// <see cref="PlanningQuantile"/>. Null by default: nothing is priced unless the operator says so.
    /// </summary>
    public double? MissCost { get; init; }

    /// <summary>
    /// Utilization allowed at the planning quantile. The quantile is already pessimistic, so sizing it at the
    /// shared target would double-count the margin; the default matches where routing starts to spill to neighbours.
    /// </summary>
    public double PlanningUtilization { get; init; } = 0.7;

    /// <summary>
    /// Quantile of the predicted demand that must fit in fewer replicas before capacity is removed ahead of the HPA's
    /// stabilization window. Removing capacity that is then missing costs a cold start, so it asks for more certainty
    /// than adding it does.
    /// </summary>
    public double ScaleDownQuantile { get; init; } = 0.9;

    /// <summary>A predicted rise counts as a shift only when demand exceeds the current capacity by this fraction.</summary>
    public double TrafficShiftThreshold { get; init; } = 0.1;

    /// <summary>Act only when at least this probability mass of the predicted demand lies beyond the shift threshold.</summary>
    public double ConfidenceThreshold { get; init; } = 0.6;

    /// <summary>
    /// Round the app's floors once over all its sites (ceil of the summed fractional needs, given out by largest
    /// remainder) instead of rounding up at every site, so eight sites with a little demand each do not hold eight
    /// spare instances. Only what the forecast adds is pooled; the capacity it keeps is still rounded up per site.
    /// </summary>
    public bool PoolRounding { get; init; } = true;

    /// <summary>Extra seconds on top of cold start and warm-up, so the instance is warm when the shift arrives.</summary>
    public double LeadMarginSeconds { get; init; } = 5;

    /// <summary>How long past the lead time a predicted peak keeps its capacity (hysteresis against flapping).</summary>
    public double HoldSeconds { get; init; } = 30;

    public string? Validate()
    {
        if (!(PlanningQuantile is >= 0.5 and < 1))
        {
            return nameof(PlanningQuantile);
        }

        if (MissCost is { } missCost && (!(missCost >= 0) || double.IsInfinity(missCost)))
        {
            return nameof(MissCost);
        }

        if (!(ScaleDownQuantile is >= 0.5 and < 1))
        {
            return nameof(ScaleDownQuantile);
        }

        if (!(PlanningUtilization is > 0 and <= 1))
        {
            return nameof(PlanningUtilization);
        }

        if (!(TrafficShiftThreshold >= 0) || double.IsInfinity(TrafficShiftThreshold))
        {
            return nameof(TrafficShiftThreshold);
        }

        if (!(ConfidenceThreshold is > 0 and < 1))
        {
            return nameof(ConfidenceThreshold);
        }

        if (!(LeadMarginSeconds >= 0) || !(HoldSeconds >= 0))
        {
            return !(LeadMarginSeconds >= 0) ? nameof(LeadMarginSeconds) : nameof(HoldSeconds);
        }

        return null;
    }
}

/// <summary>What the forecast says about one site, for the decision, status and audit.</summary>
/// <param name="Needed">Replicas the planning quantile of the demand at lead time needs.</param>
/// <param name="ConfidentRise">Whether a rise beyond the shift threshold is predicted with enough confidence.</param>
public sealed record FloorDecision(int Site, int Needed, bool ConfidentRise, double PlannedDemand, double Confidence, bool HorizonShorterThanLead)
{
    /// <summary>Replicas the site needs rounded up on its own (equal to <see cref="Needed"/> without pooled rounding).</summary>
    public int NeededAlone { get; init; } = Needed;
}

/// <summary>Which quantile of the predicted demand an app's floors are sized for.</summary>
public static class PlanningQuantiles
{
    /// <summary>The newsvendor quantile stays within the forecast's own levels (0.05 … 0.95): beyond them it extrapolates.</summary>
    public const double Min = 0.05;

    public const double Max = 0.95;

    /// <summary>
    /// The newsvendor critical fractile cu / (cu + co). Overage: one idle instance-second, co = 1. Underage: one
    /// instance-second missing leaves the requests it would have served at the planning utilization without capacity,
    /// each priced at <paramref name="missCost"/>: cu = missCost × capacity × utilization. So an app whose instances
    /// carry many requests, or whose misses are dear, plans for a higher quantile; one whose misses are cheap for a lower.
    /// </summary>
    public static double Newsvendor(double missCost, double instanceCapacityRps, double planningUtilization)
    {
        double underage = missCost * instanceCapacityRps * planningUtilization;
        double q = underage / (underage + 1);
        return double.IsFinite(q) ? Math.Clamp(q, Min, Max) : Max;
    }

    /// <summary>
    /// The app's planning quantile: the newsvendor's when its profile or the options price a miss, else the options'
    /// fixed <see cref="PredictiveOptions.PlanningQuantile"/>.
    /// </summary>
    public static double For(AppProfile app, PredictiveOptions options, double targetUtilization) =>
        (app.MissCost ?? options.MissCost) is { } missCost
            ? Newsvendor(missCost, app.InstanceCapacityRps, Math.Max(targetUtilization, options.PlanningUtilization))
            : options.PlanningQuantile;
}

/// <summary>Rounds fractional replica needs across an app's sites so the total is rounded up once, not per site.</summary>
public static class PooledRounding
{
    private const double Epsilon = 1e-9;

    /// <summary>
    /// Each site gets the floor of its need, and the sites with the largest fractional parts (ties to the lower index)
    /// one more, until the total is the ceiling of the summed needs. So every site is within [floor, ceil] of its need.
    /// </summary>
    public static int[] Distribute(ReadOnlySpan<double> needs)
    {
        var counts = new int[needs.Length];
        double sum = 0;
        int given = 0;
        for (int i = 0; i < needs.Length; i++)
        {
            double need = Math.Max(0, needs[i]);
            sum += need;
            counts[i] = (int)Math.Floor(need + Epsilon);
            given += counts[i];
        }

        int total = (int)Math.Ceiling(sum - Epsilon);
        var order = new List<(int Site, double Fraction)>();
        for (int i = 0; i < needs.Length; i++)
        {
            double fraction = Math.Max(0, needs[i]) - counts[i];
            if (fraction > Epsilon)
            {
                order.Add((i, fraction));
            }
        }

        // Largest fraction first, ties to the lower site (a stable order, so runs repeat).
        order.Sort((x, y) => x.Fraction != y.Fraction ? y.Fraction.CompareTo(x.Fraction) : x.Site.CompareTo(y.Site));
        for (int k = 0; k < total - given && k < order.Count; k++)
        {
            counts[order[k].Site]++;
        }

        return counts;
    }
}

/// <summary>
/// Reads the forecast of the demand entering at each site at the lead time (when an instance started now would be
/// warm) and says how many replicas that needs and whether a confident rise is coming. The policy turns confident rises
/// into floors held until the predicted peak has passed; the reactive path stays in charge of everything else, so a
/// forecast alone never removes capacity.
/// </summary>
public static class PredictiveFloor
{
    /// <summary>Seconds from spin-up until an instance serves at full capacity, plus the margin.</summary>
    public static double LeadTimeSeconds(AppProfile app, PredictiveOptions options) =>
        app.ColdStartSeconds + app.WarmupSeconds + options.LeadMarginSeconds;

    /// <summary>
    /// Replicas the whole app needs for the planning quantile of its predicted demand at any point from now until the
    /// lead time plus the hold window (sites summed per step), or null when a site has no forecast.
    /// </summary>
    public static int? PeakNeed(AppProfile app, IReadOnlyList<Forecast?> forecasts, double targetUtilization, PredictiveOptions options)
    {
        double perInstance = app.InstanceCapacityRps * targetUtilization;
        double window = LeadTimeSeconds(app, options) + options.HoldSeconds;
        double peak = 0;
        int horizon = int.MaxValue;
        foreach (Forecast? f in forecasts)
        {
            if (f is null)
            {
                return null;
            }

            horizon = Math.Min(horizon, f.Horizon);
        }

        int steps = forecasts.Count == 0 ? 0 : Math.Min(horizon, (int)Math.Ceiling(window / forecasts[0]!.Step.TotalSeconds));
        for (int k = 0; k < steps; k++)
        {
            double total = 0;
            foreach (Forecast? f in forecasts)
            {
                total += f!.Quantile(options.PlanningQuantile, k);
            }

            peak = Math.Max(peak, total);
        }

        return Math.Min((int)Math.Ceiling(peak / perInstance), app.MaxInstances);
    }

    /// <param name="app">The app's profile.</param>
    /// <param name="forecasts">Per ingress site: predicted arrival rate (req/s), or null where there is no forecast.</param>
    /// <param name="currentReplicas">Per site: live, non-draining instances now.</param>
    /// <param name="targetUtilization">The shared target utilization.</param>
    /// <param name="options">Thresholds.</param>
    public static IReadOnlyList<FloorDecision> Compute(
        AppProfile app,
        IReadOnlyList<Forecast?> forecasts,
        ReadOnlySpan<int> currentReplicas,
        double targetUtilization,
        PredictiveOptions options)
    {
        double perInstance = app.InstanceCapacityRps * targetUtilization;
        double perInstanceAtPlan = app.InstanceCapacityRps * Math.Max(targetUtilization, options.PlanningUtilization);
        double lead = LeadTimeSeconds(app, options);
        var decisions = new List<FloorDecision>();
        var needs = new List<double>();
        for (int s = 0; s < forecasts.Count; s++)
        {
            Forecast? forecast = forecasts[s];
            if (forecast is null)
            {
                continue;
            }

            double stepSeconds = forecast.Step.TotalSeconds;
            int from = (int)Math.Floor(lead / stepSeconds);
            int to = (int)Math.Ceiling((lead + options.HoldSeconds) / stepSeconds);
            bool short_ = from >= forecast.Horizon;
            from = Math.Min(from, forecast.Horizon - 1);
            to = Math.Min(to, forecast.Horizon - 1);

            // The peak of the planning quantile over [lead, lead + hold].
            int peakStep = from;
            double planned = 0;
            for (int k = from; k <= to; k++)
            {
                double q = forecast.Quantile(options.PlanningQuantile, k);
                if (q > planned)
                {
                    planned = q;
                    peakStep = k;
                }
            }

            // Confidence: the mass of the predictive distribution above the current capacity plus the shift threshold.
            double capacityNow = currentReplicas[s] * perInstance;
            double threshold = capacityNow * (1 + options.TrafficShiftThreshold);
            double confidence = 1 - forecast.Cdf(peakStep, threshold);
            int needed = Math.Min((int)Math.Ceiling(planned / perInstanceAtPlan), app.MaxInstances);
            bool rise = needed > currentReplicas[s] && confidence >= options.ConfidenceThreshold;
            decisions.Add(new FloorDecision(s, needed, rise, planned, confidence, short_));
            needs.Add(planned / perInstanceAtPlan);
        }

        if (!options.PoolRounding || decisions.Count < 2)
        {
            return decisions;
        }

        int[] pooled = PooledRounding.Distribute(needs.ToArray());
        for (int i = 0; i < decisions.Count; i++)
        {
            FloorDecision d = decisions[i];
            int needed = Math.Min(pooled[i], app.MaxInstances);
            bool rise = needed > currentReplicas[d.Site] && d.Confidence >= options.ConfidenceThreshold;
            decisions[i] = d with { Needed = needed, ConfidentRise = rise, NeededAlone = d.Needed };
        }

        return decisions;
    }
}
