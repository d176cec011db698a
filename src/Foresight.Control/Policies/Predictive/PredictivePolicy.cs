using Foresight.Control.Decision;
using Foresight.Control.Placement;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Orchestration;
using Foresight.Control.Policies.Reactive;
using Foresight.Core.Apps;

namespace Foresight.Control.Policies.Predictive;

/// <summary>
/// Foresight's policy: a reactive baseline's path (HPA's or KPA's algorithm, per app: the safety net), always on, plus
/// per-site floors from the forecast so that warm capacity is in place where demand is about to arrive (the same
/// mechanism as raising an HPA's minReplicas ahead of a predicted shift). The final count per site is the larger of the two.
/// </summary>
public sealed class PredictivePolicy : IScalingPolicy
{
    private readonly IDemandForecaster _forecaster;
    private readonly IDecisionFeedback? _feedback;
    private readonly PredictiveOptions _options;
    private readonly ReactiveSettings _settings;
    private IReactiveScaler[]? _nets;
    private double[] _nextNetSync = [];
    private double _nextFloors;
    private Forecast?[][] _forecasts = [];
    private PredictiveOptions[] _appOptions = [];
    private SustainedPlacement? _placement;
    private DesiredPlacement? _reactive;
    private double[] _observed = [];
    private int[][] _floor = [];
    private ForecastTraceRecorder? _trace;
    private double[] _traceObserved = [];
    private MigrationRecorder? _migrations;

    public PredictivePolicy(string name, IDemandForecaster forecaster, PredictiveOptions? options = null, ReactiveSettings? settings = null)
    {
        Name = name;
        _forecaster = forecaster;
        _feedback = forecaster as IDecisionFeedback;
        _options = options ?? new PredictiveOptions();
        _settings = settings ?? new ReactiveSettings();
        if (_options.Validate() is string field)
        {
            throw new ArgumentException($"Invalid predictive option '{field}'.", nameof(options));
        }
    }

    public string Name { get; }

    /// <summary>How accurate the forecasts have been, when the forecaster scores itself (the oracle's does not).</summary>
    public ForecastAccuracy? ForecastAccuracy => (_forecaster as IScoredForecaster)?.Accuracy;

    /// <summary>The feedback loop's status (accuracy, thresholds, fallback, retrains), when the forecaster runs one.</summary>
    public object? FeedbackStatus => _feedback?.Status;

    /// <summary>The forecast grid: floors are recomputed on it, whatever the decision period.</summary>
    public const double FloorPeriodSeconds = 5;

    /// <summary>The floors' period, or the safety net's when it is faster (KPA's 2 s tick), so the net reacts on time.</summary>
    public double DecisionPeriodSeconds { get; private set; } = FloorPeriodSeconds;

    /// <summary>The safety net of apps that do not choose one (<see cref="AppProfile.Reactive"/>).</summary>
    public ReactiveAlgorithm DefaultReactive { get; init; } = ReactiveAlgorithm.Hpa;

    /// <summary>When set, every app's safety net (e.g. <c>simulate --reactive</c>), over the apps' own choice.</summary>
    public ReactiveAlgorithm? ReactiveOverride { get; init; }

    /// <summary>The safety net an app runs.</summary>
    public ReactiveAlgorithm NetFor(AppProfile app) => ReactiveOverride ?? app.Reactive ?? DefaultReactive;

    /// <summary>The app's safety net; null before the first decision.</summary>
    public IReactiveScaler? SafetyNet(int app) => _nets is { } nets && app < nets.Length ? nets[app] : null;

    /// <summary>Scale-downs taken before the HPA's stabilization window ended, because the forecast confirmed them.</summary>
    public int EarlyScaleDowns { get; private set; }

    /// <summary>The latest floor decisions per app, for status and tests.</summary>
    public IReadOnlyList<FloorDecision>[] LastFloors { get; private set; } = [];

    /// <summary>The predictive floor in force for (app, site): replicas held because of the forecast (0 before the first decision).</summary>
    public int FloorAt(int app, int site) => app < _floor.Length ? _floor[app][site] : 0;

