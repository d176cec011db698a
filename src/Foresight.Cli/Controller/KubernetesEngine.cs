using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
using Foresight.Feedback;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>Raises and restores an (app, site)'s HPA minReplicas; <see cref="Foresight.Kubernetes.KubernetesOrchestrator"/> implements it.</summary>
public interface IPredictiveFloors
{
    /// <returns>False when no HPA targets the (app, site) workload.</returns>
    ValueTask<bool> SetPredictiveFloorAsync(string app, string site, int minReplicas, CancellationToken cancellationToken);

    ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken);
}

/// <summary>
/// The loop against Kubernetes. The cluster's own per-site HPAs are the reactive path and keep scaling; the controller
/// only raises an HPA's minReplicas (the predictive floor) ahead of a confident predicted rise and restores it once the
/// predicted peak has passed, so it never fights the HPA and never removes capacity on a forecast alone.
/// </summary>
public sealed class KubernetesEngine : IControllerEngine
{
    private const double TargetUtilization = 0.7;
    private readonly KubernetesConfig _config;
    private readonly PredictiveOptions _options;
    private readonly IOrchestrator _orchestrator;
    private readonly IPredictiveFloors _floors;
    private readonly ITrafficObserver _traffic;
    private readonly TimeProvider _time;
    private readonly IAsyncDisposable? _owned;
    private readonly ILeadership? _leadership;

    /// <summary>The durable journal the floor changes are recorded in (as events), when one is configured.</summary>
    public ICommandJournal? Journal { get; init; }
    private readonly long _start;
    private readonly OnlineDemandForecaster[] _forecasters;
    private readonly TrafficHistory[] _history;
    private readonly DecisionLog[] _decisions;
    private readonly int[][] _floor;
    private readonly double[][] _holdUntil;

    public KubernetesEngine(
        KubernetesConfig config,
        PredictiveOptions options,
        IOrchestrator orchestrator,
        IPredictiveFloors floors,
        ITrafficObserver traffic,
        TimeProvider time,
        IAsyncDisposable? owned = null,
        ILeadership? leadership = null)
    {
        _leadership = leadership;
        _config = config;
        _options = options;
        _orchestrator = orchestrator;
        _floors = floors;
        _traffic = traffic;
        _time = time;
        _owned = owned;
        _start = time.GetTimestamp();
        int season = Math.Max(1, (int)Math.Round(config.SeasonSeconds / config.StepSeconds));
        _forecasters = config.Apps.Select(app => new OnlineDemandForecaster(1, app.Sites.Count,
            PredictiveForecasting.ModelFactory(config.Forecaster, config.HorizonSteps, season),
            new OnlineForecasterOptions
            {
                BucketSeconds = config.StepSeconds,
                HorizonSteps = config.HorizonSteps,
                WarmupSeconds = config.WarmupSeconds,
                RefitEverySeconds = config.SeasonSeconds,
                SeasonLength = season,
                HistoryBuckets = Math.Max(4 * season, 2_000),
                Epoch = time.GetUtcNow(),
                AppNames = [app.Profile.Name],
            })).ToArray();
        _history = config.Apps.Select(a => new TrafficHistory(a.Sites.Count)).ToArray();
        _decisions = config.Apps.Select(_ => new DecisionLog()).ToArray();
        _floor = config.Apps.Select(a => new int[a.Sites.Count]).ToArray();
        _holdUntil = config.Apps.Select(a => new double[a.Sites.Count]).ToArray();
    }

    public string Mode => "kubernetes";

