using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Control.Loop;
using Foresight.Control.Policies.Predictive;
using Foresight.Feedback;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;

namespace Foresight.Cli.Controller;

/// <summary>
/// The controller against the embedded edge simulator: the <see cref="ControllerEngine"/> with the simulator behind
/// both ports, each tick advancing the scenario by the elapsed wall time times the speed-up, exactly as <c>simulate</c>
/// runs the <c>predictive</c> policy.
/// </summary>
public static class SimulatedEngine
{
    /// <summary>Loads the scenario and replays its warm-up history (not recorded as decisions) so forecasts exist from the first tick.</summary>
    /// <param name="journal">The SQLite reconcile journal to write every command to first (owned by the engine), or null.</param>
    public static ControllerEngine Create(SimulatedConfig config, PredictiveOptions options, ReconcileJournal? journal = null)
    {
        SimulationScenario scenario = SimulateCommand.LoadScenario(new SimulateCommand.SimulateArgs(
            config.Scenario, null, null, "predictive", config.Seed, null, null, null, Quiet: true, Forecaster: config.Forecaster));
        var forecaster = (OnlineDemandForecaster)PredictiveForecasting.For(scenario, config.Forecaster, feedback: true, calibration: config.Calibration);
        var policy = new PredictivePolicy("predictive", forecaster, options);
        var settings = new RunSettings
        {
            DurationSeconds = scenario.DurationSeconds,
            TargetUtilization = scenario.TargetUtilization,
            HistorySeconds = config.HistorySeconds,
        };
        var session = new SimulationSession(ScenarioRunner.SetupFor(scenario), settings, policy, journal);
        var driver = new SimulatedDriver(config, scenario, session, journal);
        var engine = new ControllerEngine("simulated", session.Loop, policy, forecaster, session.Simulator, driver)
        {
            Journal = journal is null ? null : new SqliteCommandJournal(journal),
        };

        double start = Math.Min(config.StartAtSeconds ?? ScenarioRunner.WarmupSeconds(scenario) + 60, scenario.DurationSeconds);
        EdgeSimulator sim = session.Simulator;
        double nextSample = start - (StatusBuilder.HistoryPoints * 5);
        while (sim.Now < start - 1e-9)
        {
            session.Step();
            if (sim.Now >= nextSample)
            {
                engine.SampleHistory(5);
                nextSample = sim.Now + 5;
            }
        }

        return engine;
    }

    /// <summary>Steps the simulated cluster through the simulated time a tick covers; every step is one loop tick.</summary>
    private sealed class SimulatedDriver(SimulatedConfig config, SimulationScenario scenario, SimulationSession session, ReconcileJournal? journal) : ILoopDriver
    {
        public double Now => session.Simulator.Now;

        public string? Message => Now >= scenario.DurationSeconds - 1e-9
            ? $"scenario '{scenario.Name}' finished at {Now:F0} simulated s"
            : null;

        public ValueTask<IReadOnlyList<ControlTick>> AdvanceAsync(ControlLoop loop, TimeSpan elapsed, bool act, CancellationToken cancellationToken)
        {
            EdgeSimulator sim = session.Simulator;
            double advance = Math.Min(elapsed.TotalSeconds * config.SpeedUp, config.MaxSecondsPerTick);
            double target = Math.Min(sim.Now + advance, scenario.DurationSeconds);
            var ticks = new List<ControlTick>();
            while (sim.Now < target - 1e-9)
            {
                cancellationToken.ThrowIfCancellationRequested();
                session.Step();
                if (session.LastTick is { Plan: not null } tick)
                {
                    ticks.Add(tick);
                }
            }

            return ValueTask.FromResult<IReadOnlyList<ControlTick>>(ticks);
        }

        public ValueTask DisposeAsync()
        {
            journal?.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
