using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Control.Reconcile;
using Foresight.Core.Forecasts;
using Foresight.Feedback;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;

namespace Foresight.Cli.Controller;

/// <summary>
/// The loop against the embedded edge simulator: each tick advances the scenario by the elapsed wall time times the
/// speed-up, running the <c>predictive</c> policy (the HPA algorithm as reactive path plus predictive floors) and the
/// shared reconciler through the simulator's <see cref="IOrchestrator"/> port, exactly as <c>simulate</c> does.
/// </summary>
public sealed class SimulatedEngine : IControllerEngine
{
    private readonly SimulatedConfig _config;
    private readonly SimulationSession _session;
    private readonly PredictivePolicy _policy;
    private readonly OnlineDemandForecaster _forecaster;
    private readonly SimulationScenario _scenario;
    private readonly IReadOnlyList<string> _siteIds;
    private readonly TrafficHistory[] _history;
    private readonly DecisionLog[] _decisions;
    private readonly bool[][] _risePending;
    private readonly ReconcileJournal? _journal;

    private SimulatedEngine(
        SimulatedConfig config, SimulationScenario scenario, OnlineDemandForecaster forecaster, PredictiveOptions options, ReconcileJournal? journal)
    {
        _journal = journal;
        Journal = journal is null ? null : new SqliteCommandJournal(journal);
        _config = config;
        _scenario = scenario;
        _forecaster = forecaster;
        _policy = new PredictivePolicy("predictive", forecaster, options);
        var settings = new RunSettings { DurationSeconds = scenario.DurationSeconds, TargetUtilization = scenario.TargetUtilization };
        _session = new SimulationSession(ScenarioRunner.SetupFor(scenario), settings, _policy, journal);
        _siteIds = scenario.Topology.Sites.Select(s => s.Id).ToList();
        int apps = scenario.Apps.Count;
        _history = Enumerable.Range(0, apps).Select(_ => new TrafficHistory(_siteIds.Count)).ToArray();
        _decisions = Enumerable.Range(0, apps).Select(_ => new DecisionLog()).ToArray();
        _risePending = Enumerable.Range(0, apps).Select(_ => new bool[_siteIds.Count]).ToArray();
    }

    public string Mode => "simulated";

    public ICommandJournal? Journal { get; }

    public SimulationScenario Scenario => _scenario;

    public EdgeSimulator Simulator => _session.Simulator;

    /// <summary>Loads the scenario and replays its warm-up history (not recorded as decisions) so forecasts exist from the first tick.</summary>
    /// <param name="journal">The SQLite reconcile journal to write every command to first (owned by the engine), or null.</param>
    public static SimulatedEngine Create(SimulatedConfig config, PredictiveOptions options, ReconcileJournal? journal = null)
    {
        SimulationScenario scenario = SimulateCommand.LoadScenario(new SimulateCommand.SimulateArgs(
            config.Scenario, null, null, "predictive", config.Seed, null, null, null, Quiet: true, Forecaster: config.Forecaster));
        var forecaster = (OnlineDemandForecaster)PredictiveForecasting.For(scenario, config.Forecaster, feedback: true);
        var engine = new SimulatedEngine(config, scenario, forecaster, options, journal);
        double start = Math.Min(
            config.StartAtSeconds ?? ScenarioRunner.WarmupSeconds(scenario) + 60,
            scenario.DurationSeconds);
        EdgeSimulator sim = engine._session.Simulator;
        double nextSample = start - (StatusBuilder.HistoryPoints * 5);
        while (sim.Now < start - 1e-9)
        {
            engine._session.Step();
            if (sim.Now >= nextSample)
            {
                engine.Sample(5);
                nextSample = sim.Now + 5;
            }
        }

        return engine;
    }

