using ScottPlot;

namespace Foresight.Cli.Reports;

/// <summary>One colour per policy, the same in every plot and report, so a reader learns it once.</summary>
public static class PolicyPalette
{
    // Category10 hues; the design's policies get fixed ones so "oracle" looks the same in every report.
    private static readonly Dictionary<string, string> Known = new(StringComparer.OrdinalIgnoreCase)
    {
        ["static"] = "#7f7f7f",
        ["hpa"] = "#1f77b4",
        ["kpa"] = "#ff7f0e",
        ["predictive"] = "#2ca02c",
        ["oracle"] = "#9467bd",
    };

    private static readonly string[] Others = ["#d62728", "#8c564b", "#e377c2", "#bcbd22", "#17becf"];

    /// <summary>Hex colours for <paramref name="policies"/>, in order; unknown names take the spare hues in turn.</summary>
    public static IReadOnlyList<string> HexFor(IReadOnlyList<string> policies)
    {
        var result = new string[policies.Count];
        var assigned = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < policies.Count; i++)
        {
            // Sweep runs ("hpa@target-utilization=0.6") take their policy's colour.
            string policy = policies[i].Split('@')[0];
            if (!Known.TryGetValue(policy, out string? hex) && !assigned.TryGetValue(policy, out hex))
            {
                hex = Others[assigned.Count % Others.Length];
                assigned[policy] = hex;
            }

            result[i] = hex;
        }

        return result;
    }

    public static IReadOnlyList<Color> For(IReadOnlyList<string> policies) => HexFor(policies).Select(Color.FromHex).ToList();
}
