using Microsoft.Extensions.Time.Testing;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Control.Policies.Baselines;
using Foresight.Control.Policies;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Faults;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Runner;

public sealed class FaultRunTests
{
    /// <summary>Two sites; the demand moves from site 0 to site 1 at t = 600 s and grows, so the controller must act.</summary>
    private static EngineSetup ShiftingDemand()
    {
        EdgeTopology line = TestClusters.Line(2);
        var topology = new EdgeTopology(
            line.Sites,
            [.. line.Servers, new Server("site-1/server-1", "site-1", 64)],
            line.Sources,
            [0, 1],
            new RttModel());
        AppProfile app = TestClusters.App() with { MaxInstances = 30 };
        return TestClusters.Setup(topology, app, (t, s) => t < 600 ? (s == 0 ? 60 : 5) : (s == 0 ? 10 : 200), seed: 3);
    }

    private static readonly FaultSettings s_faults = new()
    {
        ApiErrorRate = 0.2,
        SpinUpFailureRate = 0.2,
        StallRate = 0.2,
        ServerFailures = [new ServerFailure(700, "site-1/server-0")],
        Seed = 5,
    };

    [Fact]
    public void Without_faults_the_counters_stay_zero()
    {
        PolicyResult result = SimulationRunner.Run(ShiftingDemand(), new RunSettings { DurationSeconds = 300 }, new HpaPolicy());

        Assert.Equal(0, result.Faults);
        Assert.Equal(0, result.Retries);
        Assert.Equal(0, result.SpinUpFailures);
        Assert.Equal(0, result.StartupTimeouts);
        Assert.Equal(0, result.FailedCommands);
    }

    [Fact]
    public void Under_faults_the_run_recovers_and_counts_every_kind_of_fault()
    {
        var settings = new RunSettings { DurationSeconds = 1500, Faults = s_faults };

        PolicyResult result = SimulationRunner.Run(ShiftingDemand(), settings, new HpaPolicy());

        Assert.True(result.Faults > 0);
        Assert.True(result.Retries > 0, "transient API errors are retried");
        Assert.True(result.SpinUpFailures > 0, "rejected spin-ups are counted");
        Assert.True(result.StartupTimeouts > 0, "hung cold starts are replaced");

        // It still ends where the demand went, on the surviving server.
        TimelineSample end = result.Timeline[^1];
        Assert.True(end.InstancesBySite[1] >= 3, $"site 1 has {end.InstancesBySite[1]} instances at the end");
        Assert.True(result.SloViolationRate < 0.5, $"SLO violations {result.SloViolationRate:P1}");
    }

    [Fact]
    public void The_journaled_path_counts_faults_like_the_direct_path()
    {
        var settings = new RunSettings { DurationSeconds = 1500, Faults = s_faults };
        string db = Path.Combine(Path.GetTempPath(), $"foresight-faults-{Guid.NewGuid():N}.db");
        try
        {
            EngineSetup setup = ShiftingDemand();
            using var journal = Foresight.Control.Journal.ReconcileJournal.Open(db, new FakeTimeProvider(TestClusters.Epoch));
            var session = new SimulationSession(setup, settings, new HpaPolicy(), journal);
            for (double t = 0; t < settings.DurationSeconds; t += setup.StepSeconds)
            {
                session.Step();
            }

            Assert.True(session.SpinUpFailures > 0, "rejected spin-ups are counted");
            Assert.True(session.StartupTimeouts > 0, "hung cold starts are replaced and counted");
            Assert.True(session.FailedCommands >= session.SpinUpFailures);
        }
        finally
        {
            foreach (string f in new[] { db, db + "-wal", db + "-shm" })
            {
                File.Delete(f);
            }
        }
    }

    [Fact]
    public void Fault_runs_repeat_exactly_for_the_same_seeds()
    {
        var settings = new RunSettings { DurationSeconds = 900, Faults = s_faults };

        PolicyResult a = SimulationRunner.Run(ShiftingDemand(), settings, new HpaPolicy());
        PolicyResult b = SimulationRunner.Run(ShiftingDemand(), settings, new HpaPolicy());

        Assert.Equal((a.Faults, a.Retries, a.SpinUpFailures, a.StartupTimeouts, a.LatencyP95Ms, a.DroppedRequests),
            (b.Faults, b.Retries, b.SpinUpFailures, b.StartupTimeouts, b.LatencyP95Ms, b.DroppedRequests));
    }

    [Theory]
    [InlineData(-0.1, 0, 0, "ApiErrorRate")]
    [InlineData(0, 1, 0, "SpinUpFailureRate")]
    [InlineData(0, 0, double.NaN, "StallRate")]
    public void Invalid_fault_settings_are_named(double api, double spin, double stall, string field)
    {
        var settings = new FaultSettings { ApiErrorRate = api, SpinUpFailureRate = spin, StallRate = stall };
        Assert.Equal(field, settings.Validate());
    }
}
