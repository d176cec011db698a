using Foresight.Control.Decision;
using Foresight.Control.Loop;
using Foresight.Control.Placement;
using Foresight.Control.Policies.Predictive;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Feedback;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>How the engine's clock moves a cluster: the simulator steps through simulated time, a real cluster runs one pass per tick.</summary>
public interface ILoopDriver : IAsyncDisposable
{
    /// <summary>Seconds since the controller's epoch, on the cluster's clock.</summary>
    double Now { get; }

    /// <summary>Runs the loop for <paramref name="elapsed"/> wall time; returns every tick it ran, in order.</summary>
    /// <param name="act">False: observe and forecast only (not the leader).</param>
    ValueTask<IReadOnlyList<ControlTick>> AdvanceAsync(ControlLoop loop, TimeSpan elapsed, bool act, CancellationToken cancellationToken);

    /// <summary>A note for the status (for example, that a scenario has ended), or null.</summary>
    string? Message { get; }
}

/// <summary>What a cluster adds around the loop (Kubernetes: MigrationPolicies and their status); optional.</summary>
public interface IEngineExtension
{
    /// <summary>Before the loop runs; returns a problem to show in the status, or null.</summary>
    ValueTask<string?> BeforeTickAsync(double now, bool leading, CancellationToken cancellationToken);

    /// <summary>After the loop ran (the leader writes what the cluster should show).</summary>
    ValueTask<string?> AfterTickAsync(double now, bool leading, ClusterSnapshot cluster, IReadOnlyList<EngineCommand> commands, CancellationToken cancellationToken);
}

/// <summary>
/// The one controller engine: the <see cref="ControlLoop"/> running the <c>predictive</c> policy and the (journaled)
/// reconciler against whichever cluster its ports lead to, plus the status it publishes every tick. Simulated and
/// Kubernetes mode differ only in the ports, the <see cref="ILoopDriver"/> and an optional <see cref="IEngineExtension"/>.
/// </summary>
public sealed class ControllerEngine : IControllerEngine
{
    private readonly ControlLoop _loop;
    private readonly PredictivePolicy _policy;
    private readonly OnlineDemandForecaster _forecaster;
    private readonly IOrchestrator _orchestrator;
    private readonly ILoopDriver _driver;
    private readonly IReadOnlyList<string> _siteIds;
    private readonly TrafficHistory[] _history;
    private readonly DecisionLog[] _decisions;
    private readonly RecentLog<Migration>[] _migrations;
    private readonly bool[][] _risePending;
    private readonly IAsyncDisposable? _owned;
    private bool _wasLeading;

    public ControllerEngine(
        string mode,
        ControlLoop loop,
        PredictivePolicy policy,
        OnlineDemandForecaster forecaster,
        IOrchestrator orchestrator,
        ILoopDriver driver,
        IAsyncDisposable? owned = null)
    {
        Mode = mode;
        _loop = loop;
        _policy = policy;
        _forecaster = forecaster;
        _orchestrator = orchestrator;
        _driver = driver;
        _owned = owned;
        _siteIds = loop.Context.Topology.Sites.Select(s => s.Id).ToList();
        int apps = loop.Context.Apps.Count;
        _history = Enumerable.Range(0, apps).Select(_ => new TrafficHistory(_siteIds.Count)).ToArray();
        _decisions = Enumerable.Range(0, apps).Select(_ => new DecisionLog()).ToArray();
        _migrations = Enumerable.Range(0, apps).Select(_ => new RecentLog<Migration>()).ToArray();
        _risePending = Enumerable.Range(0, apps).Select(_ => new bool[_siteIds.Count]).ToArray();
    }

    public string Mode { get; }

    public ICommandJournal? Journal { get; init; }

    /// <summary>Which replica may act; null: this one always does.</summary>
    public ILeadership? Leadership { get; init; }

    public IEngineExtension? Extension { get; init; }

    /// <summary>What was missing from an app's last traffic reading (per app, by name); null: nothing to say.</summary>
    public Func<string, IReadOnlyList<ObservationWarning>>? AppWarnings { get; init; }

    public ControlLoop Loop => _loop;

    public PredictivePolicy Policy => _policy;

    public IReadOnlyList<AppProfile> Apps => _loop.Context.Apps;

    public EdgeTopology Topology => _loop.Context.Topology;

    /// <summary>Samples the observed traffic into the status history (for warm-up replays before the first tick).</summary>
    public void SampleHistory(double windowSeconds)
    {
        var rates = new double[_siteIds.Count];
        for (int a = 0; a < _history.Length; a++)
        {
            _loop.Context.Metrics.IngressRates(a, Math.Max(windowSeconds, _loop.Context.Metrics.SampleSeconds), rates);
            _history[a].Add(_driver.Now, rates);
        }
    }

