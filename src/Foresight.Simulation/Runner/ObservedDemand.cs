using Foresight.Simulation.Engine;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Runner;

/// <summary>
/// The demand the predictive loop observes in a scenario, without running the cluster: per app and ingress site, the
/// Poisson arrival counts the simulator draws each step (same demand model, same ingress mapping, same seeded draws),
/// averaged into forecast buckets. Arrivals do not depend on the policy, so this is what every policy's loop sees, up
/// to where a bucket's edges fall. A corpus for offline training (docs/design/0023-pretrained-global-model.md).
/// </summary>
public static class ObservedDemand
{
    /// <summary>Mean arrivals per simulated second, <c>[app][site][bucket]</c>, over the scenario's whole duration.</summary>
    public static double[][][] Buckets(SimulationScenario scenario, double bucketSeconds)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        if (!(bucketSeconds >= scenario.StepSeconds))
        {
            throw new ArgumentOutOfRangeException(nameof(bucketSeconds), "A bucket must be at least one simulator step.");
        }

        double dt = scenario.StepSeconds;
        int perBucket = Math.Max(1, (int)Math.Round(bucketSeconds / dt));
        long steps = (long)Math.Floor(scenario.DurationSeconds / dt);
        int buckets = (int)(steps / perBucket);
        int apps = scenario.Apps.Count, sites = scenario.Topology.SiteCount, sources = scenario.Demand.SourceCount;
        IReadOnlyList<int> ingressOf = scenario.Topology.IngressSite;
        var result = new double[apps][][];
        Parallel.For(0, apps, new ParallelOptions { MaxDegreeOfParallelism = 2 }, a =>
        {
            var rates = new double[sources];
            var ingress = new double[sites];
            var series = new double[sites][];
            for (int i = 0; i < sites; i++)
            {
                series[i] = new double[buckets];
            }

            for (long k = 0; k < (long)buckets * perBucket; k++)
            {
                scenario.Demand.FillRates(a, k * dt, rates);
                Array.Clear(ingress);
                for (int s = 0; s < sources; s++)
                {
                    ingress[ingressOf[s]] += rates[s];
                }

                int b = (int)(k / perBucket);
                for (int i = 0; i < sites; i++)
                {
                    if (ingress[i] > 0)
                    {
                        DeterministicRandom rng = DeterministicRandom.For(scenario.Seed, k, a, i); // as EdgeSimulator draws step k
                        series[i][b] += rng.NextPoisson(ingress[i] * dt);
                    }
                }
            }

            double seconds = perBucket * dt;
            foreach (double[] s in series)
            {
                for (int b = 0; b < s.Length; b++)
                {
                    s[b] /= seconds;
                }
            }

            result[a] = series;
        });
        return result;
    }
}
