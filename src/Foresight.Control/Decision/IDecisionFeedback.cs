namespace Foresight.Control.Decision;

/// <summary>
/// The feedback loop as the decision path sees it: which thresholds to decide with, and the decisions made, so that
/// they can be scored once their lead time has passed. Implemented in Foresight.Feedback; the policy never sees models.
/// </summary>
public interface IDecisionFeedback
{
    /// <summary>The thresholds for the app's next decisions: the adapted ones, or <paramref name="defaults"/> unchanged.</summary>
    PredictiveOptions OptionsFor(int app, PredictiveOptions defaults);

    /// <summary>Records the floor decisions just made for one app, to be scored against the demand later observed.</summary>
    /// <param name="app">App index.</param>
    /// <param name="now">Seconds on the controller's clock.</param>
    /// <param name="decisions">The decisions of this tick (one per site with a forecast).</param>
    /// <param name="activeReplicas">Per site: live, non-draining instances when the decision was made.</param>
    /// <param name="replicaRps">Requests per second one replica serves at the planning utilization.</param>
    /// <param name="leadSeconds">The app's lead time: when the decisions are scored against what arrived.</param>
    /// <param name="options">The thresholds the decisions were made with.</param>
    void RecordDecisions(int app, double now, IReadOnlyList<FloorDecision> decisions, ReadOnlySpan<int> activeReplicas, double replicaRps, double leadSeconds, PredictiveOptions options);

    /// <summary>The loop's status for results and the status API (a Foresight.Feedback.FeedbackStatus); built when read.</summary>
    object Status { get; }
}
