using Foresight.Control.Decision;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Oracle;

/// <summary>
/// Knows the future: reads the true demand the simulator will replay. Only the <c>oracle</c> policy uses it, as the
/// upper bound that shows how much of the reactive-to-perfect gap a real forecaster closes.
/// </summary>
public sealed class OracleForecaster : IDemandForecaster
{
    private readonly IDemand _truth;
    private readonly EdgeTopology _topology;
    private readonly DateTimeOffset _epoch;
    private readonly double[] _rates;
    private readonly Dictionary<int, (double Now, double[][] BySite)> _cache = [];

    public OracleForecaster(IDemand truth, EdgeTopology topology, DateTimeOffset epoch, double stepSeconds, int horizonSteps)
    {
        _truth = truth;
        _topology = topology;
        _epoch = epoch;
        StepSeconds = stepSeconds;
        HorizonSteps = horizonSteps;
        _rates = new double[topology.Sources.Count];
    }

    public double StepSeconds { get; }

    public int HorizonSteps { get; }

    public void Observe(int app, double time, ReadOnlySpan<double> ratesBySite)
    {
    }

    public Forecast? Predict(int app, int site, double now)
    {
        // One pass over the sources serves every site's forecast for this app and time.
        if (!_cache.TryGetValue(app, out var cached) || cached.Now != now)
        {
            var bySite = new double[_topology.SiteCount][];
            for (int i = 0; i < bySite.Length; i++)
            {
                bySite[i] = new double[HorizonSteps];
            }

            for (int k = 0; k < HorizonSteps; k++)
            {
                // The mean rate over step k, sampled at its midpoint.
                _truth.FillRates(app, now + ((k + 0.5) * StepSeconds), _rates);
                for (int s = 0; s < _rates.Length; s++)
                {
                    bySite[_topology.IngressSite[s]][k] += _rates[s];
                }
            }

            cached = (now, bySite);
            _cache[app] = cached;
        }

        double[] values = cached.BySite[site];
        IReadOnlyList<double> levels = Forecast.RequiredLevels;
        var rows = new IReadOnlyList<double>[levels.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = values;
        }

        return new Forecast($"oracle/{app}/{site}", _epoch.AddSeconds(now + StepSeconds), TimeSpan.FromSeconds(StepSeconds), levels, rows, values);
    }
}
