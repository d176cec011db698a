using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
using System.Globalization;
using System.Text.Json.Nodes;
using Foresight.Control.Journal;
using Foresight.Feedback;
using Foresight.Kubernetes;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>
/// The loop against Kubernetes. The cluster's own per-site HPAs are the reactive path and keep scaling; the controller
/// only raises an HPA's minReplicas (the predictive floor) ahead of a confident predicted rise and restores it once the
/// predicted peak has passed, so it never fights the HPA and never removes capacity on a forecast alone.
/// <para>
/// Each app runs under the MigrationPolicy that alone selects it, else under the config file (see <see cref="PolicyResolver"/>).
/// Floors live on the cluster (HPA annotations): a replica that gains the lease rebuilds them from there, and every
/// floor write is journaled intent first, so a restart resolves one it did not see finish by reading the HPA.
/// </para>
/// </summary>
public sealed class KubernetesEngine : IControllerEngine
{
    private const double TargetUtilization = 0.7;
    private static readonly string[] FloorKinds = ["set-floor", "restore-floor"];
    private readonly KubernetesConfig _config;
    private readonly PredictiveOptions _options;
    private readonly IOrchestrator _orchestrator;
    private readonly IPredictiveFloors _floors;
    private readonly ITrafficObserver _traffic;
    private readonly TimeProvider _time;
    private readonly IAsyncDisposable? _owned;
    private readonly ILeadership? _leadership;
    private readonly long _start;
    private readonly OnlineDemandForecaster[] _forecasters;
    private readonly TrafficHistory[] _history;
    private readonly DecisionLog[] _decisions;
    private readonly int[][] _floor;
    private readonly int[][] _requested;
    private readonly double[][] _holdUntil;
    private readonly double[][] _restoredAt;
    private readonly bool[][] _deferred;
    private readonly DateTimeOffset?[] _lastRaise;
    private PolicySync? _policies;
    private bool _wasLeading;
    private long _pass;

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

