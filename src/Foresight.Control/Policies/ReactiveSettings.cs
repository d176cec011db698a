namespace Foresight.Control.Policies;

/// <summary>Settings shared by the reactive baselines' placement layer (identical for every policy, for fairness).</summary>
public sealed record ReactiveSettings
{
    /// <summary>Window of observed arrivals used to decide where replicas belong.</summary>
    public double PlacementWindowSeconds { get; init; } = 60;

    /// <summary>How long observed demand must point elsewhere before replicas are relocated.</summary>
    public double RelocationSustainSeconds { get; init; } = 60;
}
