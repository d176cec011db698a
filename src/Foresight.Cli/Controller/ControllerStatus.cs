namespace Foresight.Cli.Controller;

/// <summary>
/// What the controller knows after one tick: an immutable snapshot, published whole so readers (the API, the
/// dashboard, metrics) never see half a tick. Times are engine seconds (simulated seconds, or seconds since start).
/// </summary>
public sealed record ControllerStatus
{
    public static ControllerStatus Initial(string mode, bool dryRun) => new() { Mode = mode, DryRun = dryRun, Time = DateTimeOffset.UnixEpoch };

    public required string Mode { get; init; }

    public bool DryRun { get; init; }

    public bool Paused { get; init; }

    /// <summary>Ticks run so far.</summary>
    public long Tick { get; init; }

    /// <summary>Ticks skipped because a tick ran late (coalesced into the next one), in total.</summary>
    public long SkippedTicks { get; init; }

    public double TickDurationMs { get; init; }

    /// <summary>Wall-clock time of the tick (the controller's TimeProvider).</summary>
    public DateTimeOffset Time { get; init; }

    public double EngineSeconds { get; init; }

    /// <summary>Forecast accuracy over all apps so far: MASE against seasonal naive (below 1 beats it), and 90% interval coverage.</summary>
    public double? ForecastMase { get; init; }

    public double? ForecastCoverage90 { get; init; }

    /// <summary>Anything the operator should know (a finished scenario, the last tick's error).</summary>
    public string? Message { get; init; }

    public IReadOnlyList<AppStatus> Apps { get; init; } = [];
}

public sealed record AppStatus
{
    public required string Name { get; init; }

    public required IReadOnlyList<string> Sites { get; init; }

    /// <summary>Per site: the latest forecast's quantiles over the horizon (empty before the first fit or in fallback).</summary>
    public IReadOnlyList<ForecastBand> Forecasts { get; init; } = [];

    /// <summary>Per site: observed requests per second over the recent past.</summary>
    public IReadOnlyList<TrafficSeries> Actual { get; init; } = [];

    public IReadOnlyList<SitePlacement> Placements { get; init; } = [];

    /// <summary>Recent decisions, newest first.</summary>
    public IReadOnlyList<Decision> Decisions { get; init; } = [];

    /// <summary>Recent moves of desired replicas from one site to another, newest first.</summary>
    public IReadOnlyList<Migration> Migrations { get; init; } = [];

    public bool ReactiveOnly { get; init; }

    public string FallbackReason { get; init; } = "";

    /// <summary>
    /// The feedback loop for this app: rolling accuracy, current thresholds with their recent changes and reasons,
    /// fallback transitions, decision scores and retrain history (null where the engine has no feedback loop).
    /// </summary>
    public Foresight.Feedback.AppFeedbackStatus? Feedback { get; init; }

    /// <summary>Cold start + warm-up + margin: how far ahead a decision must look.</summary>
    public double LeadTimeSeconds { get; init; }

    public double HorizonSeconds { get; init; }

    /// <summary>Set when the forecast horizon is shorter than the lead time, so a shift cannot be met warm.</summary>
    public string? LeadTimeWarning { get; init; }

    /// <summary>What was wrong with this tick's traffic observation (empty when nothing was).</summary>
    public IReadOnlyList<ObservationWarning> Warnings { get; init; } = [];
}

/// <summary>A traffic observation that was taken with a gap, so the rates it gave may be wrong.</summary>
/// <param name="Reason">no_series (the query matched no series for any site: traffic taken as the last readings, 0 at first), missing_site, or non_finite.</param>
/// <param name="Site">The site concerned; null for the whole app.</param>
public sealed record ObservationWarning(string Reason, string? Site, string Message);

public sealed record ForecastBand(string Site, IReadOnlyList<double> Times, IReadOnlyList<double> P05, IReadOnlyList<double> P50, IReadOnlyList<double> P95);

public sealed record TrafficSeries(string Site, IReadOnlyList<double> Times, IReadOnlyList<double> Rps);

/// <param name="Desired">Replicas the controller wants (the larger of reactive and predictive).</param>
/// <param name="Live">Instances not draining or stopped.</param>
/// <param name="Ready">Instances at full capacity.</param>
/// <param name="Floor">The predictive floor in force (0 when none).</param>
public sealed record SitePlacement(string Site, int Desired, int Live, int Ready, int Floor);

/// <param name="Kind">raise-floor, scale-up, scale-down.</param>
/// <param name="Confidence">
/// The forecast's probability, at decision time, that demand at the site rises beyond its capacity plus the shift
/// threshold (the quantity the confidence gate compares); null when the app had no forecast (warming up, reactive only).
/// </param>
public sealed record Decision(double Time, string App, string Site, string Kind, int From, int To, double? Confidence, string Reason);

/// <summary>Desired replicas of an app taken off one site and added at another in the same tick.</summary>
public sealed record Migration(double Time, string App, string From, string To, int Replicas);
