using Foresight.Core;
namespace Foresight.Control.Policies.Predictive;

/// <summary>
/// One capacity move the forecast made: a pre-emptive spin-up (no <see cref="From"/>) or a migration (replicas taken off
/// <see cref="From"/> in the same decision). Times are simulated seconds.
/// </summary>
/// <param name="App">The app.</param>
/// <param name="From">The site that gave up replicas in the same decision, or null for a spin-up.</param>
/// <param name="To">The site the forecast raised.</param>
/// <param name="DecidedAt">When the policy raised the target site.</param>
/// <param name="ReadyAt">When the target site first had the raised count of ready instances (null: never, before the record closed).</param>
/// <param name="RiseAt">When the demand entering at the target first exceeded the capacity it had at the decision (null: it did not).</param>
/// <param name="LeadTimeSeconds"><see cref="RiseAt"/> − <see cref="ReadyAt"/>: positive when the capacity was ready early.</param>
/// <param name="Real">Whether the predicted rise happened within the record's window.</param>
/// <param name="PreviousReplicas">Live replicas at the target when the decision was made.</param>
/// <param name="TargetReplicas">Replicas the decision asked for at the target.</param>
/// <param name="PreviousCapacityRps">What the previous replicas serve at the target utilization.</param>
/// <param name="WindowSeconds">Length of the comparison window after the rise (<see cref="VsHpa"/>).</param>
public sealed record MigrationRecord(
    string App,
    string? From,
    string To,
    double DecidedAt,
    double? ReadyAt,
    double? RiseAt,
    double? LeadTimeSeconds,
    bool Real,
    int PreviousReplicas,
    int TargetReplicas,
    double PreviousCapacityRps,
    double WindowSeconds)
{
    /// <summary>Users entering at the target in [rise, rise + window), under this policy and under hpa in the same run.</summary>
    public WindowComparison? VsHpa { get; init; }
}

/// <summary>What users entering at the target sites saw over the migrations' windows, under the policy and under hpa.</summary>
/// <param name="Requests">Arrivals in the windows (identical for both policies: same trace and seed).</param>
/// <param name="SloViolationRate">This policy's (over-SLO plus dropped) / requests.</param>
/// <param name="HpaSloViolationRate">The same for hpa.</param>
/// <param name="MeanLatencyMs">This policy's mean end-to-end latency of served requests.</param>
/// <param name="HpaMeanLatencyMs">The same for hpa.</param>
public sealed record WindowComparison(
    double Requests,
    double SloViolationRate,
    double HpaSloViolationRate,
    double MeanLatencyMs,
    double HpaMeanLatencyMs)
{
    /// <summary>hpa's mean latency minus this policy's: positive when the migration saved latency.</summary>
    public double LatencySavedMs => HpaMeanLatencyMs - MeanLatencyMs;

    /// <summary>Requests that violated their SLO (or were dropped) under hpa but not under this policy, net.</summary>
    public double ViolationsAvoided => (HpaSloViolationRate - SloViolationRate) * Requests;
}

