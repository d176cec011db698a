using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

public sealed record ReconcilerOptions
{
    /// <summary>Routing fills a site up to this utilization of its serving capacity before spilling to the next nearest.</summary>
    public double RoutingMaxUtilization { get; init; } = 0.85;

    /// <summary>A draining instance is stopped at the latest after this many drain periods, even with work in flight.</summary>
    public double MaxDrainPeriods { get; init; } = 6;

    /// <summary>
    /// An instance stuck in cold start (or warm-up) for longer than this many times its app's cold-start (warm-up)
    /// time, plus <see cref="StartupTimeoutMarginSeconds"/>, is stopped and replaced. Null: never (the seed's behaviour).
    /// </summary>
    public double? StartupTimeoutFactor { get; init; }

    public double StartupTimeoutMarginSeconds { get; init; } = 10;

    /// <summary>At most this many instances above the desired total may be live (not draining) at once. Null: no limit.</summary>
    public int? MaxSurge { get; init; }

    /// <summary>At most this many replacements per app may be on their way to Ready at once. Null: no limit.</summary>
    public int? MaxConcurrentMigrations { get; init; }

    /// <summary>
    /// After an app's placement changed, its serving capacity is not drained again for this long (scale-up is never
    /// delayed, so the reactive path stays on).
    /// </summary>
    public double CooldownSeconds { get; init; }

    public MigrationStrategy Strategy { get; init; } = MigrationStrategy.PreEmptive;

    /// <summary>Per-app overrides of <see cref="Strategy"/>.</summary>
    public IReadOnlyDictionary<string, MigrationStrategy>? StrategyByApp { get; init; }

    /// <summary>Hot-swap: the largest share of an ingress site's traffic moved per reconcile pass.</summary>
    public double HotSwapStep { get; init; } = 0.25;

    /// <summary>
    /// Per-app overrides (a Kubernetes MigrationPolicy's strategy, safety limits and dry-run), read on every pass so
    /// that an edited policy takes effect at once. Null, or null for an app: these options.
    /// </summary>
    public Func<string, AppReconcileOverrides?>? ForApp { get; init; }

    public MigrationStrategy StrategyFor(string app) =>
        ForApp?.Invoke(app)?.Strategy is MigrationStrategy o ? o
        : StrategyByApp is not null && StrategyByApp.TryGetValue(app, out MigrationStrategy s) ? s : Strategy;

    /// <summary>These options with an app's overrides applied.</summary>
    public ReconcilerOptions For(string app) => ForApp?.Invoke(app) is not { } o
        ? this
        : this with
        {
            MaxSurge = o.MaxSurge ?? MaxSurge,
            MaxConcurrentMigrations = o.MaxConcurrentMigrations ?? MaxConcurrentMigrations,
            CooldownSeconds = o.CooldownSeconds ?? CooldownSeconds,
            HotSwapStep = o.HotSwapStep ?? HotSwapStep,
        };

    /// <summary>Returns the name of the first invalid option, or null.</summary>
    public string? Validate()
    {
        if (!(RoutingMaxUtilization > 0 && RoutingMaxUtilization <= 1))
        {
            return nameof(RoutingMaxUtilization);
        }

        if (!(MaxDrainPeriods >= 1))
        {
            return nameof(MaxDrainPeriods);
        }

        if (StartupTimeoutFactor is double f && !(f >= 1 && double.IsFinite(f)))
        {
            return nameof(StartupTimeoutFactor);
        }

        if (!(StartupTimeoutMarginSeconds >= 0 && double.IsFinite(StartupTimeoutMarginSeconds)))
        {
            return nameof(StartupTimeoutMarginSeconds);
        }

        // Make-before-break needs room for at least one replacement, or a migration could never start.
        if (MaxSurge is < 1)
        {
            return nameof(MaxSurge);
        }

        if (MaxConcurrentMigrations is < 1)
        {
            return nameof(MaxConcurrentMigrations);
        }

        if (!(CooldownSeconds >= 0 && double.IsFinite(CooldownSeconds)))
        {
            return nameof(CooldownSeconds);
        }

        return HotSwapStep is > 0 and <= 1 ? null : nameof(HotSwapStep);
    }
}

