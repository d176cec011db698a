using Foresight.Orchestration;

namespace Foresight.Simulation.Engine;

internal enum QueueMode
{
    Down,
    Stationary,
    Fluid,
}

internal sealed class SimInstance
{
    public SimInstance(string id, string requestId, int app, int site, double createdAt, int cpuWindowSteps)
    {
        Id = id;
        RequestId = requestId;
        App = app;
        Site = site;
        CreatedAt = createdAt;
        StateSince = createdAt;
        Cpu = new CpuWindow(cpuWindowSteps);
    }

    public string Id { get; }

    public string RequestId { get; }

    public int App { get; }

    public int Site { get; }

    public int Server { get; set; } = -1;

    public InstanceState State { get; private set; } = InstanceState.Pending;

    public double StateSince { get; private set; }

    public double CreatedAt { get; }

    public double? ReadyAt { get; set; }

    public double CapacityFraction { get; set; }

    public double Backlog { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>Fault injection: the cold start never finishes (a hung image pull or boot).</summary>
    public bool Stalled { get; set; }

    public CpuWindow Cpu { get; }

    public QueueMode Mode { get; set; }

    public MmcState Queue { get; set; }

    public double FluidWaitSeconds { get; set; }

    /// <summary>Share of this step's arrivals the instance accepted (the rest overflowed its queue).</summary>
    public double AcceptedFraction { get; set; } = 1;

    public void Enter(InstanceState state, double time)
    {
        State = state;
        StateSince = time;
    }

    /// <summary>P(network + response time &gt; SLO) for a request with <paramref name="budgetMs"/> left after the network RTT.</summary>
    public double SurvivalBeyond(double budgetMs)
    {
        double budget = budgetMs / 1000;
        if (budget <= 0)
        {
            return 1;
        }

        if (Mode == QueueMode.Stationary)
        {
            MmcState q = Queue;
            return QueueModel.ResponseSurvival(q, budget);
        }

        double afterWait = budget - FluidWaitSeconds;
        return afterWait <= 0 ? 1 : Math.Exp(-Queue.Mu * afterWait);
    }

    public double SampleResponseSeconds(ref DeterministicRandom random)
    {
        MmcState q = Queue;
        double service = random.NextExponential(q.Mu);
        if (Mode == QueueMode.Fluid)
        {
            return FluidWaitSeconds + service;
        }

        double wait = random.NextDouble() < q.WaitProbability ? random.NextExponential(q.WaitRate) : 0;
        return wait + service;
    }
}

internal sealed class SimServer(string id, int site, double capacity)
{
    public string Id { get; } = id;

    public int Site { get; } = site;

    public double Capacity { get; } = capacity;

    public double Allocated { get; set; }

    public bool Up { get; set; } = true;
}

/// <summary>Ring buffer of per-step CPU utilization samples: the metrics-server view of one instance.</summary>
internal sealed class CpuWindow(int size)
{
    private readonly double[] _samples = new double[Math.Max(1, size)];
    private int _count;
    private int _next;

    public void Add(double utilization)
    {
        _samples[_next] = utilization;
        _next = (_next + 1) % _samples.Length;
        _count = Math.Min(_count + 1, _samples.Length);
    }

    public double? Average()
    {
        if (_count == 0)
        {
            return null;
        }

        double sum = 0;
        for (int i = 0; i < _count; i++)
        {
            sum += _samples[i];
        }

        return sum / _count;
    }
}

/// <summary>Per-site arrival counts of the last N steps, for windowed observed rates.</summary>
internal sealed class RateHistory(int sites, int steps)
{
    private readonly double[] _counts = new double[sites * steps];
    private int _current = -1;
    private int _filled;

    public void BeginStep()
    {
        _current = (_current + 1) % steps;
        Array.Clear(_counts, _current * sites, sites);
        _filled = Math.Min(_filled + 1, steps);
    }

    public void Add(int site, double count) => _counts[(_current * sites) + site] += count;

    public void Average(int windowSteps, Span<double> ratesBySite, double stepSeconds)
    {
        ratesBySite.Clear();
        int n = Math.Min(windowSteps, _filled);
        if (n == 0)
        {
            return;
        }

        for (int k = 0; k < n; k++)
        {
            int row = ((_current - k) % steps + steps) % steps;
            for (int s = 0; s < sites; s++)
            {
                ratesBySite[s] += _counts[(row * sites) + s];
            }
        }

        for (int s = 0; s < sites; s++)
        {
            ratesBySite[s] /= n * stepSeconds;
        }
    }
}