    /// <summary>What the policy reads its forecasts from.</summary>
    public IDemandForecaster Forecaster => _forecaster;

    public PredictiveOptions Options => _options;

    /// <summary>Per-app thresholds (a MigrationPolicy's), read on every decision; null, or null for an app: <see cref="Options"/>.</summary>
    public Func<int, PredictiveOptions?>? OptionsForApp { get; init; }

    /// <summary>
    /// Keep every decision's forecast for the report's bands. Batch runs turn it on; a live controller leaves it off,
    /// since the record grows with the run.
    /// </summary>
    public bool RecordForecastTrace { get; init; }

    /// <summary>The first app's forecasts against the traffic that then arrived, per site (for reports).</summary>
    public ForecastTrace? ForecastTrace { get; private set; }

    /// <summary>Record every site the forecast raises, with its lead time (batch runs; the record grows with the run).</summary>
    public bool RecordMigrations { get; init; }

    /// <summary>The recorded migrations and spin-ups so far; null unless <see cref="RecordMigrations"/>.</summary>
    public MigrationRecorder? Migrations => _migrations;

    /// <summary>Seconds after a decision within which the predicted rise must come to count as real: one lead time past the forecast's window.</summary>
    public static double MigrationExpirySeconds(double leadSeconds, PredictiveOptions options) => (2 * leadSeconds) + options.HoldSeconds;

    /// <summary>
    /// The comparison window after a rise: the reactive path sees a rise one sync later at the earliest and then needs a
    /// full lead time to bring capacity up, so two lead times cover the span where acting early can matter (at least one minute).
    /// </summary>
    public static double MigrationWindowSeconds(double leadSeconds) => Math.Max(60, 2 * leadSeconds);

    /// <summary>Pairs the recorded forecasts with what arrived; call once the run is over.</summary>
    public ForecastTrace? BuildForecastTrace(PolicyContext context) => _trace is null || context.Apps.Count == 0
        ? null
        : ForecastTrace = _trace.Build(context.Apps[0].Name, PredictiveFloor.LeadTimeSeconds(context.Apps[0], _options));

    public void OnStep(PolicyContext context)
    {
        int sites = context.Topology.SiteCount;
        if (_observed.Length != sites)
        {
            _observed = new double[sites];
        }

        for (int a = 0; a < context.Apps.Count; a++)
        {
            context.Metrics.IngressRates(a, context.Metrics.SampleSeconds, _observed);
            _forecaster.Observe(a, context.Now, _observed);
            _nets?[a].Observe(context, a);
        }
    }

    /// <summary>
    /// Moves each ingress site's floor to the sites the network serves its planned demand from
    /// (<see cref="NetworkHoming"/>), in proportion, rounding each part up so no capacity is lost on the way.
    /// </summary>
    internal static void RehomeFloors(NetworkView network, IReadOnlyList<FloorDecision> decisions, double megabitsPerRequest, int[] floor, LinkBudget budget)
    {
        int sites = floor.Length;
        var planned = new double[sites];
        foreach (FloorDecision d in decisions)
        {
            planned[d.Site] = Math.Max(d.PlannedDemand, floor[d.Site] > 0 ? 1e-9 : 0);
        }

        var flows = new double[sites * sites];
        NetworkHoming.Rehome(network, planned, megabitsPerRequest, NetworkHoming.DefaultMaxUtilization, new double[sites], flows, budget);
        var moved = new int[sites];
        for (int i = 0; i < sites; i++)
        {
            double total = 0;
            for (int s = 0; s < sites; s++)
            {
                total += flows[(i * sites) + s];
            }

            for (int s = 0; s < sites; s++)
            {
                double fraction = total > 0 ? flows[(i * sites) + s] / total : (s == i ? 1 : 0);
                moved[s] += fraction > 1e-9 ? (int)Math.Ceiling((floor[i] * fraction) - 1e-9) : 0;
            }
        }

        moved.CopyTo(floor, 0);
    }

