using System.Globalization;
using Foresight.Core;
using Foresight.Core.Topology;

namespace Foresight.Simulation.Faults;

/// <summary>A server taken down at a simulated time.</summary>
public sealed record ServerFailure(double AtSeconds, string ServerId);

/// <summary>Orchestrator faults injected into a simulation run (all off by default). Draws are seeded, so runs repeat.</summary>
public sealed record FaultSettings
{
    /// <summary>Probability that a mutating orchestrator call fails with a transient API error (retried through Polly).</summary>
    public double ApiErrorRate { get; init; }

    /// <summary>Probability that a spin-up is rejected outright (quota, image pull): not retried, re-planned next pass.</summary>
    public double SpinUpFailureRate { get; init; }

    /// <summary>Probability that a new instance hangs in cold start until the reconciler's startup timeout replaces it.</summary>
    public double StallRate { get; init; }

    public IReadOnlyList<ServerFailure> ServerFailures { get; init; } = [];

    public int Seed { get; init; } = 1;

    public bool Any => ApiErrorRate > 0 || SpinUpFailureRate > 0 || StallRate > 0 || ServerFailures.Count > 0;

    /// <summary>
    /// Parses <c>api=0.05,spinup=0.05,stall=0.05,server=SERVER@SECONDS,seed=N</c> (any subset, any order; <c>server</c>
    /// may repeat). Server ids are checked against <paramref name="topology"/>.
    /// </summary>
    /// <exception cref="InvalidInputException">Names <paramref name="option"/> and the offending field.</exception>
    public static FaultSettings Parse(string spec, EdgeTopology topology, string option = "--faults")
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(topology);
        var settings = new FaultSettings();
        var servers = new List<ServerFailure>();
        foreach (string part in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new InvalidInputException(option, $"'{part}' is not key=value (keys: api, spinup, stall, server, seed)");
            }

            string key = part[..eq].Trim();
            string value = part[(eq + 1)..].Trim();
            switch (key)
            {
                case "api":
                    settings = settings with { ApiErrorRate = Probability(value, key, option) };
                    break;
                case "spinup":
                    settings = settings with { SpinUpFailureRate = Probability(value, key, option) };
                    break;
                case "stall":
                    settings = settings with { StallRate = Probability(value, key, option) };
                    break;
                case "seed":
                    settings = settings with
                    {
                        Seed = int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int seed)
                            ? seed
                            : throw new InvalidInputException(option, $"'{value}' is not an integer", field: key),
                    };
                    break;
                case "server":
                    int at = value.LastIndexOf('@');
                    string id = at > 0 ? value[..at] : "";
                    if (at <= 0 || !double.TryParse(value[(at + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds)
                        || !(seconds >= 0) || double.IsInfinity(seconds))
                    {
                        throw new InvalidInputException(option, $"'{value}' is not SERVER@SECONDS (a server id and a non-negative simulated time)", field: key);
                    }

                    if (!topology.Servers.Any(s => s.Id == id))
                    {
                        throw new InvalidInputException(option, $"unknown server '{id}'; servers: {string.Join(", ", topology.Servers.Take(10).Select(s => s.Id))}", field: key);
                    }

                    servers.Add(new ServerFailure(seconds, id));
                    break;
                default:
                    throw new InvalidInputException(option, $"unknown key '{key}' (keys: api, spinup, stall, server, seed)", field: key);
            }
        }

        return settings with { ServerFailures = [.. servers.OrderBy(f => f.AtSeconds)] };
    }

    private static double Probability(string value, string key, string option) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double p) && p >= 0 && p < 1
            ? p
            : throw new InvalidInputException(option, $"'{value}' is not a probability in [0, 1)", field: key);

    /// <summary>Returns the name of the first invalid field, or null.</summary>
    public string? Validate()
    {
        foreach ((string name, double p) in new[] { (nameof(ApiErrorRate), ApiErrorRate), (nameof(SpinUpFailureRate), SpinUpFailureRate), (nameof(StallRate), StallRate) })
        {
            if (!(p >= 0 && p < 1))
            {
                return name;
            }
        }

        return ServerFailures.Any(f => !(f.AtSeconds >= 0) || string.IsNullOrEmpty(f.ServerId)) ? nameof(ServerFailures) : null;
    }
}
