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

    /// <summary>
    /// A capped link in front of a site: a FIFO that sends one request at a time, each taking an exponential time of
    /// mean size / bandwidth (M/M/1), and drops a request that would wait longer than a full buffer.
    /// </summary>
    public sealed record LinkSpec(double BandwidthMbps, double MegabitsPerRequest, double BufferMs = 100);

    /// <param name="Requests">Requests served (after the warm-up).</param>
    /// <param name="Dropped">Requests a full link dropped (after the warm-up).</param>
    public sealed record Result(int Requests, double MeanMs, double P50Ms, double P95Ms, double P99Ms, double SloViolationRate, int Dropped = 0);

    /// <param name="siteLinks">Capped links in front of sites (by site); requests to other sites cross none.</param>
    public static Result Run(
        IReadOnlyList<FlowSpec> flows,
        IReadOnlyList<InstanceSpec> instances,
        double durationSeconds,
        double warmupSeconds,
        double sloMs,
        int seed,
        IReadOnlyDictionary<int, LinkSpec>? siteLinks = null)
    {
        var random = DeterministicRandom.For(seed, 0xDE5);
        double totalRate = flows.Sum(f => f.RatePerSecond);
        var bySite = instances
            .Select((inst, index) => (inst, index))
            .GroupBy(x => x.inst.Site)
            .ToDictionary(g => g.Key, g => g.Select(x => x.index).ToArray());

        // Each worker's next free time; FCFS per instance means an arrival takes the earliest-free worker.
        var workerFree = instances.Select(i => new double[i.Workers]).ToArray();
        var linkFree = new Dictionary<int, double>();
        var latencies = new List<double>();
        double t = 0;
        int violations = 0;
        int dropped = 0;
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
            double arrival = t;
            if (siteLinks is not null && siteLinks.TryGetValue(site, out LinkSpec? link))
            {
                double free = linkFree.GetValueOrDefault(site);
                double send = Math.Max(t, free);
                if ((send - t) * 1000 > link.BufferMs)
                {
                    dropped += t >= warmupSeconds ? 1 : 0;
                    continue;
                }

                arrival = send + random.NextExponential(link.BandwidthMbps / link.MegabitsPerRequest);
                linkFree[site] = arrival;
            }

            int[] candidates = bySite[site];
            int instance = candidates[(int)(random.NextDouble() * candidates.Length)];
            double[] workers = workerFree[instance];
            int worker = 0;
            for (int w = 1; w < workers.Length; w++)
            {
                if (workers[w] < workers[worker])
                {
                    worker = w;
                }
            }

            double start = Math.Max(arrival, workers[worker]);
            double service = random.NextExponential(instances[instance].ServiceRatePerWorker);
            workers[worker] = start + service;
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
            latencies.Count == 0 ? 0 : (double)violations / latencies.Count,
            dropped);
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