/// <summary>The per-migration report of a predictive run (<c>predictiveMigrations</c> in the JSON).</summary>
/// <param name="Count">Migrations and spin-ups recorded.</param>
/// <param name="SpinUps">Of which pre-emptive spin-ups (no source site).</param>
/// <param name="Moves">Of which migrations (replicas taken off another site in the same decision).</param>
/// <param name="Real">Predicted rises that happened.</param>
/// <param name="FalseAlarms">Predicted rises that did not.</param>
/// <param name="Unresolved">Still open when the run ended.</param>
/// <param name="Early">Real ones whose capacity was ready before the rise (lead time > 0).</param>
/// <param name="LeadTimeSeconds">Lead-time percentiles over the real ones with a ready time: [p10, p50, p90] (empty when none).</param>
/// <param name="VsHpa">All real migrations' windows (their union per app and site) under this policy and under hpa; null without an hpa run.</param>
/// <param name="Events">The first <see cref="MigrationReport.MaxEvents"/> records.</param>
public sealed record MigrationReport(
    int Count,
    int SpinUps,
    int Moves,
    int Real,
    int FalseAlarms,
    int Unresolved,
    int Early,
    IReadOnlyList<double> LeadTimeSeconds,
    WindowComparison? VsHpa,
    IReadOnlyList<MigrationRecord> Events)
{
    public const int MaxEvents = 200;

    /// <summary>The same counts per app (lead times and the comparison with hpa over that app's windows).</summary>
    public IReadOnlyList<AppMigrations> ByApp { get; init; } = [];

    /// <summary>
    /// Real ones whose rise was already under way when the forecast raised the site (the demand was past its capacity at
    /// the decision): catch-ups rather than anticipations; their lead time is negative by construction.
    /// </summary>
    public int CatchUps { get; init; }

    /// <summary>Lead-time percentiles [p10, p50, p90] over the real ones that were anticipated (the rise came after the decision).</summary>
    public IReadOnlyList<double> AnticipatedLeadTimeSeconds { get; init; } = [];

    /// <summary>Every closed record (the JSON keeps only <see cref="Events"/>).</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public IReadOnlyList<MigrationRecord> AllEvents { get; init; } = [];
}

/// <summary>One app's share of a <see cref="MigrationReport"/>.</summary>
/// <param name="LeadTimeSeconds">[p10, p50, p90] over its real records with a ready time (empty when none).</param>
public sealed record AppMigrations(string App, int Count, int Real, int FalseAlarms, IReadOnlyList<double> LeadTimeSeconds, WindowComparison? VsHpa)
{
    /// <summary>Per app, in order of first appearance, from closed records.</summary>
    public static IReadOnlyList<AppMigrations> Of(IEnumerable<MigrationRecord> records, Func<string, WindowComparison?>? vsHpa = null) =>
        records.GroupBy(r => r.App, StringComparer.Ordinal).Select(g =>
        {
            return new AppMigrations(
                g.Key,
                g.Count(),
                g.Count(r => r.Real),
                g.Count(r => !r.Real),
                EmpiricalQuantile.Deciles10To90(g.Where(r => r.Real && r.LeadTimeSeconds is not null).Select(r => r.LeadTimeSeconds!.Value)),
                vsHpa?.Invoke(g.Key));
        }).ToList();
}

/// <summary>
/// Watches a predictive policy's decisions and records each site the forecast raised: when, when the capacity was
/// ready, and when (if ever) the demand there rose past the capacity it had. It reads only what the cluster has already
/// observed, and the policy never reads it back, so it cannot change a decision.
/// </summary>
public sealed class MigrationRecorder
{
    private readonly List<Open> _open = [];
    private readonly List<MigrationRecord> _closed = [];
    private int _count;

    /// <summary>All closed records, in the order they closed (the JSON keeps the first <see cref="MigrationReport.MaxEvents"/>).</summary>
    public IReadOnlyList<MigrationRecord> Closed => _closed;

    /// <summary>Records opened so far (closed or not).</summary>
    public int Count => _count;

