using System.Text.RegularExpressions;

namespace Foresight.Kubernetes;

/// <summary>How traffic weights reach the data plane.</summary>
public enum TrafficMode
{
    /// <summary>Gateway API when its CRDs are served (API discovery), otherwise Service selectors.</summary>
    Auto,

    /// <summary>One HTTPRoute per (app, ingress site) whose backendRefs weight one Service per site.</summary>
    GatewayApi,

    /// <summary>
    /// No weights on the data plane: an ingress Service selects the pods of its heaviest site, or of every
    /// weighted site when several carry weight (then split by pod count, not by weight).
    /// </summary>
    ServiceSelector,
}

/// <summary>The workload of one app: what each of its per-site Deployments runs.</summary>
public sealed record AppWorkload
{
    public required string Image { get; init; }

    /// <summary>
    /// Scale only the user's own <c>&lt;app&gt;-&lt;site&gt;</c> Deployments and never create one (no image is known):
    /// a spin-up at a site without that Deployment is then refused with a message that says so.
    /// </summary>
    public bool AdoptOnly { get; init; }

    public int Port { get; init; } = 8080;

    /// <summary>HTTP path of the readiness probe. It must only succeed once the instance is warmed up.</summary>
    public string ReadinessPath { get; init; } = "/healthz/ready";

    public string CpuRequest { get; init; } = "500m";

    public string MemoryRequest { get; init; } = "256Mi";

    public string? CpuLimit { get; init; }

    public string? MemoryLimit { get; init; }

    /// <summary>
    /// Seconds after readiness during which the pod reports Warming (capacity ramping) instead of Ready.
    /// 0 when the readiness probe already means fully warm.
    /// </summary>
    public double WarmupSeconds { get; init; }

    /// <summary>Share of full capacity at the start of the warm-up period.</summary>
    public double WarmupStartCapacity { get; init; } = 0.3;
}

/// <summary>The Gateway that every HTTPRoute attaches to. <see cref="Name"/> may contain <c>{site}</c> (the ingress site).</summary>
public sealed record GatewayParent(string Name, string? Namespace = null, string? SectionName = null);

/// <summary>Configuration of <see cref="KubernetesOrchestrator"/>; validated when the orchestrator is constructed.</summary>
public sealed partial record KubernetesOrchestratorOptions
{
    public required string Namespace { get; init; }

    /// <summary>Node label whose value is a site id; Deployments are pinned to a site by node affinity on it.</summary>
    public string SiteLabelKey { get; init; } = "topology.kubernetes.io/zone";

    /// <summary>Server-side apply field manager (and the manager of every other write).</summary>
    public string FieldManager { get; init; } = "foresight";

    /// <summary>The sites Foresight may place instances at and route to (values of <see cref="SiteLabelKey"/>).</summary>
    public required IReadOnlyList<string> Sites { get; init; }

    public required IReadOnlyDictionary<string, AppWorkload> Apps { get; init; }

    public TrafficMode TrafficMode { get; init; } = TrafficMode.Auto;

    /// <summary>Required unless <see cref="TrafficMode"/> is <see cref="TrafficMode.ServiceSelector"/>.</summary>
    public GatewayParent? Gateway { get; init; }

