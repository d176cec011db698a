using Foresight.Simulation.Engine;
using Foresight.Control.Policies.Predictive;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Runner;

/// <summary>
/// Latency saved by each predictive migration compared with hpa's reactive relocation: what the users entering at the
/// migration's target site saw from the demand's rise to the end of the migration's window, under each policy. Both
/// policies replay the same arrivals (same trace and seed), so the windows hold the same requests.
/// </summary>
public static class MigrationComparison
{
    public static MigrationReport Compare(MigrationReport report, SimulationScenario scenario, SiteWindowStats mine, SiteWindowStats hpa) =>
        Compare(report, name => IndexOf(scenario.Apps.Select(a => a.Name), name), scenario.Topology.SiteIndex, mine, hpa);

    /// <param name="report">The predictive run's migrations.</param>
    /// <param name="appIndex">App name to index in the statistics.</param>
    /// <param name="siteIndex">Site id to index in the statistics.</param>
    /// <param name="mine">The predictive run's per-site statistics.</param>
    /// <param name="hpa">hpa's, from the same scenario and seed.</param>
    public static MigrationReport Compare(
        MigrationReport report, Func<string, int> appIndex, Func<string, int> siteIndex, SiteWindowStats mine, SiteWindowStats hpa)
    {
        var events = new List<MigrationRecord>(report.AllEvents.Count);
        foreach (MigrationRecord r in report.AllEvents)
        {
            events.Add(r.RiseAt is double rise
                ? r with { VsHpa = Of(Window(mine, appIndex(r.App), siteIndex(r.To), rise, rise + r.WindowSeconds), Window(hpa, appIndex(r.App), siteIndex(r.To), rise, rise + r.WindowSeconds)) }
                : r);
        }

        // The summary is over the union of the windows per (app, site), so a request counts once however many windows hold it.
        var perApp = new Dictionary<string, (SiteWindow Mine, SiteWindow Hpa)>(StringComparer.Ordinal);
        SiteWindow sumMine = default;
        SiteWindow sumHpa = default;
        foreach (var group in events.Where(r => r.RiseAt is not null).GroupBy(r => (r.App, r.To)))
        {
            int app = appIndex(group.Key.App);
            int site = siteIndex(group.Key.To);
            foreach ((double from, double to) in Union(group.Select(r => (r.RiseAt!.Value, r.RiseAt!.Value + r.WindowSeconds))))
            {
                SiteWindow mineHere = Window(mine, app, site, from, to);
                SiteWindow hpaHere = Window(hpa, app, site, from, to);
                sumMine += mineHere;
                sumHpa += hpaHere;
                perApp[group.Key.App] = perApp.TryGetValue(group.Key.App, out var sums) ? (sums.Mine + mineHere, sums.Hpa + hpaHere) : (mineHere, hpaHere);
            }
        }

        return report with
        {
            AllEvents = events,
            Events = events.Take(MigrationReport.MaxEvents).ToList(),
            VsHpa = sumMine.Requests > 0 ? Of(sumMine, sumHpa) : null,
            ByApp = AppMigrations.Of(events, app => perApp.TryGetValue(app, out var sums) && sums.Mine.Requests > 0 ? Of(sums.Mine, sums.Hpa) : null),
        };
    }

    /// <summary>This policy's and hpa's statistics over the same window, side by side.</summary>
    public static WindowComparison Of(SiteWindow mine, SiteWindow hpa) =>
        new(mine.Requests, mine.SloViolationRate, hpa.SloViolationRate, mine.MeanLatencyMs, hpa.MeanLatencyMs);

    /// <summary>Merges intervals [from, to) into disjoint ones, in order.</summary>
    public static IReadOnlyList<(double From, double To)> Union(IEnumerable<(double From, double To)> intervals)
    {
        var merged = new List<(double From, double To)>();
        foreach ((double from, double to) in intervals.OrderBy(i => i.From))
        {
            if (merged.Count > 0 && from <= merged[^1].To)
            {
                merged[^1] = (merged[^1].From, Math.Max(merged[^1].To, to));
            }
            else
            {
                merged.Add((from, to));
            }
        }

        return merged;
    }

    private static SiteWindow Window(SiteWindowStats stats, int app, int site, double from, double to) =>
        app >= 0 && app < stats.AppCount && site >= 0 && site < stats.SiteCount ? stats.Window(app, site, from, to) : default;

    private static int IndexOf(IEnumerable<string> names, string name)
    {
        int i = 0;
        foreach (string n in names)
        {
            if (n == name)
            {
                return i;
            }

            i++;
        }

        return -1;
    }
}
