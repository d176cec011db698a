namespace Foresight.Kubernetes;

/// <summary>Object names, labels and annotations that the adapter writes. They are its on-cluster contract.</summary>
public static class Names
{
    public const string AppLabel = "app.kubernetes.io/name";
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedByValue = "foresight";
    public const string SiteLabel = "foresight.dev/site";
    public const string IngressSiteLabel = "foresight.dev/ingress-site";

    /// <summary>"true" while a pod may receive traffic; the per-site Services select on it, the Deployment does not.</summary>
    public const string ServingLabel = "foresight.dev/serving";

    /// <summary>The port-level instance id of a pod that was bound to a spin-up request.</summary>
    public const string InstanceLabel = "foresight.dev/instance";

    /// <summary>On a Deployment: the JSON instance registry (spin-up claims and tombstones).</summary>
    public const string RegistryAnnotation = "foresight.dev/instances";

    /// <summary>On a pod template: seconds after readiness during which the pod counts as Warming.</summary>
    public const string WarmupAnnotation = "foresight.dev/warmup-seconds";

    public const string DrainingSinceAnnotation = "foresight.dev/draining-since";
    public const string StoppedAnnotation = "foresight.dev/stopped-at";
    public const string TemplateHashAnnotation = "foresight.dev/template-hash";

    /// <summary>
    /// On a pod: "true" while the selector-mode ingress Service of traffic entering at <paramref name="ingressSite"/>
    /// spans several sites and weights the pod's site. A Service selector can only match labels by equality, so this
    /// per-ingress label is how one selects exactly the weighted sites.
    /// </summary>
    public static string ViaLabel(string ingressSite) => $"via.foresight.dev/{ingressSite}";

    /// <summary>On a selector-mode ingress Service: the requested weights as JSON (Services cannot weight).</summary>
    public const string WeightsAnnotation = "foresight.dev/weights";

    /// <summary>On an HPA: its minReplicas before Foresight raised the predictive floor.</summary>
    public const string OriginalMinReplicasAnnotation = "foresight.dev/original-min-replicas";

    /// <summary>On an HPA while a predictive floor is raised: the minReplicas Foresight set.</summary>
    public const string FloorAnnotation = "foresight.dev/floor";

    /// <summary>On an HPA while a predictive floor is raised: when the floor may be restored (RFC 3339, UTC).</summary>
    public const string HoldUntilAnnotation = "foresight.dev/hold-until";

    public const string PodDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

    /// <summary>
    /// The pod-deletion-cost of a drained pod: below any other pod's of its rank, so the ReplicaSet removes it first, but
    /// one above <see cref="StoppedDeletionCost"/>, so a scale-down for a stop takes the stopped pod, not a drained one.
    /// </summary>
    public const string DrainedDeletionCost = "-2147483647";

    /// <summary>The lowest pod-deletion-cost, on a pod being stopped: the ReplicaSet's scale-down takes it before any other of its rank.</summary>
    public const string StoppedDeletionCost = "-2147483648";

    /// <summary>Deployment, per-site Service and HPA name of (app, site).</summary>
    public static string Workload(string app, string site) => $"{app}-{site}";

    /// <summary>HTTPRoute (Gateway mode) or ingress Service (selector mode) of traffic entering at a site.</summary>
    public static string Ingress(string app, string ingressSite) => $"{app}-via-{ingressSite}";

    public static string ManagedSelector => $"{ManagedByLabel}={ManagedByValue}";
}