                // A live tick must never wait for a fit: the retrained model is swapped in once it is ready.
                RetrainMode = RetrainMode.Background,
            })).ToArray();
        _history = config.Apps.Select(a => new TrafficHistory(a.Sites.Count)).ToArray();
        _decisions = config.Apps.Select(_ => new DecisionLog()).ToArray();
        _floor = config.Apps.Select(a => new int[a.Sites.Count]).ToArray();
        _requested = config.Apps.Select(a => new int[a.Sites.Count]).ToArray();
        _holdUntil = config.Apps.Select(a => new double[a.Sites.Count]).ToArray();
        _restoredAt = config.Apps.Select(a => Enumerable.Repeat(double.NegativeInfinity, a.Sites.Count).ToArray()).ToArray();
        _deferred = config.Apps.Select(a => new bool[a.Sites.Count]).ToArray();
        _lastRaise = new DateTimeOffset?[config.Apps.Count];
    }

    /// <summary>
    /// The durable journal: floor changes are written to it as intents before they are issued, then resolved. A
    /// replica that gains the lease resolves the intents it finds unfinished by reading the HPA.
    /// </summary>
    public SqliteCommandJournal? Journal { get; init; }

    ICommandJournal? IControllerEngine.Journal => Journal;

    /// <summary>MigrationPolicies; null: every app runs under the config file.</summary>
    public IPolicySource? Policies { get; init; }

    /// <summary>Seconds between re-reads of the policies (and of the Deployment labels they select by).</summary>
    public double PolicyResyncSeconds { get; init; } = 30;

    /// <summary>The settings each configured app runs under now (policy or config file), in config order.</summary>
    public IReadOnlyList<AppSettings> Settings => Sync.Settings;

    private PolicySync Sync => _policies ??= new PolicySync(_config.Apps, _options, Policies, PolicyResyncSeconds, _time);

    public string Mode => "kubernetes";

    public async ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken)
    {
        double now = _time.GetElapsedTime(_start).TotalSeconds;

        // Two replicas run behind a Lease; only the leader writes floors and policy status. A follower keeps observing
        // and forecasting so that it can take over with warm models.
        bool leading = _leadership is null || await _leadership.TryLeadAsync(cancellationToken).ConfigureAwait(false);
        string? takeOverError = null;
        if (leading && !_wasLeading)
        {
            try
            {
                await TakeOverAsync(now, cancellationToken).ConfigureAwait(false);
            }
            catch (OrchestratorException e)
            {
                // Writing floors without knowing the cluster's would lose the ones raised before; try again next tick.
                leading = false;
                takeOverError = $"taking over the floors failed, retrying next tick: {e.Message}";
            }
        }

        _wasLeading = leading;
        if (leading && Journal is not null)
        {
            _pass = Journal.BeginPass();
        }
        else
        {
            _pass++;
        }

        await Sync.RefreshAsync(now, cancellationToken).ConfigureAwait(false);
        ClusterSnapshot snapshot = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
        var commands = new List<EngineCommand>();
        var statuses = new List<AppStatus>();
        long reconcileStarted = _time.GetTimestamp();
        double reconcileSeconds = 0;
        for (int a = 0; a < _config.Apps.Count; a++)
        {
            KubernetesApp app = _config.Apps[a];
            AppSettings settings = Sync.Settings[a];
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
            IReadOnlyList<FloorDecision> floors = PredictiveFloor.Compute(settings.Profile, forecasts, live, TargetUtilization, settings.Options);
            if (leading)
            {
                await ApplyFloorsAsync(a, floors, live, now, dryRun || settings.DryRun, commands, cancellationToken).ConfigureAwait(false);
            }

            reconcileSeconds += _time.GetElapsedTime(reconcileStarted).TotalSeconds;
            statuses.Add(BuildStatus(a, forecasts, live, ready, now));
        }

        if (leading)
        {
            await Sync.WriteStatusAsync(a => _floor[a].Count(f => f > 0), a => _lastRaise[a], cancellationToken).ConfigureAwait(false);
        }

        ForecastAccuracy[] accuracy = _forecasters.Select(f => f.Accuracy).ToArray();
        long points = accuracy.Sum(x => x.ScoredPoints);
        double? mase = points == 0 ? null : accuracy.Where(x => x.Mase is not null).Select(x => x.Mase!.Value).DefaultIfEmpty(double.NaN).Average();
        double? coverage = points == 0 ? null : accuracy.Where(x => x.Coverage90 is not null).Sum(x => x.Coverage90!.Value * x.ScoredPoints) / points;
        string? message = takeOverError
            ?? (leading ? null : $"standby: '{_leadership!.Identity}' does not hold the lease; observing and forecasting only");
        message = Sync.Error is not { } policyError ? message : message is null ? policyError : $"{message}; {policyError}";
        return new EngineTick(now, statuses, commands, reconcileSeconds, mase is double m && double.IsNaN(m) ? null : mase, coverage, message);
    }

    public ValueTask DisposeAsync() => _owned?.DisposeAsync() ?? ValueTask.CompletedTask;

    /// <summary>
    /// On gaining the lease: resolve this replica's unfinished floor intents against the HPAs, then adopt the floors the
    /// cluster records (whoever raised them), so a floor raised by the previous leader is restored after its hold.
    /// </summary>
    private async Task TakeOverAsync(double now, CancellationToken cancellationToken)
    {
        DateTimeOffset utcNow = _time.GetUtcNow();
        if (Journal is not null)
        {
            foreach (JournalEntry intent in Journal.Unresolved(FloorKinds))
            {
                await ResolveIntentAsync(intent, cancellationToken).ConfigureAwait(false);
            }
        }

        for (int a = 0; a < _config.Apps.Count; a++)
        {
            KubernetesApp app = _config.Apps[a];
            for (int s = 0; s < app.Sites.Count; s++)
            {
                PredictiveFloorState? state = await _floors.ReadPredictiveFloorAsync(app.Profile.Name, app.Sites[s], cancellationToken).ConfigureAwait(false);
                if (state is { Raised: true, Floor: int floor })
                {
                    // Without a recorded hold (an older version, or a spin-up's floor) the floor may go once no rise is predicted.
                    _floor[a][s] = floor;
                    _requested[a][s] = floor;
                    _holdUntil[a][s] = state.HoldUntil is { } h ? now + Math.Max(0, (h - utcNow).TotalSeconds) : now;
                }
                else
                {
                    _floor[a][s] = 0;
                    _requested[a][s] = 0;
                    _holdUntil[a][s] = 0;
                }
            }
        }
    }

    private async Task ResolveIntentAsync(JournalEntry intent, CancellationToken cancellationToken)
    {
        JsonNode? payload = intent.Payload is null ? null : JsonNode.Parse(intent.Payload);
        string? site = payload?["site"]?.GetValue<string>();
        KubernetesApp? app = _config.Apps.FirstOrDefault(x => x.Profile.Name == intent.App);
        if (app is null || site is null || app.SiteIndex(site) < 0)
        {
            Journal!.MarkRolledBack(intent.Seq, "found unfinished after a restart; the app or site is no longer configured");
            return;
        }

        PredictiveFloorState? state = await _floors.ReadPredictiveFloorAsync(app.Profile.Name, site, cancellationToken).ConfigureAwait(false);
        bool landed = intent.Kind == "restore-floor"
            ? state is not { Raised: true }
            : state is { Raised: true, HoldUntil: { } hold } && payload?["holdUntil"]?.GetValue<string>() is { } wanted
              && DateTimeOffset.TryParse(wanted, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out DateTimeOffset w) && w == hold;
        if (landed)
        {
            Journal!.MarkDone(intent.Seq, "found on the HPA after a restart");
        }
        else
        {
            Journal!.MarkRolledBack(intent.Seq, "found unfinished after a restart and not on the HPA; the floor is decided again from the forecast");
        }
    }

    private async ValueTask ApplyFloorsAsync(
        int a, IReadOnlyList<FloorDecision> floors, int[] live, double now, bool dryRun, List<EngineCommand> commands, CancellationToken cancellationToken)
    {
        KubernetesApp app = _config.Apps[a];
        AppSettings settings = Sync.Settings[a];
        double hold = PredictiveFloor.LeadTimeSeconds(settings.Profile, settings.Options) + settings.Options.HoldSeconds;
        var bySite = floors.ToDictionary(d => d.Site);
        for (int s = 0; s < app.Sites.Count; s++)
        {
            string site = app.Sites[s];
            string target = $"{app.Profile.Name}@{site}";
            bool rise = bySite.TryGetValue(s, out FloorDecision? d) && d.ConfidentRise;
            // A need the HPA's maxReplicas already capped (requested above the floor written) is not asked for again.
            if (rise && d!.Needed > Math.Max(_floor[a][s], _requested[a][s]))
            {
                int needed = d.Needed;
                if (settings.Safety is { } safety)
                {
                    string? blocked = Blocked(a, s, now, safety);
                    if (blocked is not null)
                    {
                        if (!_deferred[a][s])
                        {
                            _decisions[a].Add([new Decision(now, app.Profile.Name, site, "defer-floor", _floor[a][s], needed, d.Confidence, $"{blocked} (MigrationPolicy '{settings.Policy}')")]);
                            _deferred[a][s] = true;
                        }

                        continue;
                    }

                    needed = Math.Min(needed, Math.Max(live[s], _floor[a][s]) + safety.MaxSurge);
                    if (needed <= _floor[a][s])
                    {
                        continue;
                    }
                }

                // Raise: the HPA keeps scaling above this, and its own minReplicas is kept to restore later.
                _deferred[a][s] = false;
                _holdUntil[a][s] = now + hold;
                DateTimeOffset holdUntil = _time.GetUtcNow() + TimeSpan.FromSeconds(hold);
                string reason = StatusBuilder.FloorReason(d, live[s]);
                var payload = new JsonObject { ["site"] = site, ["floor"] = needed, ["holdUntil"] = holdUntil.ToString("O", CultureInfo.InvariantCulture) };
                int? written = null;
                (string outcome, string? error, string detail) = await IssueAsync(app.Profile.Name, "set-floor", target, $"minReplicas {needed}: {reason}", payload, dryRun,
                    async () => (written = await _floors.SetPredictiveFloorAsync(app.Profile.Name, site, needed, holdUntil, cancellationToken).ConfigureAwait(false)) is not null,
                    () => written < needed ? $"minReplicas {written} (capped at the HPA's maxReplicas; {needed} needed): {reason}" : null).ConfigureAwait(false);
                commands.Add(new EngineCommand(app.Profile.Name, "set-floor", target, detail, outcome, error));
                if (outcome != "failed")
                {
                    int floor = written ?? needed;
                    string why = floor < needed ? $"{reason}; capped at the HPA's maxReplicas {floor}" : reason;
                    _decisions[a].Add([new Decision(now, app.Profile.Name, site, "raise-floor", _floor[a][s], floor, d.Confidence, why)]);
                    _floor[a][s] = dryRun ? _floor[a][s] : floor;
                    _requested[a][s] = dryRun ? _requested[a][s] : needed;
                    _lastRaise[a] = dryRun ? _lastRaise[a] : _time.GetUtcNow();
                }
            }
            else if (rise)
            {
                _holdUntil[a][s] = Math.Max(_holdUntil[a][s], now + hold);
            }
            else if (_floor[a][s] > 0 && now >= _holdUntil[a][s])
            {
                var payload = new JsonObject { ["site"] = site };
                (string outcome, string? error, _) = await IssueAsync(app.Profile.Name, "restore-floor", target, "the predicted peak has passed", payload, dryRun,
                    () => _floors.RestorePredictiveFloorAsync(app.Profile.Name, site, cancellationToken)).ConfigureAwait(false);
                commands.Add(new EngineCommand(app.Profile.Name, "restore-floor", target, "the predicted peak has passed", outcome, error));
                if (outcome != "failed")
                {
                    _decisions[a].Add([new Decision(now, app.Profile.Name, site, "restore-floor", _floor[a][s], 0, null, "predicted peak passed; the HPA's own minReplicas is back")]);
                    _floor[a][s] = 0;
                    _requested[a][s] = 0;
                    _restoredAt[a][s] = now;
                }
            }
            else if (!rise)
            {
                _deferred[a][s] = false;
            }
        }
    }

    /// <summary>Why a policy's safety limits hold back a new floor at (a, s), or null. Raising a floor already up is the same migration.</summary>
    private string? Blocked(int a, int s, double now, SafetyLimits safety)
    {
        if (_floor[a][s] > 0)
        {
            return null;
        }

        if (now - _restoredAt[a][s] < safety.CooldownSeconds)
        {
            return $"cooldown: the last floor here was restored {now - _restoredAt[a][s]:0} s ago, less than {safety.CooldownSeconds} s";
        }

        int active = _floor[a].Count(f => f > 0);
        return active >= safety.MaxConcurrentMigrations ? $"{active} site(s) already have a raised floor (maxConcurrentMigrations {safety.MaxConcurrentMigrations})" : null;
    }

    /// <summary>
    /// Journals the intent, issues it, then records the outcome; a crash in between leaves the intent for <see cref="TakeOverAsync"/>.
    /// <paramref name="applied"/> describes what was done when it differs from the intent (a capped floor), for the journal and the report.
    /// </summary>
    private async ValueTask<(string Outcome, string? Error, string Detail)> IssueAsync(
        string app, string kind, string target, string detail, JsonObject payload, bool dryRun, Func<ValueTask<bool>> action, Func<string?>? applied = null)
    {
        if (dryRun)
        {
            Journal?.Planned(_pass, app, kind, target, detail, payload.ToJsonString());
            return ("planned", null, detail);
        }

        long? seq = Journal?.Intent(_pass, app, kind, target, detail, payload.ToJsonString());
        (string, string?) result;
        try
        {
            result = await action().ConfigureAwait(false) ? ("applied", null) : ("failed", "no HPA targets this workload");
        }
        catch (OrchestratorException e)
        {
            // Recorded and retried by the next tick's level-triggered pass.
            result = ("failed", e.Message);
        }

        string? done = result.Item2 is null ? applied?.Invoke() : null;
        if (seq is long n)
        {
            if (done is not null)
            {
                Journal!.MarkDone(n, $"written: {done}");
            }
            else
            {
                Journal!.Resolve(n, result.Item2);
            }
        }

        return (result.Item1, result.Item2, done ?? detail);
    }

    private AppStatus BuildStatus(int a, Forecast?[] forecasts, int[] live, int[] ready, double now)
    {
        KubernetesApp app = _config.Apps[a];
        AppSettings settings = Sync.Settings[a];
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
            LeadTimeSeconds = PredictiveFloor.LeadTimeSeconds(settings.Profile, settings.Options),
            HorizonSeconds = horizon,
            LeadTimeWarning = StatusBuilder.LeadTimeWarning(settings.Profile, settings.Options, horizon),
            Warnings = _traffic.Warnings(app.Profile.Name),
        };
    }
}