    /// <summary>Called once per app at each decision, after the policy has set the app's desired placement.</summary>
    /// <param name="app">App index.</param>
    /// <param name="appName">App name.</param>
    /// <param name="siteIds">Site ids by index.</param>
    /// <param name="now">Simulated seconds.</param>
    /// <param name="raised">Per site: whether the forecast (not the reactive path) raised the desired count there in this decision.</param>
    /// <param name="before">Desired replicas per site before this decision.</param>
    /// <param name="after">Desired replicas per site after it.</param>
    /// <param name="active">Live, non-draining replicas per site now.</param>
    /// <param name="ready">Ready replicas per site now.</param>
    /// <param name="observedRps">Demand entering per site, observed over the recent window.</param>
    /// <param name="perInstanceRps">What one replica serves at the target utilization.</param>
    /// <param name="expirySeconds">How long after the decision a rise still counts as the predicted one.</param>
    /// <param name="windowSeconds">Length of the comparison window after a rise.</param>
    public void Observe(
        int app,
        string appName,
        IReadOnlyList<string> siteIds,
        double now,
        ReadOnlySpan<bool> raised,
        ReadOnlySpan<int> before,
        ReadOnlySpan<int> after,
        ReadOnlySpan<int> active,
        ReadOnlySpan<int> ready,
        ReadOnlySpan<double> observedRps,
        double perInstanceRps,
        double expirySeconds,
        double windowSeconds)
    {
        // Open records first; a record opened below checks readiness and the rise at once (a rise already under way
        // gives a negative lead time).
        for (int i = _open.Count - 1; i >= 0; i--)
        {
            Open o = _open[i];
            if (o.App != app)
            {
                continue;
            }

            o.ReadyAt ??= ready[o.Site] >= o.Target ? now : null;
            o.RiseAt ??= observedRps[o.Site] > o.PreviousCapacity ? now : null;
            bool done = o.ReadyAt is not null && o.RiseAt is not null;
            bool expired = now - o.DecidedAt > o.ExpirySeconds;
            if (done || expired)
            {
                _closed.Add(o.Close());
                _open.RemoveAt(i);
            }
        }

        int from = -1;
        int drop = 0;
        for (int s = 0; s < before.Length; s++)
        {
            if (before[s] - after[s] > drop)
            {
                drop = before[s] - after[s];
                from = s;
            }
        }

        for (int s = 0; s < raised.Length; s++)
        {
            if (!raised[s] || _open.Exists(o => o.App == app && o.Site == s))
            {
                continue;
            }

            var o = new Open(app, appName, s, siteIds[s], from >= 0 ? siteIds[from] : null, now, after[s], active[s], active[s] * perInstanceRps, expirySeconds, windowSeconds)
            {
                ReadyAt = ready[s] >= after[s] ? now : null,
                RiseAt = observedRps[s] > active[s] * perInstanceRps ? now : null,
            };
            _count++;
            if (o.ReadyAt is not null && o.RiseAt is not null)
            {
                _closed.Add(o.Close());
            }
            else
            {
                _open.Add(o);
            }
        }
    }

    /// <summary>The report, with the records still open at the end of the run counted as unresolved.</summary>
    public MigrationReport Build()
    {
        var all = _closed.ToList();
        var real = all.Where(r => r.Real).ToList();
        var leads = real.Where(r => r.LeadTimeSeconds is not null).Select(r => r.LeadTimeSeconds!.Value).ToList();
        return new MigrationReport(
            _count,
            all.Count(r => r.From is null) + _open.Count(o => o.From is null),
            all.Count(r => r.From is not null) + _open.Count(o => o.From is not null),
            real.Count,
            all.Count(r => !r.Real),
            _open.Count,
            leads.Count(l => l > 0),
            EmpiricalQuantile.Deciles10To90(leads),
            null,
            all.Take(MigrationReport.MaxEvents).ToList())
        {
            AllEvents = all,
            ByApp = AppMigrations.Of(all),
            CatchUps = real.Count(r => r.RiseAt <= r.DecidedAt),
            AnticipatedLeadTimeSeconds = EmpiricalQuantile.Deciles10To90(real.Where(r => r.RiseAt > r.DecidedAt && r.LeadTimeSeconds is not null).Select(r => r.LeadTimeSeconds!.Value)),
        };
    }

    private sealed record Open(
        int App, string AppName, int Site, string To, string? From, double DecidedAt, int Target, int Previous, double PreviousCapacity, double ExpirySeconds, double WindowSeconds)
    {
        public double? ReadyAt { get; set; }

        public double? RiseAt { get; set; }

        public MigrationRecord Close() => new(
            AppName, From, To, DecidedAt, ReadyAt, RiseAt,
            ReadyAt is double r && RiseAt is double u ? u - r : null,
            RiseAt is not null, Previous, Target, PreviousCapacity, WindowSeconds);
    }
}
