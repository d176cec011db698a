namespace Foresight.Simulation.Engine;

/// <summary>The true request rate the simulator replays: requests per simulated second, per app and source.</summary>
public interface IDemand
{
    int AppCount { get; }

    int SourceCount { get; }

    /// <summary>Fills <paramref name="ratesBySource"/> with app <paramref name="app"/>'s rates at simulated time <paramref name="simTime"/>.</summary>
    void FillRates(int app, double simTime, Span<double> ratesBySource);
}
