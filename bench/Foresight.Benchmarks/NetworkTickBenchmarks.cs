using BenchmarkDotNet.Attributes;
using Foresight.Control.Placement;
using Foresight.Core.Topology;

namespace Foresight.Benchmarks;

/// <summary>
/// The reactive placement tick for many applications under live network conditions (one site 40 ms slower, one
/// site's link capped, apps sharing one link budget), against the same tick on the static topology.
/// </summary>
[MemoryDiagnoser]
public class NetworkTickBenchmarks
{
    private EdgeTopology _topology = null!;
    private NetworkView _network = null!;
    private double[][] _observed = null!;
    private int[][] _current = null!;
    private int[] _hostable = null!;
    private int[] _result = null!;

    [Params(1000)]
    public int Apps { get; set; }

    [Params(50)]
    public int Sites { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _topology = BenchTopology.Grid(Sites);
        int n = Sites;
        var rtt = new double[n * n];
        var pathCap = Enumerable.Repeat(double.PositiveInfinity, n * n).ToArray();
        var siteCap = Enumerable.Repeat(double.PositiveInfinity, n).ToArray();
        siteCap[1] = 400;
        for (int i = 0; i < n; i++)
        {
            for (int d = 0; d < n; d++)
            {
                rtt[(i * n) + d] = _topology.SiteRttMs(i, d) + (d == 0 ? 40 : 0);
            }
        }

        _network = new NetworkView(n, rtt, pathCap, siteCap, new double[n * n]);
        var random = new Random(1);
        _observed = new double[Apps][];
        _current = new int[Apps][];
        for (int a = 0; a < Apps; a++)
        {
            _observed[a] = Enumerable.Range(0, n).Select(_ => random.NextDouble() * 200).ToArray();
            _current[a] = _observed[a].Select(level => (int)Math.Ceiling(level / 70)).ToArray();
        }

        _hostable = Enumerable.Repeat(1000, n).ToArray();
        _result = new int[n];
    }

    [Benchmark(Baseline = true)]
    public int StaticTick()
    {
        int total = 0;
        for (int a = 0; a < Apps; a++)
        {
            ReplicaPlacer.Place(_topology, _current[a].Sum(), _observed[a], _hostable, _current[a], _result);
            total += _result[0];
        }

        return total;
    }

    [Benchmark]
    public int LiveNetworkTick()
    {
        int total = 0;
        var budget = new LinkBudget(_network, NetworkHoming.DefaultMaxUtilization);
        for (int a = 0; a < Apps; a++)
        {
            ReplicaPlacer.Place(_topology, _current[a].Sum(), _observed[a], _hostable, _current[a], _result, _network, 0.08, budget);
            total += _result[0];
        }

        return total;
    }
}
