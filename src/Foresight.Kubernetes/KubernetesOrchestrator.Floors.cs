using Foresight.Orchestration;
using k8s.Models;

namespace Foresight.Kubernetes;

// Where an HPA scales an (app, site) Deployment, the controller never adds or removes its pods: its desired count for
// the site becomes the HPA's minReplicas, and the HPA stays the reactive path (HPA coexistence).
public sealed partial class KubernetesOrchestrator
{
    /// <summary>
    /// The port's "at least N here" for an HPA-scaled (app, site): raises the HPA's minReplicas to
    /// <paramref name="minReplicas"/> (capped at its maxReplicas), or restores the user's own minimum when
    /// <paramref name="minReplicas"/> is at or below it. Returns the minReplicas now in force.
    /// </summary>
    public async ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken)
    {
        RequireWorkload(app, siteId);
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        if (FindHpa(c, Names.Workload(app, siteId)) is not { } hpa)
        {
            throw new OrchestratorException($"No HPA scales the Deployment '{Names.Workload(app, siteId)}'; it has no floor to set.", isTransient: false);
        }

        int own = UserMin(hpa) ?? hpa.Spec.MinReplicas ?? 1;
        if (minReplicas <= own)
        {
            await RestorePredictiveFloorAsync(app, siteId, cancellationToken).ConfigureAwait(false);
            return own;
        }

        return await RaisePredictiveFloorAsync(app, siteId, minReplicas, holdUntil: null, cancellationToken).ConfigureAwait(false)
            ?? throw new OrchestratorException($"The HPA of '{Names.Workload(app, siteId)}' went away while its floor was set.", isTransient: true);
    }

    /// <summary>Every configured (app, site) whose Deployment an HPA scales, with its own minimum, the floor in force and its maximum.</summary>
    private List<AutoscaledSite> AutoscaledSites(Caches c)
    {
        var sites = new List<AutoscaledSite>();
        foreach (string app in _options.Apps.Keys.Order(StringComparer.Ordinal))
        {
            foreach (string site in _sites.Order(StringComparer.Ordinal))
            {
                if (FindHpa(c, Names.Workload(app, site)) is V2HorizontalPodAutoscaler hpa)
                {
                    int floor = hpa.Spec.MinReplicas ?? 1;
                    sites.Add(new AutoscaledSite(app, site, UserMin(hpa) ?? floor, floor, hpa.Spec.MaxReplicas));
                }
            }
        }

        return sites;
    }
}
