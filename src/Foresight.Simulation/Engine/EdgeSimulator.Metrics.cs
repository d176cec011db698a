using Foresight.Orchestration;

namespace Foresight.Simulation.Engine;

// The observation port: the simulator measures every step, so a refresh has nothing to fetch.
public sealed partial class EdgeSimulator : IMetricsObserver
{
    double IMetricsObserver.SampleSeconds => _setup.StepSeconds;

    ValueTask IMetricsObserver.RefreshAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

    void IMetricsObserver.IngressRates(int app, double windowSeconds, Span<double> ratesBySite) =>
        ObservedIngressRates(app, windowSeconds, ratesBySite);

    double IMetricsObserver.Concurrency(int app) => _appConcurrency[app];
}

/// <summary>How a policy is pointed at the simulated cluster: its clock, its apps and its observation port.</summary>
public static class SimulatorPolicyContext
{
    public static Control.Policies.PolicyContext For(EdgeSimulator simulator, double targetUtilization, bool observeNetwork = true) =>
        new(simulator.Topology, simulator.Apps, simulator, simulator.Clock, simulator.Clock.Epoch, targetUtilization)
        {
            ObserveNetwork = observeNetwork,
        };
}
