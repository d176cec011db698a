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
