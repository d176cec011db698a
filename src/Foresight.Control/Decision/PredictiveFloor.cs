using Foresight.Core.Apps;
using Foresight.Core.Forecasts;

namespace Foresight.Control.Decision;

/// <summary>Thresholds of the predictive path. Defaults are deliberately conservative; the feedback loop adapts them.</summary>
public sealed record PredictiveOptions
{
    /// <summary>Capacity is planned for this quantile of the predicted demand.</summary>
    public double PlanningQuantile { get; init; } = 0.9;

    /// <summary>A predicted rise counts as a shift only when demand exceeds the current capacity by this fraction.</summary>
    public double TrafficShiftThreshold { get; init; } = 0.1;

    /// <summary>Act only when at least this probability mass of the predicted demand lies beyond the shift threshold.</summary>
    public double ConfidenceThreshold { get; init; } = 0.6;

    /// <summary>Extra seconds on top of cold start and warm-up, so the instance is warm when the shift arrives.</summary>
    public double LeadMarginSeconds { get; init; } = 5;

    /// <summary>How long past the lead time a predicted peak keeps its capacity (hysteresis against flapping).</summary>
    public double HoldSeconds { get; init; } = 30;

    public string? Validate()
    {
        if (!(PlanningQuantile is > 0.5 and < 1))
        {
            return nameof(PlanningQuantile);
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

/// <summary>Why a site got the floor it did, for status and audit.</summary>
public sealed record FloorDecision(int Site, int Floor, double PlannedDemand, double Confidence, bool HorizonShorterThanLead);

/// <summary>
/// The predictive path as a per-site floor on replicas: the capacity needed, when a new instance started now would be
/// warm, for a confident predicted rise in the demand that enters at each site. The reactive path stays in charge of
/// everything else (the final count is the larger of both), so a forecast alone never removes capacity.
/// </summary>
public static class PredictiveFloor
{
    /// <summary>Seconds from spin-up until an instance serves at full capacity, plus the margin.</summary>
    public static double LeadTimeSeconds(AppProfile app, PredictiveOptions options) =>
        app.ColdStartSeconds + app.WarmupSeconds + options.LeadMarginSeconds;

    /// <param name="app">The app's profile.</param>
    /// <param name="forecasts">Per ingress site: predicted arrival rate (req/s), or null where there is no forecast.</param>
    /// <param name="currentReplicas">Per site: live, non-draining instances now.</param>
    /// <param name="targetUtilization">The shared target utilization.</param>
    /// <param name="options">Thresholds.</param>
    /// <param name="floors">Per site output: the minimum replicas the forecast asks for (0 = no opinion).</param>
    public static IReadOnlyList<FloorDecision> Compute(
        AppProfile app,
        IReadOnlyList<Forecast?> forecasts,
        ReadOnlySpan<int> currentReplicas,
        double targetUtilization,
        PredictiveOptions options,
        Span<int> floors)
    {
        double perInstance = app.InstanceCapacityRps * targetUtilization;
        double lead = LeadTimeSeconds(app, options);
        var decisions = new List<FloorDecision>();
        floors.Clear();
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
            int needed = (int)Math.Ceiling(planned / perInstance);
            bool rise = needed > currentReplicas[s] && confidence >= options.ConfidenceThreshold;

            // Without a confident rise the floor only keeps what the forecast still needs (never adds).
            int floor = rise ? needed : Math.Min(needed, currentReplicas[s]);
            floors[s] = Math.Min(floor, app.MaxInstances);
            decisions.Add(new FloorDecision(s, floors[s], planned, confidence, short_));
        }

        return decisions;
    }
}
