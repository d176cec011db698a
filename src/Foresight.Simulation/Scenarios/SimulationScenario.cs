using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Scenarios;

/// <summary>A scenario ready to simulate: the topology, the app profiles and the demand derived from the trace.</summary>
public sealed class SimulationScenario
{
    public required string Name { get; init; }

    public required string Description { get; init; }

    public required ScenarioSpec Spec { get; init; }

    /// <summary>Where the trace came from (its path).</summary>
    public required string TraceName { get; init; }

    public required EdgeTopology Topology { get; init; }

    /// <summary>App profiles, in the order of the demand's app indices.</summary>
    public required IReadOnlyList<AppProfile> Apps { get; init; }

    /// <summary>Trace seconds per simulated second.</summary>
    public required double TimeScale { get; init; }

    /// <summary>Simulated seconds covered: the replayed trace window divided by <see cref="TimeScale"/>.</summary>
    public required double DurationSeconds { get; init; }

    /// <summary>Simulated seconds per fluid step.</summary>
    public required double StepSeconds { get; init; }

    public required int Seed { get; init; }

    /// <summary>Target utilisation shared by every policy.</summary>
    public required double TargetUtilization { get; init; }

    public required DemandModel Demand { get; init; }

    /// <summary>Simulated second of the declared regime change (<see cref="ScenarioSpec.RegimeChangeAt"/>), if any.</summary>
    public double? RegimeChangeSeconds { get; init; }

    /// <summary>The scenario's link degradations in simulated seconds, resolved against the topology.</summary>
    public IReadOnlyList<NetworkEvent> NetworkEvents { get; init; } = [];

    /// <summary>Things the user should know: missing readings filled, k clamped, sources laid out on a ring, and so on.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }
}