    /// <summary>The pods' terminationGracePeriodSeconds: how long a stopped pod may finish in-flight requests.</summary>
    public TimeSpan DrainGracePeriod { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Per API request, on the wall clock; a request that takes longer fails as a transient
    /// <see cref="Orchestration.OrchestratorException"/>. Watches are exempt.
    /// </summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Attempts of a read-modify-write that hits 409 Conflict before it fails as transient.</summary>
    public int ConflictRetries { get; init; } = 5;

    /// <summary>How long a write's response stands in for the watched object until its watch event arrives.</summary>
    public TimeSpan WriteVisibility { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Returns every invalid field (empty when valid).</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!IsDnsLabel(Namespace))
        {
            errors.Add("namespace: must be a DNS-1123 label");
        }

        if (!LabelKey().IsMatch(SiteLabelKey ?? ""))
        {
            errors.Add("siteLabelKey: must be a valid label key");
        }

        if (string.IsNullOrWhiteSpace(FieldManager) || FieldManager.Length > 128)
        {
            errors.Add("fieldManager: must be 1 to 128 characters");
        }

        if (Sites is null || Sites.Count == 0)
        {
            errors.Add("sites: at least one site is required");
        }
        else
        {
            foreach (string site in Sites.Where(s => !IsDnsLabel(s)))
            {
                errors.Add($"sites: '{site}' must be a DNS-1123 label (it is part of object names)");
            }

            if (Sites.Distinct(StringComparer.Ordinal).Count() != Sites.Count)
            {
                errors.Add("sites: must be distinct");
            }
        }

        if (Apps is null || Apps.Count == 0)
        {
            errors.Add("apps: at least one app is required");
        }
        else
        {
            foreach ((string app, AppWorkload w) in Apps)
            {
                if (!IsDnsLabel(app))
                {
                    errors.Add($"apps: '{app}' must be a DNS-1123 label");
                }

                int longestSite = Sites?.Count > 0 ? Sites.Max(s => s.Length) : 0;
                if (app.Length + longestSite + 5 > 47)
                {
                    // Pod names add "-<hash>-<suffix>" (16) to the Deployment name and must stay within 63.
                    errors.Add($"apps: '{app}' with site names up to {longestSite} characters makes object names too long");
                }

                if (w is null || (!w.AdoptOnly && string.IsNullOrWhiteSpace(w.Image)))
                {
                    errors.Add($"apps.{app}.image: is required");
                    continue;
                }

                if (w.Port is < 1 or > 65535)
                {
                    errors.Add($"apps.{app}.port: must be 1 to 65535");
                }

                if (string.IsNullOrEmpty(w.ReadinessPath) || w.ReadinessPath[0] != '/')
                {
                    errors.Add($"apps.{app}.readinessPath: must start with '/'");
                }

                if (!(w.WarmupSeconds >= 0) || double.IsInfinity(w.WarmupSeconds))
                {
                    errors.Add($"apps.{app}.warmupSeconds: must be zero or positive");
                }

                if (!(w.WarmupStartCapacity > 0 && w.WarmupStartCapacity <= 1))
                {
                    errors.Add($"apps.{app}.warmupStartCapacity: must be in (0, 1]");
                }

                foreach ((string field, string? quantity) in new[]
                         { ("cpuRequest", w.CpuRequest), ("memoryRequest", w.MemoryRequest), ("cpuLimit", w.CpuLimit), ("memoryLimit", w.MemoryLimit) })
                {
                    if (quantity is not null && !Quantity().IsMatch(quantity))
                    {
                        errors.Add($"apps.{app}.{field}: '{quantity}' is not a Kubernetes quantity");
                    }
                }
            }
        }

        if (TrafficMode != TrafficMode.ServiceSelector && (Gateway is null || string.IsNullOrWhiteSpace(Gateway.Name)))
        {
            errors.Add("gateway: a parent Gateway name is required unless trafficMode is ServiceSelector");
        }

        if (DrainGracePeriod < TimeSpan.Zero || DrainGracePeriod > TimeSpan.FromHours(1))
        {
            errors.Add("drainGracePeriod: must be between 0 and 1 hour");
        }

        if (RequestTimeout <= TimeSpan.Zero)
        {
            errors.Add("requestTimeout: must be positive");
        }

        if (ConflictRetries < 1)
        {
            errors.Add("conflictRetries: must be at least 1");
        }

        if (WriteVisibility <= TimeSpan.Zero)
        {
            errors.Add("writeVisibility: must be positive");
        }

        return errors;
    }

    internal static bool IsDnsLabel(string? value) => value is { Length: > 0 and <= 63 } && DnsLabel().IsMatch(value);

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex(@"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")]
    private static partial Regex LabelKey();

    [GeneratedRegex(@"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$")]
    private static partial Regex Quantity();
}