/// <summary>One app's reconcile settings where they differ from <see cref="ReconcilerOptions"/>; null fields keep the defaults.</summary>
/// <param name="DryRun">Plan nothing for the app: its instances, floors and routes are left as they are.</param>
public sealed record AppReconcileOverrides(
    bool DryRun = false,
    MigrationStrategy? Strategy = null,
    double? HotSwapStep = null,
    int? MaxSurge = null,
    int? MaxConcurrentMigrations = null,
    double? CooldownSeconds = null);

public enum MigrationStrategy
{
    /// <summary>Start and warm the new instance, then move all of the traffic and retire the old one.</summary>
    PreEmptive,

    /// <summary>Move traffic weights to the new instance gradually, once it is Ready, then retire the old one.</summary>
    HotSwap,
}

/// <summary>
/// Drives the actual placement towards the desired one, level-triggered and idempotent: each pass re-reads both
/// and emits only what is still missing. Order of safety: create first; route only to serving instances; drain an
/// instance only when enough fully warm capacity remains without it; stop only drained instances.
/// </summary>
public sealed class PlacementReconciler
{
    private readonly EdgeTopology _topology;
    private readonly IReadOnlyList<AppProfile> _apps;
    private readonly ReconcilerOptions _options;
    private readonly Dictionary<string, int> _appIndex = new(StringComparer.Ordinal);
    private readonly double[][] _weights;
    private readonly Func<long> _nextRequestNumber;
    private readonly Func<string, DateTimeOffset?> _lastChange;
    private long _requestCounter;

    /// <param name="nextRequestNumber">Source of spin-up request numbers; a journal persists it so ids are not reused after a restart.</param>
    /// <param name="lastChange">When an app's placement last changed, for the cooldown; without it there is no cooldown.</param>
    public PlacementReconciler(
        EdgeTopology topology,
        IReadOnlyList<AppProfile> apps,
        ReconcilerOptions? options = null,
        Func<long>? nextRequestNumber = null,
        Func<string, DateTimeOffset?>? lastChange = null)
    {
        _topology = topology;
        _apps = apps;
        _options = options ?? new ReconcilerOptions();
        if (_options.Validate() is string bad)
        {
            throw new ArgumentException($"Invalid reconciler option {bad}.", nameof(options));
        }

        _nextRequestNumber = nextRequestNumber ?? (() => ++_requestCounter);
        _lastChange = lastChange ?? (_ => null);
        for (int a = 0; a < apps.Count; a++)
        {
            _appIndex.Add(apps[a].Name, a);
        }

        _weights = new double[topology.SiteCount][];
        for (int s = 0; s < topology.SiteCount; s++)
        {
            _weights[s] = new double[topology.SiteCount];
        }
    }

