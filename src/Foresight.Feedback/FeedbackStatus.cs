using Foresight.Feedback.Decisions;
using Foresight.Feedback.Retraining;

namespace Foresight.Feedback;

/// <summary>
/// The feedback loop's state, as shown by <c>simulate --json</c> and the controller's status. A value built when read;
/// field names are part of the JSON contract (add, never rename).
/// </summary>
/// <param name="Enabled">False for <c>predictive-nofeedback</c>: accuracy is still measured, nothing is acted on.</param>
/// <param name="RetrainMode">"deterministic" (simulation: swap at a fixed simulated delay) or "background" (swap when ready).</param>
public sealed record FeedbackStatus(bool Enabled, string RetrainMode, IReadOnlyList<AppFeedbackStatus> Apps);

/// <summary>One app's accuracy, thresholds, fallback state, decision scores and retrain history.</summary>
/// <param name="Mase">Rolling MASE against seasonal naive of the forecasts 1-6 steps ahead (null while undefined).</param>
/// <param name="Coverage90">
/// Rolling share of actuals inside the central 90% interval, over the series that have carried traffic (a site no
/// source is homed to, such as the cloud, is forecast as exactly 0 and is not counted; design note 0022).
/// </param>
/// <param name="MeanPinball">Rolling pinball loss, averaged over the forecast's quantile levels.</param>
/// <param name="ScoredPoints">Points in the rolling window.</param>
/// <param name="ConfidenceThreshold">The confidence threshold decisions currently use.</param>
/// <param name="ShiftThreshold">The traffic-shift threshold decisions currently use.</param>
/// <param name="ThresholdChanges">Total threshold changes; <paramref name="RecentThresholdChanges"/> holds the latest.</param>
/// <param name="ReactiveOnly">True while the app's decisions ignore its forecasts.</param>
/// <param name="FallbackReason">Why the app is, or is not, reactive-only.</param>
/// <param name="Precision">Recent confident rises that were real (null until any was scored).</param>
/// <param name="Recall">Recent real needs that a confident rise predicted.</param>
/// <param name="DriftAlarms">Times the drift detector fired; <paramref name="RecentDriftAlarms"/> holds when (the latest).</param>
/// <param name="ModelVersion">The published model's version (0 before the first fit).</param>
/// <param name="PlanningQuantile">
/// The quantile of predicted demand the app's floors were last sized for: the newsvendor's when a miss is priced
/// (<c>missCost</c>), else the fixed option; null before the first decision.
/// </param>
/// <param name="RunMase">MASE over every point scored since the start (the rolling <paramref name="Mase"/> sees only the last window).</param>
/// <param name="RunCoverage90">Coverage of the 90% interval over every point scored since the start.</param>
/// <param name="Calibrated">Whether the forecasts are conformally calibrated in the loop (design note 0022).</param>
/// <param name="LeadStep">The first forecast step the app's floors read (its lead time over the bucket length); null before the first decision.</param>
/// <param name="LeadMase">MASE of the median at <paramref name="LeadStep"/> over the whole run: the accuracy where the decision is made.</param>
public sealed record AppFeedbackStatus(
    string App,
    double? Mase,
    double? Coverage90,
    double? MeanPinball,
    int ScoredPoints,
    double ConfidenceThreshold,
    double ShiftThreshold,
    int ThresholdChanges,
    IReadOnlyList<ThresholdChangeStatus> RecentThresholdChanges,
    bool ReactiveOnly,
    string FallbackReason,
    IReadOnlyList<FallbackTransitionStatus> FallbackTransitions,
    double? Precision,
    double? Recall,
    DecisionTotals Decisions,
    int DriftAlarms,
    IReadOnlyList<double> RecentDriftAlarms,
    int ModelVersion,
    int Retrains,
    IReadOnlyList<RetrainRecord> RecentRetrains,
    double? PlanningQuantile = null,
    double? RunMase = null,
    double? RunCoverage90 = null,
    bool Calibrated = false,
    int? LeadStep = null,
    double? LeadMase = null);

/// <param name="Threshold">"confidence" or "shift".</param>
public sealed record ThresholdChangeStatus(double Time, string Threshold, double OldValue, double NewValue, string Reason);

public sealed record FallbackTransitionStatus(double Time, bool ReactiveOnly, string Reason);