    public async ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken)
    {
        bool leading = Leadership is null || await Leadership.TryLeadAsync(cancellationToken).ConfigureAwait(false);
        var messages = new List<string>();
        if (!leading)
        {
            messages.Add($"standby: '{Leadership!.Identity}' does not hold the lease; observing and forecasting only");
        }
        else if (!_wasLeading && Leadership is not null)
        {
            messages.Add($"'{Leadership.Identity}' holds the lease: resolving what the journal left unfinished, then reconciling");
        }

        _wasLeading = leading;
        double from = _driver.Now;
        if (Extension is not null && await Extension.BeforeTickAsync(from, leading, cancellationToken).ConfigureAwait(false) is { } before)
        {
            messages.Add(before);
        }

        DesiredPlacement desiredBefore = _loop.Desired.Clone();
        _loop.DryRun = dryRun;
        long started = System.Diagnostics.Stopwatch.GetTimestamp(); // measures our own cost, not cluster time
        IReadOnlyList<ControlTick> ticks = await _driver.AdvanceAsync(_loop, elapsed, leading, cancellationToken).ConfigureAwait(false);
        double reconcileSeconds = System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
        List<EngineCommand> commands = Commands(ticks, dryRun);
        if (ticks.LastOrDefault(t => t.Error is not null)?.Error is { } error)
        {
            messages.Add(error);
        }

        double now = _driver.Now;
        if (now > from)
        {
            SampleHistory(now - from);
        }

        ClusterSnapshot cluster = await _orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false);
        if (Extension is not null && await Extension.AfterTickAsync(now, leading, cluster, commands, cancellationToken).ConfigureAwait(false) is { } after)
        {
            messages.Add(after);
        }

        if (_driver.Message is { } note)
        {
            messages.Add(note);
        }

        var statuses = new List<AppStatus>(Apps.Count);
        for (int a = 0; a < Apps.Count; a++)
        {
            (int[] live, int[] ready) = StatusBuilder.CountServing(cluster, Apps[a].Name, _siteIds.Count, SiteIndex);
            int[] cap = FloorCaps(cluster, Apps[a].Name);
            RecordDecisions(a, desiredBefore, live, cap, now);
            statuses.Add(BuildStatus(a, live, ready, cap, now));
        }

        ForecastAccuracy accuracy = _forecaster.Accuracy;
        string? message = messages.Count == 0 ? null : string.Join("; ", messages);
        return new EngineTick(now, statuses, commands, reconcileSeconds, accuracy.Mase, accuracy.Coverage90, message);
    }

    public async ValueTask DisposeAsync()
    {
        await _driver.DisposeAsync().ConfigureAwait(false);
        if (_owned is not null)
        {
            await _owned.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// What the ticks issued, with the command that failed; in dry-run the latest plan instead (unapplied plans repeat
    /// every pass, so the latest is what would be done now); and the latest plan of apps in dry-run (a MigrationPolicy's).
    /// </summary>
    private static List<EngineCommand> Commands(IReadOnlyList<ControlTick> ticks, bool dryRun)
    {
        var commands = new List<EngineCommand>();
        ReconcilePlan? latest = null;
        foreach (ControlTick tick in ticks)
        {
            if (tick.Plan is null)
            {
                continue;
            }

            latest = tick.Plan;
            if (dryRun)
            {
                continue;
            }

            commands.AddRange(tick.Plan.Commands.Select(c => StatusBuilder.ToEngineCommand(c, "applied")));
            if (tick.Issue?.Failed is { } failed)
            {
                commands.Add(StatusBuilder.ToEngineCommand(failed, "failed", tick.Issue.Error?.Message));
            }
        }

        if (latest is not null)
        {
            if (dryRun)
            {
                commands.AddRange(latest.Commands.Select(c => StatusBuilder.ToEngineCommand(c, "planned")));
            }

            commands.AddRange(latest.DryRun.Select(c => StatusBuilder.ToEngineCommand(c, "planned")));
        }

        return commands;
    }

    private int SiteIndex(string siteId) => _loop.Context.Topology.TryGetSiteIndex(siteId, out int s) ? s : -1;

    /// <summary>
    /// Per site, the most a floor can be: an HPA's maxReplicas where one scales the site (the reconciler writes no more
    /// than that), else unbounded. Status and decisions show the floor the cluster can hold, not only the one needed.
    /// </summary>
    private int[] FloorCaps(ClusterSnapshot cluster, string app)
    {
        int[] cap = Enumerable.Repeat(int.MaxValue, _siteIds.Count).ToArray();
        foreach (AutoscaledSite site in cluster.Autoscaled)
        {
            if (site.App == app && SiteIndex(site.SiteId) is int s and >= 0)
            {
                cap[s] = site.MaxReplicas;
            }
        }

        return cap;
    }

    private void RecordDecisions(int a, DesiredPlacement before, int[] active, int[] cap, double now)
    {
        string app = Apps[a].Name;
        IReadOnlyList<FloorDecision>? floors = _policy.LastFloors.Length > a ? _policy.LastFloors[a] : null;
        var fresh = new List<Decision>();
        if (floors is not null)
        {
            foreach (FloorDecision d in floors)
            {
                // A confident rise is a decision when it starts, not on every tick it lasts.
                if (d.ConfidentRise && !_risePending[a][d.Site] && d.Needed > active[d.Site])
                {
                    int to = Math.Min(d.Needed, cap[d.Site]);
                    string reason = StatusBuilder.FloorReason(d, active[d.Site]);
                    reason = to < d.Needed ? $"{reason}; capped at the HPA's maxReplicas {to}" : reason;
                    fresh.Add(new Decision(now, app, _siteIds[d.Site], "raise-floor", active[d.Site], to, d.Confidence, reason));
                }

                _risePending[a][d.Site] = d.ConfidentRise;
            }
        }

        for (int s = 0; s < _siteIds.Count; s++)
        {
            int was = before[a, s];
            int want = _loop.Desired[a, s];
            if (was == want)
            {
                continue;
            }

            int floor = _policy.FloorAt(a, s);
            string reason = want > was && floor >= want
                ? "predictive floor (the forecast needs it before the load arrives)"
                : "reactive path (HPA on observed load)";
            // Reactive decisions too: what the forecast said at the time is how an operator judges the move.
            double? confidence = floors?.FirstOrDefault(d => d.Site == s)?.Confidence;
            fresh.Add(new Decision(now, app, _siteIds[s], want > was ? "scale-up" : "scale-down", was, want, confidence, reason));
        }

        _decisions[a].Add(fresh);
        _migrations[a].Add(Moves(a, before, now));
    }

    /// <summary>
    /// Replicas taken off some sites and added at others over this tick, paired largest drop with largest rise (the
    /// pairing <see cref="PlacementDiff"/> counts as migrations; the rest is scaling).
    /// </summary>
    private List<Migration> Moves(int a, DesiredPlacement before, double now)
    {
        var down = new List<(int Site, int Count)>();
        var up = new List<(int Site, int Count)>();
        for (int s = 0; s < _siteIds.Count; s++)
        {
            int d = _loop.Desired[a, s] - before[a, s];
            if (d < 0)
            {
                down.Add((s, -d));
            }
            else if (d > 0)
            {
                up.Add((s, d));
            }
        }

        down.Sort((x, y) => y.Count.CompareTo(x.Count));
        up.Sort((x, y) => y.Count.CompareTo(x.Count));
        var moves = new List<Migration>();
        int i = 0, j = 0;
        while (i < down.Count && j < up.Count)
        {
            int n = Math.Min(down[i].Count, up[j].Count);
            moves.Add(new Migration(now, Apps[a].Name, _siteIds[down[i].Site], _siteIds[up[j].Site], n));
            down[i] = (down[i].Site, down[i].Count - n);
            up[j] = (up[j].Site, up[j].Count - n);
            i += down[i].Count == 0 ? 1 : 0;
            j += up[j].Count == 0 ? 1 : 0;
        }

        return moves;
    }

    private AppStatus BuildStatus(int a, int[] live, int[] ready, int[] cap, double now)
    {
        AppProfile app = Apps[a];
        int sites = _siteIds.Count;
        var bands = new List<ForecastBand>();
        for (int s = 0; s < sites; s++)
        {
            if (_forecaster.Predict(a, s, now) is Forecast f)
            {
                bands.Add(StatusBuilder.Band(_siteIds[s], f, now, _forecaster.StepSeconds));
            }
        }

        PredictiveOptions options = _policy.OptionsForApp?.Invoke(a) ?? _policy.Options;
        double horizon = _forecaster.HorizonOf(a) * _forecaster.StepSeconds;
        return new AppStatus
        {
            Name = app.Name,
            Sites = _siteIds,
            Forecasts = bands,
            Actual = _history[a].Series(_siteIds),
            Placements = Enumerable.Range(0, sites)
                .Select(s => new SitePlacement(_siteIds[s], _loop.Desired[a, s], live[s], ready[s], Math.Min(_policy.FloorAt(a, s), cap[s])))
                .ToList(),
            Decisions = _decisions[a].ToList(),
            Migrations = _migrations[a].ToList(),
            ReactiveOnly = _forecaster.IsReactiveOnly(a),
            FallbackReason = _forecaster.IsFitted(a) ? _forecaster.FallbackReasons[a] : "warming up: no model fitted yet (reactive only)",
            Feedback = _forecaster.GetStatus(a),
            LeadTimeSeconds = PredictiveFloor.LeadTimeSeconds(app, options),
            HorizonSeconds = horizon,
            LeadTimeWarning = StatusBuilder.LeadTimeWarning(app, options, horizon),
            Warnings = AppWarnings?.Invoke(app.Name) ?? [],
        };
    }
}
