using Foresight.Orchestration;

namespace Foresight.Orchestration.Tests.Contract;

/// <summary>What the contract suite needs from an implementation under test.</summary>
public interface IOrchestratorFixture
{
    IOrchestrator Orchestrator { get; }

    /// <summary>An app the orchestrator knows.</summary>
    string App { get; }

    /// <summary>Two distinct sites that can host <see cref="App"/>.</summary>
    string SiteA { get; }

    string SiteB { get; }

    /// <summary>An upper bound on spin-up to Ready for <see cref="App"/> (cold start plus warm-up).</summary>
    TimeSpan ReadyWithin { get; }

    /// <summary>Moves the implementation's clock forward (simulated time, or a fake cluster's controllers).</summary>
    ValueTask AdvanceAsync(TimeSpan by);
}
