namespace Foresight.Simulation.Engine;

/// <summary>
/// Per-request discrete-event mode, used to validate the fluid model on small cases: every request is drawn from a
/// Poisson process, routed by weight to a site, spread uniformly at random over that site's instances (as kube-proxy
/// does), and served first-come-first-served by the instance's c workers with exponential service times.
/// </summary>
public static class DiscreteEventSimulator
{
    /// <summary>One flow of requests: constant Poisson rate from an origin, with its network RTT per destination site.</summary>
    public sealed record FlowSpec(double RatePerSecond, IReadOnlyList<(int Site, double Weight, double RttMs)> Destinations);

    /// <summary>A fixed instance: its site, workers and per-worker service rate.</summary>
    public sealed record InstanceSpec(int Site, int Workers, double ServiceRatePerWorker);

    public sealed record Result(int Requests, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double SloViolationRate);

    public static Result Run(
        IReadOnlyList<FlowSpec> flows,
        IReadOnlyList<InstanceSpec> instances,
        double durationSeconds,
        double warmupSeconds,
        double sloMs,
        int seed)
    {
        var random = DeterministicRandom.For(seed, 0xDE5);
        double totalRate = flows.Sum(f => f.RatePerSecond);
        var bySite = instances
            .Select((inst, index) => (inst, index))
            .GroupBy(x => x.inst.Site)
            .ToDictionary(g => g.Key, g => g.Select(x => x.index).ToArray());

        // Each worker's next free time; FCFS per instance means an arrival takes the earliest-free worker.
        var workerFree = instances.Select(i => new double[i.Workers]).ToArray();
        var latencies = new List<double>();
        double t = 0;
        int violations = 0;
        while (true)
        {
            t += random.NextExponential(totalRate);
            if (t >= durationSeconds)
            {
                break;
            }

            FlowSpec flow = Pick(flows, f => f.RatePerSecond, totalRate, ref random);
            double weightSum = flow.Destinations.Sum(d => d.Weight);
            (int site, double _, double rttMs) = Pick(flow.Destinations, d => d.Weight, weightSum, ref random);
            int[] candidates = bySite[site];
            int instance = candidates[(int)(random.NextDouble() * candidates.Length)];
            double[] free = workerFree[instance];
            int worker = 0;
            for (int w = 1; w < free.Length; w++)
            {
                if (free[w] < free[worker])
                {
                    worker = w;
                }
            }

            double start = Math.Max(t, free[worker]);
            double service = random.NextExponential(instances[instance].ServiceRatePerWorker);
            free[worker] = start + service;
            if (t < warmupSeconds)
            {
                continue;
            }

            double latencyMs = rttMs + ((start - t + service) * 1000);
            latencies.Add(latencyMs);
            if (latencyMs > sloMs)
            {
                violations++;
            }
        }

        latencies.Sort();
        double Quantile(double q) => latencies.Count == 0 ? 0 : latencies[Math.Min(latencies.Count - 1, (int)(q * latencies.Count))];
        return new Result(
            latencies.Count,
            latencies.Count == 0 ? 0 : latencies.Average(),
            Quantile(0.5),
            Quantile(0.95),
            Quantile(0.99),
            latencies.Count == 0 ? 0 : (double)violations / latencies.Count);
    }

    private static T Pick<T>(IReadOnlyList<T> items, Func<T, double> weight, double total, ref DeterministicRandom random)
    {
        double u = random.NextDouble() * total;
        foreach (T item in items)
        {
            u -= weight(item);
            if (u < 0)
            {
                return item;
            }
        }

        return items[^1];
    }
}
