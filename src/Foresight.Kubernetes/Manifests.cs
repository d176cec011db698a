using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>Builds the objects the adapter applies. Pure, so tests can validate exactly what goes to the cluster.</summary>
public sealed class Manifests
{
    private readonly KubernetesOrchestratorOptions _options;

    public Manifests(KubernetesOrchestratorOptions options)
    {
        _options = options;
    }

    /// <summary>Labels that select the pods of one (app, site); the Deployment's immutable selector.</summary>
    public static Dictionary<string, string> WorkloadSelector(string app, string site) => new()
    {
        [Names.AppLabel] = app,
        [Names.SiteLabel] = site,
    };

    private static Dictionary<string, string> Labels(string app, string site) => new(WorkloadSelector(app, site))
    {
        [Names.ManagedByLabel] = Names.ManagedByValue,
    };

    /// <summary>
    /// The Deployment of (app, site) with <paramref name="replicas"/> (null: leave spec.replicas out, as in an
    /// apply that must not own it). Pinned to the site by required node affinity; the readiness probe means warm.
    /// </summary>
    public V1Deployment Deployment(string app, string site, int? replicas)
    {
        AppWorkload w = _options.Apps[app];
        var podLabels = new Dictionary<string, string>(Labels(app, site)) { [Names.ServingLabel] = "true" };
        var resources = new V1ResourceRequirements
        {
            Requests = new Dictionary<string, ResourceQuantity>
            {
                ["cpu"] = new ResourceQuantity(w.CpuRequest),
                ["memory"] = new ResourceQuantity(w.MemoryRequest),
            },
        };
        if (w.CpuLimit is not null || w.MemoryLimit is not null)
        {
            resources.Limits = new Dictionary<string, ResourceQuantity>();
            if (w.CpuLimit is not null)
            {
                resources.Limits["cpu"] = new ResourceQuantity(w.CpuLimit);
            }

            if (w.MemoryLimit is not null)
            {
                resources.Limits["memory"] = new ResourceQuantity(w.MemoryLimit);
            }
        }

        var template = new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta
            {
                Labels = podLabels,
                Annotations = new Dictionary<string, string>
                {
                    [Names.WarmupAnnotation] = w.WarmupSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture),
                },
            },
            Spec = new V1PodSpec
            {
                TerminationGracePeriodSeconds = (long)_options.DrainGracePeriod.TotalSeconds,
                Affinity = new V1Affinity
                {
                    NodeAffinity = new V1NodeAffinity
                    {
                        RequiredDuringSchedulingIgnoredDuringExecution = new V1NodeSelector
                        {
                            NodeSelectorTerms =
                            [
                                new V1NodeSelectorTerm
                                {
                                    MatchExpressions = [new V1NodeSelectorRequirement { Key = _options.SiteLabelKey, OperatorProperty = "In", Values = [site] }],
                                },
                            ],
                        },
                    },
                },
                Containers =
                [
                    new V1Container
                    {
                        Name = app,
                        Image = w.Image,
                        Ports = [new V1ContainerPort { ContainerPort = w.Port, Name = "http", Protocol = "TCP" }],
                        Resources = resources,
                        ReadinessProbe = new V1Probe
                        {
                            HttpGet = new V1HTTPGetAction { Port = "http", Path = w.ReadinessPath },
                            PeriodSeconds = 2,
                            FailureThreshold = 1,
                        },
                    },
                ],
            },
        };

        var deployment = new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta
            {
                Name = Names.Workload(app, site),
                NamespaceProperty = _options.Namespace,
                Labels = Labels(app, site),
            },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = WorkloadSelector(app, site) },
                Template = template,
            },
        };
        deployment.Metadata.Annotations = new Dictionary<string, string> { [Names.TemplateHashAnnotation] = Hash(template) };
        return deployment;
    }

    /// <summary>The per-site Service: the serving pods of (app, site). Gateway backendRefs point at it.</summary>
    public V1Service SiteService(string app, string site) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta { Name = Names.Workload(app, site), NamespaceProperty = _options.Namespace, Labels = Labels(app, site) },
        Spec = new V1ServiceSpec
        {
            Selector = new Dictionary<string, string>(WorkloadSelector(app, site)) { [Names.ServingLabel] = "true" },
            Ports = [new V1ServicePort { Port = _options.Apps[app].Port, Name = "http", Protocol = "TCP", TargetPort = "http" }],
        },
    };

    /// <summary>Gateway API route of traffic entering at <paramref name="ingressSite"/>, weighted over per-site Services.</summary>
    public HttpRoute Route(string app, string ingressSite, IReadOnlyList<(string Site, int Weight)> weights)
    {
        GatewayParent parent = _options.Gateway ?? throw new InvalidOperationException("No gateway configured.");
        return new HttpRoute
        {
            Metadata = new V1ObjectMeta
            {
                Name = Names.Ingress(app, ingressSite),
                NamespaceProperty = _options.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [Names.AppLabel] = app,
                    [Names.IngressSiteLabel] = ingressSite,
                    [Names.ManagedByLabel] = Names.ManagedByValue,
                },
            },
            Spec = new HttpRouteSpec
            {
                ParentRefs =
                [
                    new GatewayParentReference
                    {
                        Name = parent.Name.Replace("{site}", ingressSite, StringComparison.Ordinal),
                        Namespace = parent.Namespace,
                        SectionName = parent.SectionName,
                    },
                ],
                Rules =
                [
                    new HttpRouteRule
                    {
                        BackendRefs = weights
                            .Select(w => new HttpBackendRef { Name = Names.Workload(app, w.Site), Port = _options.Apps[app].Port, Weight = w.Weight })
                            .ToList(),
                    },
                ],
            },
        };
    }

    /// <summary>
    /// Selector-mode ingress Service: selects the serving pods of the one weighted site, or, when several sites (or none)
    /// carry weight, the serving pods labelled <see cref="Names.ViaLabel"/> of this ingress, which the adapter keeps on
    /// exactly the weighted sites' pods (none for an all-zero route). The requested weights are kept in an annotation,
    /// since a Service cannot weight.
    /// </summary>
    public V1Service IngressService(string app, string ingressSite, IReadOnlyList<(string Site, int Weight)> weights, string weightsJson)
    {
        var selector = new Dictionary<string, string> { [Names.AppLabel] = app, [Names.ServingLabel] = "true" };
        var positive = weights.Where(w => w.Weight > 0).ToList();
        if (positive.Count == 1)
        {
            selector[Names.SiteLabel] = positive[0].Site;
        }
        else
        {
            selector[Names.ViaLabel(ingressSite)] = "true";
        }

        return new V1Service
        {
            ApiVersion = "v1",
            Kind = "Service",
            Metadata = new V1ObjectMeta
            {
                Name = Names.Ingress(app, ingressSite),
                NamespaceProperty = _options.Namespace,
                Labels = new Dictionary<string, string>
                {
                    [Names.AppLabel] = app,
                    [Names.IngressSiteLabel] = ingressSite,
                    [Names.ManagedByLabel] = Names.ManagedByValue,
                },
                Annotations = new Dictionary<string, string> { [Names.WeightsAnnotation] = weightsJson },
            },
            Spec = new V1ServiceSpec
            {
                Selector = selector,
                Ports = [new V1ServicePort { Port = _options.Apps[app].Port, Name = "http", Protocol = "TCP", TargetPort = "http" }],
            },
        };
    }

    private static string Hash(V1PodTemplateSpec template) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(template))))[..16];
}
