using BenchmarkDotNet.Attributes;
using Foresight.Control.Decision;
using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;

namespace Foresight.Benchmarks;

/// <summary>
/// One decision tick of the controller for many applications at once: read each (app, site) forecast, compute the
/// predictive floors, and place each app's replicas under site capacity. The baseline is the reactive tick alone
/// (placement from observed demand), measured in the same run.
/// </summary>
[MemoryDiagnoser]
public class DecisionTickBenchmarks
{
    private EdgeTopology _topology = null!;
    private AppProfile[] _apps = null!;
    private Forecast?[][] _forecasts = null!;
    private double[][] _observed = null!;
    private int[][] _current = null!;
    private int[] _hostable = null!;
    private int[] _result = null!;
    private double[][] _rtt = null!;
    private int[] _siteCpu = null!;
    private readonly PredictiveOptions _options = new();

    [Params(1000)]
    public int Apps { get; set; }

    [Params(50)]
    public int Sites { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _topology = BenchTopology.Grid(Sites);
        var random = new Random(1);
        _apps = Enumerable.Range(0, Apps)
            .Select(a => new AppProfile { Name = $"app-{a}", ServiceTimeMs = 10 + (a % 20), Concurrency = 2, MaxInstances = 500 })
            .ToArray();
        const int horizon = 30;
        _forecasts = new Forecast?[Apps][];
        _observed = new double[Apps][];
        _current = new int[Apps][];
        for (int a = 0; a < Apps; a++)
        {
            _forecasts[a] = new Forecast?[Sites];
            _observed[a] = new double[Sites];
            _current[a] = new int[Sites];
            for (int s = 0; s < Sites; s++)
            {
                double level = random.NextDouble() * 200;
                double trend = (random.NextDouble() - 0.3) * 5;
                var median = Enumerable.Range(0, horizon).Select(k => Math.Max(0, level + (trend * k))).ToArray();
                IReadOnlyList<double> levels = Forecast.RequiredLevels;
                var rows = levels.Select(q => (IReadOnlyList<double>)median.Select(m => m * (0.6 + (0.8 * q))).ToArray()).ToArray();
                _forecasts[a][s] = new Forecast($"{a}/{s}", DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(5), levels, rows);
                _observed[a][s] = level;
                _current[a][s] = (int)Math.Ceiling(level / 70);
            }
        }

        _hostable = Enumerable.Repeat(1000, Sites).ToArray();
        _result = new int[Sites];
        _rtt = Enumerable.Range(0, Sites).Select(i => Enumerable.Range(0, Sites).Select(j => _topology.SiteRttMs(i, j)).ToArray()).ToArray();

        // The sites' CPU, shared by all apps: about 1,950 two-core replicas per site want ~3,900 cores on average, so
        // capacity binds at about half the sites and the repair pass has work to do.
        _siteCpu = Enumerable.Repeat(3900, Sites).ToArray();
    }

    [Benchmark(Baseline = true)]
    public int ReactiveTick()
    {
        int total = 0;
        for (int a = 0; a < Apps; a++)
        {
            int replicas = _current[a].Sum();
            ReplicaPlacer.Place(_topology, replicas, _observed[a], _hostable, _current[a], _result);
            total += _result[0];
        }

        return total;
    }

    [Benchmark]
    public int PredictiveTick()
    {
        int total = 0;
        for (int a = 0; a < Apps; a++)
        {
            IReadOnlyList<FloorDecision> floors = PredictiveFloor.Compute(_apps[a], _forecasts[a], _current[a], 0.7, _options);
            int? peak = PredictiveFloor.PeakNeed(_apps[a], _forecasts[a], 0.7, _options);
            int replicas = Math.Max(_current[a].Sum(), peak ?? 0);
            ReplicaPlacer.Place(_topology, replicas, _observed[a], _hostable, _current[a], _result);
            total += _result[0] + floors.Count;
        }

        return total;
    }

    /// <summary>
    /// The predictive tick with all apps placed at once under the shared site CPU (<see cref="MultiAppPlacer"/>) instead
    /// of one app at a time against a per-app bound.
    /// </summary>
    [Benchmark]
    public int MultiAppTick()
    {
        var needs = new AppNeed[Apps];
        int total = 0;
        for (int a = 0; a < Apps; a++)
        {
            IReadOnlyList<FloorDecision> floors = PredictiveFloor.Compute(_apps[a], _forecasts[a], _current[a], 0.7, _options);
            total += floors.Count;
            needs[a] = new AppNeed(_apps[a].Concurrency, _current[a], _observed[a]);
        }

        MultiAppPlacement placement = MultiAppPlacer.Place(new PlacementProblem(_rtt, _siteCpu, needs));
        return total + placement.Unplaced;
    }
}
