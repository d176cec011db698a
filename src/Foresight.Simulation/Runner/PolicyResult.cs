namespace Foresight.Simulation.Runner;

/// <summary>The outcome of one policy on one scenario. Field names are part of the stable JSON contract.</summary>
public sealed record PolicyResult
{
    public required string Name { get; init; }

    public double LatencyP50Ms { get; init; }

    public double LatencyP95Ms { get; init; }

    public double LatencyP99Ms { get; init; }

    public double LatencyMeanMs { get; init; }

    /// <summary>(requests over their SLO + dropped requests) / requests.</summary>
    public double SloViolationRate { get; init; }

    public double DroppedRequests { get; init; }

    public double Requests { get; init; }

    public double InstanceSeconds { get; init; }

    public int Migrations { get; init; }

    public int ScaleEvents { get; init; }

    /// <summary>Requests whose route pointed at no serving site and that were failed over to the nearest one.</summary>
    public double FailoverRequests { get; init; }

    /// <summary>The part of <see cref="DroppedRequests"/> lost on network links loaded past their bandwidth (0 without <c>network:</c> events).</summary>
    public double LinkDroppedRequests { get; init; }

    /// <summary>
    /// Forecast error of the policy's predictions over the first 30 s ahead: MASE against seasonal naive (null for
    /// reactive policies and the oracle).
    /// </summary>
    public double? ForecastMase { get; init; }

    /// <summary>Share of actual demand inside the forecasts' central 90% interval.</summary>
    public double? ForecastCoverage90 { get; init; }

    /// <summary>
    /// The feedback loop's status at the end of the run (a Foresight.Feedback.FeedbackStatus: per-app accuracy, current
    /// thresholds and their change log, fallback state and reasons, decision scores, retrain history); null for
    /// policies without one. Typed as object because the simulator does not depend on the feedback project.
    /// </summary>
    public object? Feedback { get; init; }

    /// <summary>SLO-violation rates before and after the scenario's regime change, when it declares one.</summary>
    public RegimeSplit? Regime { get; init; }

    /// <summary>Orchestrator faults injected (API errors, rejected spin-ups, hung cold starts, lost servers); 0 without faults.</summary>
    public int Faults { get; init; }

    /// <summary>Orchestrator calls retried after a transient error.</summary>
    public long Retries { get; init; }

    /// <summary>Spin-ups the orchestrator rejected; the reconciler re-planned them on its next pass.</summary>
    public int SpinUpFailures { get; init; }

    /// <summary>Instances stuck in cold start or warm-up that were stopped and replaced.</summary>
    public int StartupTimeouts { get; init; }

    /// <summary>Commands that still failed after retries; each ended its reconcile pass early (the state stays safe).</summary>
    public int FailedCommands { get; init; }

    public double WallSeconds { get; init; }

    public double SimulatedSeconds { get; init; }

    /// <summary>The first app's forecast bands against actual traffic per site (predictive policies); for reports, not the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Control.Policies.Predictive.ForecastTrace? ForecastTrace { get; init; }

    /// <summary>
    /// Each site the forecast raised (pre-emptive spin-ups and migrations): lead times, whether the predicted rise was
    /// real, and the latency at those sites against hpa in the same run; null for policies without a forecast.
    /// (<see cref="Migrations"/> stays the count of replicas moved between sites, as the stable contract has it.)
    /// </summary>
    public Control.Policies.Predictive.MigrationReport? PredictiveMigrations { get; init; }

    /// <summary>What users entering at each site saw, per app and time bucket; for comparisons across policies, not the JSON.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public Engine.SiteWindowStats? SiteStats { get; init; }

    /// <summary>Where this run sits in a <c>--sweep</c> (policy, parameter, value); null outside a sweep.</summary>
    public SweepPoint? Sweep { get; init; }

    /// <summary>
    /// For predictive-family runs, each reactive baseline's SLO-violation rate and p99 at this run's cost, on the
    /// baseline's target-utilization curve (JSON <c>equalCost</c>); null when no curve ran (<c>--equal-cost</c> or a
    /// target-utilization sweep).
    /// </summary>
    public IReadOnlyList<EqualCostPoint>? EqualCost { get; init; }

    public required IReadOnlyList<AppResult> Apps { get; init; }

    /// <summary>Per-minute (simulated) series for reports.</summary>
    public required IReadOnlyList<TimelineSample> Timeline { get; init; }

    /// <summary>Latency CDF points (ms, fraction) over all apps, for plots.</summary>
    public required IReadOnlyList<double[]> LatencyCdf { get; init; }
}

public sealed record AppResult(
    string Name,
    double LatencyP50Ms,
    double LatencyP95Ms,
    double LatencyP99Ms,
    double SloViolationRate,
    double DroppedRequests,
    double Requests,
    double InstanceSeconds);

public sealed record TimelineSample(double TimeSeconds, double Requests, double SloViolations, int Instances, int[] InstancesBySite)
{
    /// <summary>Requests dropped in this bucket (not in <see cref="SloViolations"/>, which counts served requests over their SLO).</summary>
    public double Dropped { get; init; }
}

/// <summary>SLO violations split around a regime change (simulated seconds), to see whether a policy recovers from it.</summary>
/// <param name="ChangeAtSeconds">When the regime changes.</param>
/// <param name="SloViolationRateBefore">From the end of the forecasters' warm-up (or the start) until the change.</param>
/// <param name="SloViolationRateAfter">From the change to the end.</param>
/// <param name="SloViolationRateAfterSettled">From one trace day after the change to the end: after any recovery.</param>
/// <param name="DailySloViolationRates">Per trace day (from the start of the run): [dayStartSeconds, rate].</param>
public sealed record RegimeSplit(
    double ChangeAtSeconds,
    double FromSeconds,
    double SloViolationRateBefore,
    double SloViolationRateAfter,
    double SloViolationRateAfterSettled,
    IReadOnlyList<double[]> DailySloViolationRates);
