namespace Foresight.Core.Apps;

/// <summary>A reactive autoscaling algorithm (the predictive policy's safety net is one of them, per app).</summary>
public enum ReactiveAlgorithm
{
    /// <summary>Kubernetes HPA on CPU utilization: 15 s sync, 300 s scale-down stabilization.</summary>
    Hpa,

    /// <summary>Knative KPA on concurrency: 2 s tick, 60 s stable window, 6 s panic window at 200%.</summary>
    Kpa,
}

/// <summary>Names of <see cref="ReactiveAlgorithm"/> as configuration spells them.</summary>
public static class ReactiveAlgorithms
{
    public static IReadOnlyList<string> Names { get; } = ["hpa", "kpa"];

    public static string Name(this ReactiveAlgorithm algorithm) => algorithm == ReactiveAlgorithm.Kpa ? "kpa" : "hpa";

    /// <summary>Parses <c>hpa</c> or <c>kpa</c> (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? text, out ReactiveAlgorithm algorithm)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "hpa":
                algorithm = ReactiveAlgorithm.Hpa;
                return true;
            case "kpa":
                algorithm = ReactiveAlgorithm.Kpa;
                return true;
            default:
                algorithm = default;
                return false;
        }
    }
}