    public ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken)
    {
        EdgeSimulator sim = _session.Simulator;
        _session.DryRun = dryRun;
        double advance = Math.Min(elapsed.TotalSeconds * _config.SpeedUp, _config.MaxSecondsPerTick);
        double target = Math.Min(sim.Now + advance, _scenario.DurationSeconds);
        int apps = _scenario.Apps.Count;
        var before = _session.Desired.Clone();
        var commands = new List<EngineCommand>();
        ReconcilePlan? lastPlan = null;
        double reconcileSeconds = 0;
        double from = sim.Now;
        while (sim.Now < target - 1e-9)
        {
            cancellationToken.ThrowIfCancellationRequested();
            long started = System.Diagnostics.Stopwatch.GetTimestamp(); // measures our own cost, not simulated time
            ReconcilePlan? plan = _session.Step();
            if (plan is not null)
            {
                reconcileSeconds += System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds;
                lastPlan = plan;
                if (!dryRun)
                {
                    commands.AddRange(plan.Commands.Select(c => StatusBuilder.ToEngineCommand(c, "applied")));
                }
            }
        }

        if (dryRun && lastPlan is not null)
        {
            // Unapplied plans repeat every pass; the latest one is what would be done now.
            commands.AddRange(lastPlan.Commands.Select(c => StatusBuilder.ToEngineCommand(c, "planned")));
        }

        double now = sim.Now;
        if (now > from)
        {
            Sample(now - from);
        }

        var statuses = new List<AppStatus>(apps);
        ClusterSnapshot snapshot = sim.Snapshot();
        for (int a = 0; a < apps; a++)
        {
            (int[] live, int[] ready) = StatusBuilder.CountServing(snapshot, _scenario.Apps[a].Name, _siteIds.Count, _scenario.Topology.SiteIndex);
            RecordDecisions(a, before, live, now);
            statuses.Add(BuildStatus(a, live, ready, now));
        }

        ForecastAccuracy accuracy = _forecaster.Accuracy;
        string? message = now >= _scenario.DurationSeconds - 1e-9
            ? $"scenario '{_scenario.Name}' finished at {now:F0} simulated s"
            : null;
        return ValueTask.FromResult(new EngineTick(now, statuses, commands, reconcileSeconds, accuracy.Mase, accuracy.Coverage90, message));
    }

    public ValueTask DisposeAsync()
    {
        _journal?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Sample(double window)
    {
        EdgeSimulator sim = _session.Simulator;
        var rates = new double[_siteIds.Count];
        for (int a = 0; a < _history.Length; a++)
        {
            sim.ObservedIngressRates(a, Math.Max(window, sim.StepSeconds), rates);
            _history[a].Add(sim.Now, rates);
        }
    }

    private void RecordDecisions(int a, Foresight.Control.Placement.DesiredPlacement before, int[] active, double now)
    {
        string app = _scenario.Apps[a].Name;
        IReadOnlyList<FloorDecision>? floors = _policy.LastFloors.Length > a ? _policy.LastFloors[a] : null;
        var fresh = new List<Decision>();
        if (floors is not null)
        {
            foreach (FloorDecision d in floors)
            {
                // A confident rise is a decision when it starts, not on every tick it lasts.
                if (d.ConfidentRise && !_risePending[a][d.Site] && d.Needed > active[d.Site])
                {
                    fresh.Add(new Decision(now, app, _siteIds[d.Site], "raise-floor", active[d.Site], d.Needed, d.Confidence, StatusBuilder.FloorReason(d, active[d.Site])));
                }

                _risePending[a][d.Site] = d.ConfidentRise;
            }
        }

        for (int s = 0; s < _siteIds.Count; s++)
        {
            int was = before[a, s];
            int want = _session.Desired[a, s];
            if (was == want)
            {
                continue;
            }

            int floor = _policy.FloorAt(a, s);
            string reason = want > was && floor >= want
                ? "predictive floor (the forecast needs it before the load arrives)"
                : "reactive path (HPA on observed load)";
            fresh.Add(new Decision(now, app, _siteIds[s], want > was ? "scale-up" : "scale-down", was, want, null, reason));
        }

        _decisions[a].Add(fresh);
    }

    private AppStatus BuildStatus(int a, int[] live, int[] ready, double now)
    {
        var app = _scenario.Apps[a];
        int sites = _siteIds.Count;

        var bands = new List<ForecastBand>();
        for (int s = 0; s < sites; s++)
        {
            if (_forecaster.Predict(a, s, now) is Forecast f)
            {
                bands.Add(StatusBuilder.Band(_siteIds[s], f, now, _forecaster.StepSeconds));
            }
        }

        double horizon = _forecaster.HorizonSteps * _forecaster.StepSeconds;
        bool reactiveOnly = _forecaster.IsReactiveOnly(a);
        return new AppStatus
        {
            Name = app.Name,
            Sites = _siteIds,
            Forecasts = bands,
            Actual = _history[a].Series(_siteIds),
            Placements = Enumerable.Range(0, sites)
                .Select(s => new SitePlacement(_siteIds[s], _session.Desired[a, s], live[s], ready[s], _policy.FloorAt(a, s)))
                .ToList(),
            Decisions = _decisions[a].ToList(),
            ReactiveOnly = reactiveOnly,
            FallbackReason = _forecaster.IsFitted(a) ? _forecaster.FallbackReasons[a] : "warming up: no model fitted yet (reactive only)",
            Feedback = _forecaster.GetStatus(a),
            LeadTimeSeconds = PredictiveFloor.LeadTimeSeconds(app, _policy.Options),
            HorizonSeconds = horizon,
            LeadTimeWarning = StatusBuilder.LeadTimeWarning(app, _policy.Options, horizon),
        };
    }
}
