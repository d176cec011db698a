using Foresight.Control.Decision;
using Foresight.Kubernetes;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>
/// Keeps the settings each configured app runs under in step with the namespace's MigrationPolicies (re-read every
/// <c>resyncSeconds</c>; see <see cref="PolicyResolver"/>) and writes each policy's status back when it changes. A
/// failed read keeps the last policies; without a policy source every app runs under the config file.
/// </summary>
internal sealed class PolicySync(
    IReadOnlyList<KubernetesApp> apps, PredictiveOptions fallback, IPolicySource? source, double resyncSeconds, TimeProvider time)
{
    private PolicyResolution? _resolution;
    private double _readAt = double.NegativeInfinity;

    /// <summary>Per configured app, in config order: the policy's settings or the config file's.</summary>
    public IReadOnlyList<AppSettings> Settings { get; private set; } =
        apps.Select(a => new AppSettings(a.Profile, fallback, DryRun: false, Safety: null, Policy: null)).ToArray();

    /// <summary>The settings of the app named <paramref name="app"/>, or null for an app not configured.</summary>
    public AppSettings? SettingsOf(string app) => Settings.FirstOrDefault(s => s.Profile.Name == app);

    /// <summary>Why the policies could not be read or written on the last try, or null.</summary>
    public string? Error { get; private set; }

    public async Task RefreshAsync(double now, CancellationToken cancellationToken)
    {
        // A watched source is read every tick, so an edited policy applies at once; a listed one every resync.
        if (source is null || (!source.Watched && now - _readAt < resyncSeconds))
        {
            return;
        }

        _readAt = now;
        try
        {
            PolicyListing listing = await source.ListAsync(cancellationToken).ConfigureAwait(false);
            _resolution = PolicyResolver.Resolve(apps, fallback, listing);
            Settings = [.. _resolution.Apps];
            Error = listing.Installed ? null : "the MigrationPolicy CRD is not installed; every app uses the config file";
        }
        catch (OrchestratorException e)
        {
            // Keep the last policies; the next resync tries again.
            Error = $"reading MigrationPolicies failed, keeping the last ones: {e.Message}";
        }
    }

    /// <summary>Writes each policy's status where it changed (the leader only).</summary>
    /// <param name="activeFloors">Raised floors of the app at this index.</param>
    /// <param name="lastRaise">When a floor of the app at this index was last raised.</param>
    public async Task WriteStatusAsync(Func<int, int> activeFloors, Func<int, DateTimeOffset?> lastRaise, CancellationToken cancellationToken)
    {
        if (source is null || _resolution is null)
        {
            return;
        }

        var names = apps.Select(a => a.Profile.Name).ToList();
        foreach (PolicyOutcome outcome in _resolution.Policies)
        {
            var governed = Enumerable.Range(0, names.Count).Where(a => outcome.Applied.Contains(names[a])).ToList();
            int active = governed.Sum(activeFloors);
            DateTimeOffset? last = governed.Select(lastRaise).Where(t => t is not null).DefaultIfEmpty(null).Max();
            MigrationPolicyStatus status = PolicyResolver.Status(outcome, names, active, last, time.GetUtcNow());
            if (PolicyResolver.SameStatus(outcome.Policy.Status, status))
            {
                continue;
            }

            try
            {
                if (await source.WriteStatusAsync(outcome.Name, status, cancellationToken).ConfigureAwait(false))
                {
                    // What the policy shows now, so the next tick writes only on a change.
                    outcome.Policy.Status = status;
                }
            }
            catch (OrchestratorException e)
            {
                Error = $"writing the status of MigrationPolicy '{outcome.Name}' failed: {e.Message}";
            }
        }
    }
}
