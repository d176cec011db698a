using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration.Tests.Contract;
using Foresight.Simulation.Engine;

namespace Foresight.Orchestration.Tests;

/// <summary>The embedded simulated edge cluster against the shared orchestrator contract.</summary>
public sealed class SimulatedOrchestratorContractTests : OrchestratorContractTests
{
    protected override IOrchestratorFixture CreateFixture() => new SimulatorFixture();

    private sealed class SimulatorFixture : IOrchestratorFixture
    {
        private readonly EdgeSimulator _sim;

        public SimulatorFixture()
        {
            var sites = new List<Site> { new("edge-a", 0, 0), new("edge-b", 12, 5) };
            var servers = sites.Select(s => new Server($"{s.Id}/server-0", s.Id, 32)).ToList();
            var sources = sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList();
            var topology = new EdgeTopology(sites, servers, sources, [0, 1], new RttModel());
            var app = new AppProfile { Name = "shop", ColdStartSeconds = 5, WarmupSeconds = 8, Concurrency = 2 };
            var demand = new ConstantDemand(1, 2, (_, _, _) => 10);
            _sim = new EdgeSimulator(new EngineSetup(topology, [app], demand, 1, 11, DateTimeOffset.UnixEpoch));
        }

        public IOrchestrator Orchestrator => _sim;

        public string App => "shop";

        public string SiteA => "edge-a";

        public string SiteB => "edge-b";

        public TimeSpan ReadyWithin => TimeSpan.FromSeconds(14);

        public ValueTask AdvanceAsync(TimeSpan by)
        {
            for (double t = 0; t < by.TotalSeconds - 1e-9; t += 1)
            {
                _sim.Step();
            }

            return ValueTask.CompletedTask;
        }
    }
}