    public void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired)
    {
        int apps = context.Apps.Count;
        int sites = context.Topology.SiteCount;
        if (_nets is null)
        {
            _nets = Enumerable.Range(0, apps).Select(a => ReactiveScalers.Create(NetFor(context.Apps[a]), context, a)).ToArray();
            _nextNetSync = new double[apps];
            DecisionPeriodSeconds = Math.Min(FloorPeriodSeconds, _nets.Select(n => n.PeriodSeconds).DefaultIfEmpty(FloorPeriodSeconds).Min());
        }

        // Forecasts are read on their own grid; between its points (a faster net) only the reactive path moves.
        bool floorsDue = context.Now >= _nextFloors - 1e-9;
        if (floorsDue)
        {
            _nextFloors = context.Now + FloorPeriodSeconds;
        }

        _placement ??= new SustainedPlacement(context.Topology, apps, _settings.RelocationSustainSeconds);
        _reactive ??= desired.Clone();
        if (LastFloors.Length != apps)
        {
            LastFloors = new IReadOnlyList<FloorDecision>[apps];
            _floor = Enumerable.Range(0, apps).Select(_ => new int[sites]).ToArray();
        }

        var view = new ClusterView(context, cluster);
        var demand = new double[sites];
        int[][]? before = null;
        if (RecordMigrations)
        {
            _migrations ??= new MigrationRecorder();
            before = Enumerable.Range(0, apps).Select(a => desired.ForApp(a).ToArray()).ToArray();
        }

        if (_forecasts.Length != apps)
        {
            _forecasts = new Forecast?[apps][];
            _appOptions = new PredictiveOptions[apps];
        }

        Forecast?[][] forecasts = _forecasts;
        PredictiveOptions[] options = _appOptions;
        for (int a = 0; a < apps && floorsDue; a++)
        {
            // The feedback loop may have moved the confidence and shift thresholds for this app.
            PredictiveOptions own = OptionsForApp?.Invoke(a) ?? _options;
            own = own with { PlanningQuantile = PlanningQuantiles.For(context.Apps[a], own, context.TargetUtilization) };
            options[a] = _feedback?.OptionsFor(a, own) ?? own;
            forecasts[a] = new Forecast?[sites];
            for (int s = 0; s < sites; s++)
            {
                forecasts[a][s] = _forecaster.Predict(a, s, context.Now);
            }
        }

        if (RecordForecastTrace && context.Apps.Count > 0 && floorsDue)
        {
            _trace ??= new ForecastTraceRecorder(sites);
            if (_traceObserved.Length != sites)
            {
                _traceObserved = new double[sites];
            }

            context.Metrics.IngressRates(0, FloorPeriodSeconds, _traceObserved);
            _trace.Record(context.Now, forecasts[0], _traceObserved, PredictiveFloor.LeadTimeSeconds(context.Apps[0], options[0]));
        }

        LinkBudget? budget = null;
        for (int a = 0; a < apps; a++)
        {
            // The reactive path: exactly the app's baseline (hpa or kpa), on that baseline's own period.
            if (context.Now < _nextNetSync[a] - 1e-9)
            {
                continue;
            }

            budget ??= view.Network is { } live ? new LinkBudget(live, NetworkHoming.DefaultMaxUtilization) : null;
            int total = _nets[a].Scale(context, view, a, _reactive.Total(a));

            // HPA holds capacity for its 300 s scale-down window in case load rebounds. When the measured load
            // already allows fewer replicas (the reactive signal agrees) and the forecast says, at its upper
            // scale-down quantile, that no rebound is due before a new instance could be warm, scale down now.
            if (_nets[a].Unstabilized is int raw && raw < total
                && PredictiveFloor.PeakNeed(context.Apps[a], forecasts[a], context.TargetUtilization, options[a] with { PlanningQuantile = options[a].ScaleDownQuantile }) is int need
                && need <= raw)
            {
                total = Math.Max(raw, context.Apps[a].MinInstances);
                EarlyScaleDowns++;
            }

            context.Metrics.IngressRates(a, _settings.PlacementWindowSeconds, demand);
            _placement.Update(a, total, demand, view.Hostable(a), context.Now, _reactive, view.Network, context.Apps[a].MegabitsPerRequest, budget);

            _nextNetSync[a] = context.Now + _nets[a].PeriodSeconds;
        }

        LinkBudget? floorBudget = view.Network is { } measured ? new LinkBudget(measured, NetworkHoming.DefaultMaxUtilization) : null;
        for (int a = 0; a < apps; a++)
        {
            if (floorsDue)
            {
                LastFloors[a] = PredictiveFloor.Compute(context.Apps[a], forecasts[a], view.Active(a), context.TargetUtilization, options[a]);
                ReadOnlySpan<int> active = view.Active(a);
                _feedback?.RecordDecisions(
                    a, context.Now, LastFloors[a], active,
                    context.Apps[a].InstanceCapacityRps * Math.Max(context.TargetUtilization, options[a].PlanningUtilization),
                    PredictiveFloor.LeadTimeSeconds(context.Apps[a], options[a]), options[a]);
                foreach (FloorDecision d in LastFloors[a])
                {
                    // A confident rise raises the floor to what the forecast needs; otherwise the floor only keeps the
                    // capacity the forecast still needs at lead time, so it never adds capacity without confidence. What it
                    // keeps is rounded up per site, as before pooling: pooled rounding never lowers a site on a forecast alone.
                    _floor[a][d.Site] = d.ConfidentRise ? d.Needed : Math.Min(d.NeededAlone, active[d.Site]);
                }
            }

            int[] floor = _floor[a];
            if (view.Network is { } network)
            {
                // Floors are computed where demand enters; the live network decides where it is best served.
                floor = (int[])floor.Clone();
                RehomeFloors(network, LastFloors[a], context.Apps[a].MegabitsPerRequest, floor, floorBudget!);
            }

            int max = context.Apps[a].MaxInstances;
            int total = 0;
            for (int s = 0; s < sites; s++)
            {
                desired[a, s] = Math.Max(_reactive[a, s], floor[s]);
                desired.SetAnticipated(a, s, floor[s]);
                total += desired[a, s];
            }

            // Respect the app's maximum: trim forecast-only extra capacity first, where it exceeds the reactive count most.
            while (total > max)
            {
                int best = -1;
                for (int s = 0; s < sites; s++)
                {
                    if (desired[a, s] > _reactive[a, s] && (best < 0 || desired[a, s] - _reactive[a, s] > desired[a, best] - _reactive[a, best]))
                    {
                        best = s;
                    }
                }

                if (best < 0)
                {
                    break;
                }

                desired[a, best]--;
                total--;
            }

            if (_migrations is not null)
            {
                RecordMigration(context, view, a, before![a], desired, options[a]);
            }
        }
    }

    private void RecordMigration(PolicyContext context, ClusterView view, int a, int[] before, DesiredPlacement desired, PredictiveOptions options)
    {
        int sites = context.Topology.SiteCount;
        Span<bool> raised = stackalloc bool[sites];
        foreach (FloorDecision d in LastFloors[a])
        {
            // The forecast raised this site: the count went up, and by more than the reactive path asked for.
            raised[d.Site] = d.ConfidentRise && desired[a, d.Site] > before[d.Site] && desired[a, d.Site] > _reactive![a, d.Site];
        }

        var ready = new int[sites];
        string name = context.Apps[a].Name;
        foreach (InstanceInfo inst in view.Snapshot.Instances)
        {
            if (inst.State == InstanceState.Ready && inst.App == name && context.Topology.TryGetSiteIndex(inst.SiteId, out int site))
            {
                ready[site]++;
            }
        }

        // Demand over metrics-server's 15 s window: the smoothing the reactive path sees, so one noisy step is no rise.
        var observed = new double[sites];
        context.Metrics.IngressRates(a, 15, observed);
        double lead = PredictiveFloor.LeadTimeSeconds(context.Apps[a], options);
        _migrations!.Observe(
            a, name, context.Topology.Sites.Select(s => s.Id).ToList(), context.Now, raised, before, desired.ForApp(a), view.Active(a), ready, observed,
            context.Apps[a].InstanceCapacityRps * context.TargetUtilization, MigrationExpirySeconds(lead, options), MigrationWindowSeconds(lead));
    }
}
