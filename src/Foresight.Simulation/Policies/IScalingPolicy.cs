using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Policies;

/// <summary>
/// A scaling and placement policy under test. The runner calls <see cref="OnStep"/> every simulated step (to observe
/// metrics, as a metrics pipeline would) and <see cref="Decide"/> every <see cref="DecisionPeriodSeconds"/>. Policies
/// only state the desired placement; one shared reconciler acts on it through the orchestrator port, so every policy
/// gets the same mechanics (fairness).
/// </summary>
public interface IScalingPolicy
{
    string Name { get; }

    double DecisionPeriodSeconds { get; }

    void OnStep(PolicyContext context);

    /// <summary>Updates <paramref name="desired"/> in place.</summary>
    void Decide(PolicyContext context, DesiredPlacement desired);
}

/// <summary>What a policy may see: the cluster through the port and its observed metrics; never the future demand.</summary>
public sealed class PolicyContext
{
    public PolicyContext(EdgeSimulator simulator, double targetUtilization)
    {
        Simulator = simulator;
        TargetUtilization = targetUtilization;
    }

    public EdgeSimulator Simulator { get; }

    public EdgeTopology Topology => Simulator.Topology;

    public IReadOnlyList<AppProfile> Apps => Simulator.Apps;

    /// <summary>The target utilization every policy shares (fairness parity).</summary>
    public double TargetUtilization { get; }

    /// <summary>Whether the policy may read the live network; false is the network-blind ablation.</summary>
    public bool ObserveNetwork { get; init; } = true;

    public double Now => Simulator.Now;

    public TimeSpan NowSpan => TimeSpan.FromSeconds(Simulator.Now);
}