    /// <summary>
    /// Computes the commands that move <paramref name="snapshot"/> towards <paramref name="desired"/>.
    /// <paramref name="demandByAppIngress"/>[app][site] is the demand estimate used for routing.
    /// </summary>
    public ReconcilePlan Plan(DesiredPlacement desired, ClusterSnapshot snapshot, IReadOnlyList<double[]> demandByAppIngress)
    {
        var issued = new List<ReconcileCommand>();
        var dryRun = new List<ReconcileCommand>();
        var byApp = new List<InstanceInfo>[_apps.Count];
        for (int a = 0; a < _apps.Count; a++)
        {
            byApp[a] = [];
        }

        foreach (InstanceInfo inst in snapshot.Instances)
        {
            if (!_appIndex.TryGetValue(inst.App, out int a))
            {
                continue;
            }

            if (inst.State == InstanceState.Failed)
            {
                // Clean up; the missing capacity is re-created below because failed instances do not count.
                (IsDryRun(inst.App) ? dryRun : issued).Add(new ReconcileCommand.Stop(inst.App, inst.Id, StopReason.Failed, inst.FailureReason ?? ""));
            }
            else if (inst.State.IsLive())
            {
                byApp[a].Add(inst);
            }
        }

        var existingRoutes = new Dictionary<(string, string), Route>();
        foreach (Route r in snapshot.Routes)
        {
            existingRoutes[(r.App, r.IngressSiteId)] = r;
        }

        // Apps share the links' bandwidth: one budget for the whole pass.
        LinkBudget? budget = snapshot.Network is { } network ? new LinkBudget(network, _options.RoutingMaxUtilization) : null;
        for (int a = 0; a < _apps.Count; a++)
        {
            ReconcilerOptions options = _options.For(_apps[a].Name);

            // An app in dry-run is planned like the others, on its own list; its routes take no share of the links.
            bool appDryRun = IsDryRun(_apps[a].Name);
            List<ReconcileCommand> commands = appDryRun ? dryRun : issued;
            LinkBudget? appBudget = appDryRun ? null : budget;

            // Order matters for safety: create, shift traffic off what will drain, drain, then stop.
            var appCommands = new List<ReconcileCommand>();
            bool hotSwap = _options.StrategyFor(_apps[a].Name) == MigrationStrategy.HotSwap;
            double[]? carried = hotSwap ? CarriedWeight(_apps[a].Name, snapshot.Routes) : null;
            var retiring = new HashSet<InstanceId>();
            AutoscaledSite?[] autoscaled = AutoscaledSites(_apps[a].Name, snapshot.Autoscaled);
            PlanApp(a, desired, byApp[a], snapshot.Time, appCommands, carried, retiring, autoscaled, options);
            var leaving = appCommands
                .Select(c => c switch { ReconcileCommand.Drain d => d.Instance, ReconcileCommand.Stop s => s.Instance, _ => default })
                .Where(id => id.Value is not null)
                .ToHashSet();
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.SpinUp or ReconcileCommand.SetFloor));
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Stop { Reason: StopReason.NotServing }));
            var serving = byApp[a].Where(i => !leaving.Contains(i.Id)).ToList();
            if (hotSwap)
            {
                PlanHotSwapRoutes(a, serving, retiring, demandByAppIngress[a], existingRoutes, commands, snapshot.Network, appBudget, options.HotSwapStep);
            }
            else
            {
                PlanRoutes(a, serving, demandByAppIngress[a], existingRoutes, commands, snapshot.Network, appBudget);
            }

            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Drain));
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Stop { Reason: not StopReason.NotServing }));
        }

        return new ReconcilePlan(issued) { DryRun = dryRun };
    }

    private bool IsDryRun(string app) => _options.ForApp?.Invoke(app) is { DryRun: true };

    /// <summary>Issues the plan's commands in order. A failing command stops the pass; the next pass re-plans.</summary>
    public static async ValueTask ApplyAsync(ReconcilePlan plan, IOrchestrator orchestrator, CancellationToken cancellationToken)
    {
        foreach (ReconcileCommand command in plan.Commands)
        {
            await CommandIssuer.IssueAsync(command, orchestrator, cancellationToken).ConfigureAwait(false);
        }
    }

    private void PlanApp(
        int a,
        DesiredPlacement desired,
        List<InstanceInfo> instances,
        DateTimeOffset now,
        List<ReconcileCommand> commands,
        double[]? carriedWeight,
        HashSet<InstanceId> retiring,
        AutoscaledSite?[] autoscaled,
        ReconcilerOptions options)
    {
        AppProfile app = _apps[a];
        string name = app.Name;
        int keep = desired.Total(a);
        int ready = 0;
        int routable = 0;
        int notReady = 0;
        var active = new List<InstanceInfo>[_topology.SiteCount];
        for (int s = 0; s < active.Length; s++)
        {
            active[s] = [];
        }

        foreach (InstanceInfo inst in instances)
        {
            // Where an autoscaler owns the count, the instances are its to start, stop and replace; they still serve.
            bool owned = _topology.TryGetSiteIndex(inst.SiteId, out int at) && autoscaled[at] is not null;
            if (owned && inst.State == InstanceState.Draining)
            {
                continue;
            }

            if (inst.State == InstanceState.Draining)
            {
                double drainedFor = (now - inst.StateSince).TotalSeconds;
                bool drained = inst.InFlight < 0.5 && drainedFor >= app.DrainSeconds;
                if (drained || drainedFor >= app.DrainSeconds * _options.MaxDrainPeriods)
                {
                    commands.Add(new ReconcileCommand.Stop(name, inst.Id, drained ? StopReason.Drained : StopReason.DrainTimeout));
                }

                continue;
            }

            if (!owned && StartupTimedOut(app, inst, now) is string why)
            {
                // Replaced below: it no longer counts as active, so the missing capacity is re-created this pass.
                commands.Add(new ReconcileCommand.Stop(name, inst.Id, StopReason.StartupTimeout, why));
                continue;
            }

            if (_topology.TryGetSiteIndex(inst.SiteId, out int site))
            {
                active[site].Add(inst);
            }

            ready += inst.State == InstanceState.Ready ? 1 : 0;
            routable += inst.State.IsRoutable() ? 1 : 0;
            notReady += inst.State is InstanceState.Pending or InstanceState.Starting or InstanceState.Warming ? 1 : 0;
        }

        // Create first, within the surge and concurrency limits.
        int activeCount = active.Sum(l => l.Count);
        int allowed = int.MaxValue;
        if (options.MaxSurge is int surge)
        {
            allowed = Math.Min(allowed, keep + surge - activeCount);
        }

        if (options.MaxConcurrentMigrations is int concurrent)
        {
            allowed = Math.Min(allowed, concurrent - notReady);
        }

        for (int s = 0; s < active.Length; s++)
        {
            if (autoscaled[s] is { } scaled)
            {
                // "At least N here" for what the forecast needs: the autoscaler is the reactive path, adds the
                // instances, and removes them once the floor comes down.
                int floor = Math.Clamp(desired.Anticipated(a, s), scaled.UserMinReplicas, scaled.MaxReplicas);
                if (floor != scaled.Floor)
                {
                    commands.Add(new ReconcileCommand.SetFloor(name, scaled.SiteId, floor, scaled.Floor));
                }

                continue;
            }

            int missing = desired[a, s] - active[s].Count;
            for (int k = 0; k < missing && allowed > 0; k++, allowed--)
            {
                string requestId = $"{name}@{_topology.Sites[s].Id}#{_nextRequestNumber()}";
                commands.Add(new ReconcileCommand.SpinUp(new SpinUpRequest(requestId, name, _topology.Sites[s].Id)));
            }
        }

        bool coolingDown = options.CooldownSeconds > 0
            && _lastChange(name) is DateTimeOffset last
            && (now - last).TotalSeconds < options.CooldownSeconds;

        // Then remove surplus, cheapest first: not yet serving, then warming, then the newest ready ones.
        var surplus = new List<InstanceInfo>();
        for (int s = 0; s < active.Length; s++)
        {
            int extra = active[s].Count - desired[a, s];
            if (extra > 0 && autoscaled[s] is null)
            {
                surplus.AddRange(active[s]
                    .OrderBy(i => RemovalRank(i.State))
                    .ThenByDescending(i => i.CreatedAt)
                    .ThenBy(i => i.Id.Value, StringComparer.Ordinal)
                    .Take(extra));
            }
        }

        foreach (InstanceInfo inst in surplus.OrderBy(i => RemovalRank(i.State)).ThenByDescending(i => i.CreatedAt))
        {
            switch (inst.State)
            {
                case InstanceState.Pending or InstanceState.Starting:
                    commands.Add(new ReconcileCommand.Stop(name, inst.Id, StopReason.NotServing));
                    break;
                case InstanceState.Warming or InstanceState.Ready when coolingDown:
                    break;
                case InstanceState.Ready when carriedWeight is not null
                    && _topology.TryGetSiteIndex(inst.SiteId, out int at) && desired[a, at] == 0 && carriedWeight[at] > 0:
                    // Hot-swap: the site is being emptied; its traffic moves off step by step, and it drains (under
                    // the usual ready-capacity rule) only once no route sends it anything. Until then it still serves.
                    retiring.Add(inst.Id);
                    break;
                case InstanceState.Warming when routable - 1 >= keep && ready >= Math.Min(keep, 1):
                    commands.Add(new ReconcileCommand.Drain(name, inst.Id, "surplus"));
                    routable--;
                    break;
                case InstanceState.Ready when ready - 1 >= keep:
                    commands.Add(new ReconcileCommand.Drain(name, inst.Id, "surplus"));
                    ready--;
                    routable--;
                    break;
            }
        }
    }

    /// <summary>The app's autoscaled sites by site index (null where the controller scales the site itself).</summary>
    private AutoscaledSite?[] AutoscaledSites(string app, IReadOnlyList<AutoscaledSite> all)
    {
        var bySite = new AutoscaledSite?[_topology.SiteCount];
        foreach (AutoscaledSite site in all)
        {
            if (site.App == app && _topology.TryGetSiteIndex(site.SiteId, out int s))
            {
                bySite[s] = site;
            }
        }

        return bySite;
    }

    private string? StartupTimedOut(AppProfile app, InstanceInfo inst, DateTimeOffset now)
    {
        if (_options.StartupTimeoutFactor is not double factor)
        {
            return null;
        }

        double phase = inst.State switch
        {
            InstanceState.Starting => app.ColdStartSeconds,
            InstanceState.Warming => app.WarmupSeconds,
            _ => double.NaN,
        };
        double limit = (factor * phase) + _options.StartupTimeoutMarginSeconds;
        double age = (now - inst.StateSince).TotalSeconds;
        return age > limit ? $"{inst.State} for {age:0.#} s (limit {limit:0.#} s)" : null;
    }

    /// <summary>Share of the app's routed traffic (summed over ingress sites) each site receives now.</summary>
    private double[] CarriedWeight(string app, IReadOnlyList<Route> routes)
    {
        var carried = new double[_topology.SiteCount];
        foreach (Route r in routes)
        {
            if (r.App != app)
            {
                continue;
            }

            double total = r.Weights.Sum(w => w.Weight);
            foreach (SiteWeight w in r.Weights)
            {
                if (total > 0 && w.Weight > 0 && _topology.TryGetSiteIndex(w.SiteId, out int s))
                {
                    carried[s] += w.Weight / total;
                }
            }
        }

        return carried;
    }

    private static int RemovalRank(InstanceState state) => state switch
    {
        InstanceState.Pending => 0,
        InstanceState.Starting => 1,
        InstanceState.Warming => 2,
        _ => 3,
    };

    private void PlanRoutes(
        int a,
        IEnumerable<InstanceInfo> instances,
        double[] demand,
        Dictionary<(string, string), Route> existing,
        List<ReconcileCommand> commands,
        NetworkView? network,
        LinkBudget? budget)
    {
        AppProfile app = _apps[a];
        int sites = _topology.SiteCount;
        var capacity = new double[sites];
        foreach (InstanceInfo inst in instances)
        {
            if (inst.State.IsRoutable() && _topology.TryGetSiteIndex(inst.SiteId, out int s))
            {
                capacity[s] += inst.CapacityFraction * app.InstanceCapacityRps;
            }
        }

        RoutePlanner.Plan(_topology, demand, capacity, _options.RoutingMaxUtilization, _weights, network, app.MegabitsPerRequest, budget);
        EmitRoutes(app.Name, existing, commands);
    }

    /// <summary>
    /// Hot-swap routing: the target counts only Ready instances that stay, and each ingress moves at most
    /// <see cref="ReconcilerOptions.HotSwapStep"/> of its traffic towards it per pass. Weight on a site that can no
    /// longer serve is dropped at once (safety over smoothness).
    /// </summary>
    private void PlanHotSwapRoutes(
        int a,
        List<InstanceInfo> instances,
        HashSet<InstanceId> retiring,
        double[] demand,
        Dictionary<(string, string), Route> existing,
        List<ReconcileCommand> commands,
        NetworkView? network,
        LinkBudget? budget,
        double hotSwapStep)
    {
        AppProfile app = _apps[a];
        int sites = _topology.SiteCount;
        var servable = new double[sites];
        var target = new double[sites];
        var readyAll = new double[sites];
        foreach (InstanceInfo inst in instances)
        {
            if (inst.State.IsRoutable() && _topology.TryGetSiteIndex(inst.SiteId, out int s))
            {
                double c = inst.CapacityFraction * app.InstanceCapacityRps;
                servable[s] += c;
                readyAll[s] += inst.State == InstanceState.Ready ? c : 0;
                target[s] += inst.State == InstanceState.Ready && !retiring.Contains(inst.Id) ? c : 0;
            }
        }

        // Prefer Ready instances that stay; failing that, any Ready one; failing that, whatever can serve.
        double[] plan = target.Sum() > 0 ? target : readyAll.Sum() > 0 ? readyAll : servable;
        RoutePlanner.Plan(_topology, demand, plan, _options.RoutingMaxUtilization, _weights, network, app.MegabitsPerRequest, budget);
        for (int i = 0; i < sites; i++)
        {
            double total = _weights[i].Sum();
            if (total <= 0 || !existing.TryGetValue((app.Name, _topology.Sites[i].Id), out Route? current))
            {
                continue;
            }

            var now = new double[sites];
            double kept = 0;
            foreach (SiteWeight w in current.Weights)
            {
                if (_topology.TryGetSiteIndex(w.SiteId, out int j) && servable[j] > 0 && w.Weight > 0)
                {
                    now[j] += w.Weight;
                    kept += w.Weight;
                }
            }

            if (kept <= 0)
            {
                continue; // nothing to move gradually from: go straight to the target
            }

            double distance = 0;
            for (int j = 0; j < sites; j++)
            {
                now[j] /= kept;
                _weights[i][j] /= total;
                distance += Math.Abs(_weights[i][j] - now[j]) / 2;
            }

            double step = distance > hotSwapStep ? hotSwapStep / distance : 1;
            for (int j = 0; j < sites; j++)
            {
                _weights[i][j] = now[j] + (step * (_weights[i][j] - now[j]));
            }
        }

        EmitRoutes(app.Name, existing, commands);
    }

    private void EmitRoutes(string app, Dictionary<(string, string), Route> existing, List<ReconcileCommand> commands)
    {
        int sites = _topology.SiteCount;
        for (int i = 0; i < sites; i++)
        {
            double total = _weights[i].Sum();
            if (total <= 0)
            {
                continue;
            }

            var route = new List<SiteWeight>();
            for (int j = 0; j < sites; j++)
            {
                // Integer percent-like weights (as HTTPRoute backendRefs use) keep routes stable against noise.
                double w = Math.Round(_weights[i][j] / total * 1000);
                if (w > 0)
                {
                    route.Add(new SiteWeight(_topology.Sites[j].Id, w));
                }
            }

            string ingress = _topology.Sites[i].Id;
            if (existing.TryGetValue((app, ingress), out Route? current) && current.Weights.SequenceEqual(route))
            {
                continue;
            }

            commands.Add(new ReconcileCommand.SetRoute(new Route(app, ingress, route)));
        }
    }
}