    public async ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken)
    {
        double now = _time.GetElapsedTime(_start).TotalSeconds;

        // Two replicas run behind a Lease; only the leader writes floors. A follower keeps observing and forecasting so
        // that it can take over with warm models.
        bool leading = _leadership is null || await _leadership.TryLeadAsync(cancellationToken).ConfigureAwait(false);
        ClusterSnapshot snapshot = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var commands = new List<EngineCommand>();
        var statuses = new List<AppStatus>();
        long reconcileStarted = _time.GetTimestamp();
        double reconcileSeconds = 0;
        for (int a = 0; a < _config.Apps.Count; a++)
        {
            KubernetesApp app = _config.Apps[a];
            double[] rates = await _traffic.ObserveAsync(app, cancellationToken).ConfigureAwait(false);
            _forecasters[a].Observe(0, now, rates);
            _history[a].Add(now, rates);
            (int[] live, int[] ready) = StatusBuilder.CountServing(snapshot, app.Profile.Name, app.Sites.Count, app.SiteIndex);
            var forecasts = new Forecast?[app.Sites.Count];
            for (int s = 0; s < forecasts.Length; s++)
            {
                forecasts[s] = _forecasters[a].Predict(0, s, now);
            }

            reconcileStarted = _time.GetTimestamp();
            IReadOnlyList<FloorDecision> floors = PredictiveFloor.Compute(app.Profile, forecasts, live, TargetUtilization, _options);
            if (leading)
            {
                await ApplyFloorsAsync(a, floors, live, now, dryRun, commands, cancellationToken).ConfigureAwait(false);
            }

            reconcileSeconds += _time.GetElapsedTime(reconcileStarted).TotalSeconds;
            statuses.Add(BuildStatus(a, forecasts, live, ready, now));
        }

        ForecastAccuracy[] accuracy = _forecasters.Select(f => f.Accuracy).ToArray();
        long points = accuracy.Sum(x => x.ScoredPoints);
        double? mase = points == 0 ? null : accuracy.Where(x => x.Mase is not null).Select(x => x.Mase!.Value).DefaultIfEmpty(double.NaN).Average();
        double? coverage = points == 0 ? null : accuracy.Where(x => x.Coverage90 is not null).Sum(x => x.Coverage90!.Value * x.ScoredPoints) / points;
        string? message = leading ? null : $"standby: '{_leadership!.Identity}' does not hold the lease; observing and forecasting only";
        return new EngineTick(now, statuses, commands, reconcileSeconds, mase is double m && double.IsNaN(m) ? null : mase, coverage, message);
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    private async ValueTask ApplyFloorsAsync(
        int a, IReadOnlyList<FloorDecision> floors, int[] live, double now, bool dryRun, List<EngineCommand> commands, CancellationToken cancellationToken)
    {
        KubernetesApp app = _config.Apps[a];
        double hold = PredictiveFloor.LeadTimeSeconds(app.Profile, _options) + _options.HoldSeconds;
        var bySite = floors.ToDictionary(d => d.Site);
        for (int s = 0; s < app.Sites.Count; s++)
        {
            string site = app.Sites[s];
            bool rise = bySite.TryGetValue(s, out FloorDecision? d) && d.ConfidentRise;
            if (rise && d!.Needed > _floor[a][s])
            {
                // Raise: the HPA keeps scaling above this, and its own minReplicas is kept to restore later.
                _holdUntil[a][s] = now + hold;
                string reason = StatusBuilder.FloorReason(d, live[s]);
                (string outcome, string? error) = await RunAsync(dryRun, () => _floors.SetPredictiveFloorAsync(app.Profile.Name, site, d.Needed, cancellationToken)).ConfigureAwait(false);
                commands.Add(new EngineCommand(app.Profile.Name, "set-floor", $"{app.Profile.Name}@{site}", $"minReplicas {d.Needed}: {reason}", outcome, error));
                if (outcome != "failed")
                {
                    _decisions[a].Add([new Decision(now, app.Profile.Name, site, "raise-floor", _floor[a][s], d.Needed, d.Confidence, reason)]);
                    _floor[a][s] = dryRun ? _floor[a][s] : d.Needed;
                }
            }
            else if (rise)
            {
                _holdUntil[a][s] = Math.Max(_holdUntil[a][s], now + hold);
            }
            else if (_floor[a][s] > 0 && now >= _holdUntil[a][s])
            {
                (string outcome, string? error) = await RunAsync(dryRun, () => _floors.RestorePredictiveFloorAsync(app.Profile.Name, site, cancellationToken)).ConfigureAwait(false);
                commands.Add(new EngineCommand(app.Profile.Name, "restore-floor", $"{app.Profile.Name}@{site}", "the predicted peak has passed", outcome, error));
                if (outcome != "failed")
                {
                    _decisions[a].Add([new Decision(now, app.Profile.Name, site, "restore-floor", _floor[a][s], 0, null, "predicted peak passed; the HPA's own minReplicas is back")]);
                    _floor[a][s] = 0;
                }
            }
        }
    }

    private static async ValueTask<(string Outcome, string? Error)> RunAsync(bool dryRun, Func<ValueTask<bool>> action)
    {
        if (dryRun)
        {
            return ("planned", null);
        }

        try
        {
            return await action().ConfigureAwait(false) ? ("applied", null) : ("failed", "no HPA targets this workload");
        }
        catch (OrchestratorException e)
        {
            // Recorded and retried by the next tick's level-triggered pass.
            return ("failed", e.Message);
        }
    }

    private AppStatus BuildStatus(int a, Forecast?[] forecasts, int[] live, int[] ready, double now)
    {
        KubernetesApp app = _config.Apps[a];
        OnlineDemandForecaster f = _forecasters[a];
        double horizon = f.HorizonSteps * f.StepSeconds;
        return new AppStatus
        {
            Name = app.Profile.Name,
            Sites = app.Sites,
            Forecasts = forecasts.Select((x, s) => x is null ? null : StatusBuilder.Band(app.Sites[s], x, now, f.StepSeconds)).OfType<ForecastBand>().ToList(),
            Actual = _history[a].Series(app.Sites),
            Placements = app.Sites.Select((site, s) => new SitePlacement(site, Math.Max(live[s], _floor[a][s]), live[s], ready[s], _floor[a][s])).ToList(),
            Decisions = _decisions[a].ToList(),
            ReactiveOnly = f.IsReactiveOnly(0),
            FallbackReason = f.IsFitted(0) ? f.FallbackReasons[0] : "warming up: no model fitted yet (the HPAs alone scale)",
            Feedback = f.GetStatus(0),
            LeadTimeSeconds = PredictiveFloor.LeadTimeSeconds(app.Profile, _options),
            HorizonSeconds = horizon,
            LeadTimeWarning = StatusBuilder.LeadTimeWarning(app.Profile, _options, horizon),
        };
    }
}
