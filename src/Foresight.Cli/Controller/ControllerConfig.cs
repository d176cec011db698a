using Foresight.Control.Decision;
using Foresight.Core.Apps;

namespace Foresight.Cli.Controller;

/// <summary>The controller's configuration (<c>run --config</c>, <c>serve --config</c>); see <c>examples/controller.yaml</c>.</summary>
public sealed record ControllerConfig
{
    /// <summary>simulated or kubernetes; the command line's --orchestrator wins.</summary>
    public string Orchestrator { get; init; } = "simulated";

    public int TickMs { get; init; } = 1000;

    public bool DryRun { get; init; }

    /// <summary>Bearer token for state-changing API calls (serve). FORESIGHT_TOKEN overrides; none disables them.</summary>
    public string? Token { get; init; }

    /// <summary>
    /// The SQLite reconcile journal; null keeps the command log in memory. Every orchestrator command is written to it
    /// before it is issued, and a restarted controller resolves what it finds unfinished there.
    /// </summary>
    public string? Journal { get; init; }

    /// <summary>How long the journal keeps resolved rows (<c>journalRetention:</c> maxAge, maxRows); see design note 0017.</summary>
    public Foresight.Control.Journal.JournalRetention JournalRetention { get; init; } = Foresight.Control.Journal.JournalRetention.Default;

    /// <summary>Thresholds, named as in the MigrationPolicy CRD's spec.thresholds where they overlap.</summary>
    public PredictiveOptions Predictive { get; init; } = new();

    public SimulatedConfig Simulated { get; init; } = new();

    public KubernetesConfig? Kubernetes { get; init; }

    public string Source { get; init; } = "(defaults)";
}

public sealed record SimulatedConfig
{
    public string Scenario { get; init; } = "milan";

    /// <summary>Simulated seconds per wall-clock second, so a demo shows movement within seconds.</summary>
    public double SpeedUp { get; init; } = 60;

    public string Forecaster { get; init; } = "ets";

    /// <summary>Rolling conformal calibration of the forecast quantiles in the loop (design note 0022).</summary>
    public bool Calibration { get; init; } = true;

    public int? Seed { get; init; }

    /// <summary>
    /// Simulated seconds replayed before the loop starts (the forecaster's warm-up history), so forecasts exist from
    /// the first tick. Null: the warm-up plus one minute.
    /// </summary>
    public double? StartAtSeconds { get; init; }

    /// <summary>At most this many simulated seconds per tick, however late the tick is (bounds a tick's work).</summary>
    public double MaxSecondsPerTick { get; init; } = 600;

    /// <summary>
    /// Simulated seconds of the simulator's per-bucket history (timelines, per-site windows, stopped instances) the
    /// controller keeps: longer than any window it reads (routing, metrics, decision scoring), so a run of any length
    /// holds a bounded amount (design note 0017).
    /// </summary>
    public double HistorySeconds { get; init; } = 6 * 3600;
}

public sealed record KubernetesConfig
{
    /// <summary>A kubeconfig file; null reads the in-cluster service account.</summary>
    public string? Kubeconfig { get; init; }

    public required string Namespace { get; init; }

    /// <summary>Base address of the Prometheus HTTP API (e.g. http://127.0.0.1:9090).</summary>
    public required Uri Prometheus { get; init; }

    /// <summary>Seconds per forecast step (observations are averaged into buckets of this length).</summary>
    public double StepSeconds { get; init; } = 15;

    public int HorizonSteps { get; init; } = 12;

    /// <summary>Observed seconds before the first fit.</summary>
    public double WarmupSeconds { get; init; } = 600;

    /// <summary>Seconds per season (one day by default).</summary>
    public double SeasonSeconds { get; init; } = 86_400;

    public string Forecaster { get; init; } = "ets";

    /// <summary>Rolling conformal calibration of the forecast quantiles in the loop (design note 0022).</summary>
    public bool Calibration { get; init; } = true;

    /// <summary>The Lease (in <see cref="Namespace"/>) that elects the one replica that writes floors.</summary>
    public string LeaseName { get; init; } = "foresight-controller";

    /// <summary>
    /// Seconds between re-reads of the namespace's MigrationPolicies (and the Deployment labels they select by). Policies
    /// are edited by people, so half a minute is prompt, and costs two list calls per resync.
    /// </summary>
    public double PolicyResyncSeconds { get; init; } = 30;

    public required IReadOnlyList<KubernetesApp> Apps { get; init; }
}

/// <param name="Query">PromQL returning requests per second per site (a vector with one series per site).</param>
/// <param name="SiteLabel">The label of <paramref name="Query"/>'s result that names the site.</param>
/// <param name="Image">The container image for a site that has no <c>&lt;app&gt;-&lt;site&gt;</c> Deployment yet; null: the
/// controller scales only the user's own Deployments.</param>
public sealed record KubernetesApp(AppProfile Profile, IReadOnlyList<string> Sites, string Query, string SiteLabel, string? Image = null)
{
    /// <summary>The index of <paramref name="site"/> in <see cref="Sites"/>, or -1 for a site this app does not run in.</summary>
    public int SiteIndex(string? site)
    {
        for (int i = 0; i < Sites.Count; i++)
        {
            if (string.Equals(Sites[i], site, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
