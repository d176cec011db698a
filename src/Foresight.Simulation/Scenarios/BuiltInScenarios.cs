using System.Reflection;
using Foresight.Core;

namespace Foresight.Simulation.Scenarios;

/// <summary>The scenarios shipped inside the assembly (Scenarios/BuiltIn/*.yaml), one per trace in the shared data folder plus a regime-change and a degraded-network scenario.</summary>
public static class BuiltInScenarios
{
    /// <summary>The scenario <c>foresight simulate</c> runs when none is named.</summary>
    public const string Default = "milan";

    private const string ResourceSuffix = ".yaml";
    private const string ResourceFolder = ".Scenarios.BuiltIn.";

    private static readonly Lazy<IReadOnlyDictionary<string, string>> _resources = new(FindResources);

    /// <summary>Built-in scenario names, the default first.</summary>
    public static IReadOnlyList<string> Names { get; } = ["milan", "bikenyc", "melbourne", "bayarea", "nasa", "melbourne-reopening", "milan-moved", "milan-degraded"];

    public static bool Contains(string name) => _resources.Value.ContainsKey(name);

    /// <summary>The YAML text of a built-in scenario.</summary>
    public static string Yaml(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!_resources.Value.TryGetValue(name, out string? resource))
        {
            throw new InvalidInputException("--scenario", $"unknown scenario '{name}'; built-in scenarios: {string.Join(", ", Names)} (or give a YAML file)");
        }

        using Stream stream = typeof(BuiltInScenarios).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidOperationException($"Embedded scenario '{resource}' is missing.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>Loads a built-in scenario; its <c>data:</c> paths resolve against the shared data folder.</summary>
    public static ScenarioSpec Load(string name) =>
        ScenarioLoader.Load(Yaml(name), $"{name}{ResourceSuffix} (built-in)", Directory.GetCurrentDirectory());

    private static IReadOnlyDictionary<string, string> FindResources()
    {
        var result = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        Assembly assembly = typeof(BuiltInScenarios).Assembly;
        foreach (string resource in assembly.GetManifestResourceNames())
        {
            int folder = resource.IndexOf(ResourceFolder, StringComparison.Ordinal);
            if (folder >= 0 && resource.EndsWith(ResourceSuffix, StringComparison.Ordinal))
            {
                string name = resource[(folder + ResourceFolder.Length)..^ResourceSuffix.Length];
                result[name] = resource;
            }
        }

        return result;
    }
}
