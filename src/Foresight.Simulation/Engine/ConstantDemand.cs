namespace Foresight.Simulation.Engine;

/// <summary>Demand with a fixed rate per (app, source), or a rate that a function gives: for tests and what-if runs.</summary>
public sealed class ConstantDemand : IDemand
{
    private readonly Func<int, double, int, double> _rate;

    /// <param name="rates">[app][source] requests per second.</param>
    public ConstantDemand(double[][] rates)
        : this(rates.Length, rates.Length == 0 ? 0 : rates[0].Length, (a, _, s) => rates[a][s])
    {
    }

    /// <param name="rate">(app, simTime, source) -> requests per second.</param>
    public ConstantDemand(int apps, int sources, Func<int, double, int, double> rate)
    {
        AppCount = apps;
        SourceCount = sources;
        _rate = rate;
    }

    public int AppCount { get; }

    public int SourceCount { get; }

    public void FillRates(int app, double simTime, Span<double> ratesBySource)
    {
        for (int s = 0; s < ratesBySource.Length; s++)
        {
            ratesBySource[s] = _rate(app, simTime, s);
        }
    }
}
