using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Foresight.Orchestration;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// <see cref="IOrchestrator"/> on a Kubernetes cluster, through KubernetesClient.
/// <para>
/// Objects: one Deployment and one Service per (app, site), named <c>&lt;app&gt;-&lt;site&gt;</c>, the Deployment pinned to the
/// site by required node affinity on <see cref="KubernetesOrchestratorOptions.SiteLabelKey"/>. Traffic of an app entering at a
/// site is one HTTPRoute <c>&lt;app&gt;-via-&lt;site&gt;</c> whose backendRefs weight the per-site Services (or, without Gateway
/// API, one Service of that name with a selector). An instance is one pod.
/// </para>
/// <para>
/// Spin-up: the request is recorded as a claim in the Deployment's instance registry annotation in the same patch
/// (with resourceVersion precondition) that raises spec.replicas by one; the claim is then bound to the first pod
/// that appears after it (label <see cref="Names.InstanceLabel"/>). Until then the instance is Pending. When an
/// HPA (autoscaling/v2) targets the Deployment a spin-up raises the HPA's minReplicas to one more than the current
/// replicas (the predictive floor, see <see cref="SetPredictiveFloorAsync"/>) and the HPA scales; only at zero replicas,
/// where an HPA does not act, does the claim's patch also set spec.replicas (to the floor). Stopping lowers the floor
/// again, never below the HPA's own minReplicas.
/// </para>
/// <para>
/// Drain: the pod leaves the per-site Service (label <see cref="Names.ServingLabel"/>=false), gets a low
/// pod-deletion-cost and a draining-since annotation. Stop: the lowest pod-deletion-cost, then replicas down by one in
/// the same patch that tombstones the instance, and the ReplicaSet deletes that pod, whose terminationGracePeriodSeconds
/// lets in-flight requests finish (see <see cref="StopCoreAsync"/>: a stop never races the ReplicaSet).
/// </para>
/// <para>
/// Reads come from list+watch caches (pods, Deployments, Services, HPAs, HTTPRoutes); when a watch is down,
/// reads list directly. Objects returned by our own writes are visible at once.
/// </para>
/// </summary>
public sealed partial class KubernetesOrchestrator : IOrchestrator, IAsyncDisposable
{
    private static readonly JsonSerializerOptions s_weightsJson = new();
    private static readonly JsonSerializerOptions s_patchJson = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly IKubernetes _client;
    private readonly KubernetesOrchestratorOptions _options;
    private readonly TimeProvider _time;
    private readonly Manifests _manifests;
    private readonly KubeApi _api;
    private readonly SemaphoreSlim _startGate = new(1, 1);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _workloadGates = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _appliedServices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, InstanceState> _furthest = new(StringComparer.Ordinal);
    private readonly HashSet<string> _sites;

    // Deployment name -> (app, site): a Deployment named <app>-<site> is that workload, labelled by us or not.
    private readonly Dictionary<string, (string App, string Site)> _workloads = new(StringComparer.Ordinal);
    private Caches? _caches;

    public KubernetesOrchestrator(IKubernetes client, KubernetesOrchestratorOptions options, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        IReadOnlyList<string> errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException("Invalid Kubernetes orchestrator options: " + string.Join("; ", errors), nameof(options));
        }

        _client = client;
        _options = options;
        _time = timeProvider ?? TimeProvider.System;
        _manifests = new Manifests(options);
        _api = new KubeApi(options.RequestTimeout);
        _sites = new HashSet<string>(options.Sites, StringComparer.Ordinal);
        foreach (string app in options.Apps.Keys.Order(StringComparer.Ordinal))
        {
            foreach (string site in options.Sites)
            {
                _workloads.TryAdd(Names.Workload(app, site), (app, site));
            }
        }
    }

    /// <summary>A client from a kubeconfig file, or the in-cluster service account when <paramref name="kubeconfigPath"/> is null and it runs in a pod.</summary>
    public static IKubernetes CreateClient(string? kubeconfigPath = null)
    {
        KubernetesClientConfiguration config = kubeconfigPath is null && KubernetesClientConfiguration.IsInCluster()
            ? KubernetesClientConfiguration.InClusterConfig()
            : KubernetesClientConfiguration.BuildConfigFromConfigFile(kubeconfigPath);
        return new k8s.Kubernetes(config);
    }

    public KubernetesOrchestratorOptions Options => _options;

    public Manifests Manifests => _manifests;

    /// <summary>The traffic mode in use: <see cref="TrafficMode.Auto"/> until the first call has detected Gateway API.</summary>
    public TrafficMode EffectiveTrafficMode => _caches?.Mode ?? _options.TrafficMode;

    /// <summary>Detects Gateway API (in Auto mode) and fills the caches. Every operation calls it first.</summary>
    public async ValueTask StartAsync(CancellationToken cancellationToken)
    {
        if (_caches is not null)
        {
            return;
        }

        await _startGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_caches is not null)
            {
                return;
            }

            TrafficMode mode = _options.TrafficMode == TrafficMode.Auto
                ? await DetectTrafficModeAsync(cancellationToken).ConfigureAwait(false)
                : _options.TrafficMode;
            var caches = new Caches(mode, CreateCaches(mode));
            try
            {
                foreach (IStartable cache in caches.All)
                {
                    await cache.StartAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch
            {
                await caches.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            _caches = caches;
        }
        finally
        {
            _startGate.Release();
        }
    }

    public async ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        RequireWorkload(request.App, request.SiteId);
        if (string.IsNullOrEmpty(request.RequestId))
        {
            throw new OrchestratorException("A spin-up request needs a request id.", isTransient: false);
        }

        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        string name = Names.Workload(request.App, request.SiteId);
        SemaphoreSlim gate = _workloadGates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await EnsureSiteServiceAsync(request.App, request.SiteId, cancellationToken).ConfigureAwait(false);
            string entryId = await KubeApi.RetryOnConflictAsync($"spin up {name}", _options.ConflictRetries, async attempt =>
            {
                V1Deployment deployment = await GetOrCreateDeploymentAsync(request.App, request.SiteId, fresh: attempt > 0, cancellationToken)
                    .ConfigureAwait(false);
                InstanceRegistry registry = Registry(deployment);
                V2HorizontalPodAutoscaler? hpa = FindHpa(c, name);
                if (registry.ByRequest(request.RequestId) is { } existing)
                {
                    // Repeated request: re-assert the floor in case the first attempt died between its two writes.
                    if (hpa is not null && existing.Floor is int f && existing.Pod is null && existing.StoppedAt is null)
                    {
                        await SetFloorAsync(hpa, f, cancellationToken).ConfigureAwait(false);
                    }

                    return existing.Id;
                }

                int replicas = deployment.Spec.Replicas ?? 1;
                int? floor = hpa is null ? null : Math.Max(hpa.Spec.MinReplicas ?? 1, replicas + 1);
                DateTimeOffset now = _time.GetUtcNow();
                registry.Prune(now);
                IEnumerable<string> existingPods = PodsOf(c, request.App, request.SiteId).Select(p => p.Metadata.Name);
                RegistryEntry claim = registry.AddClaim(name, request.RequestId, now, existingPods, floor);
                JsonObject patch = RegistryPatch(deployment, registry);
                if (hpa is null)
                {
                    patch["spec"] = new JsonObject { ["replicas"] = replicas + 1 };
                }
                else if (replicas == 0)
                {
                    // An HPA does not scale a target at zero replicas ("scaling is disabled since the replica count of the
                    // target is zero"), so a raised floor alone would never bring a pod: scale to the floor ourselves, in
                    // the claim's patch; from one replica on the HPA owns the count again.
                    patch["spec"] = new JsonObject { ["replicas"] = floor };
                }

                await PatchDeploymentAsync(name, patch, cancellationToken).ConfigureAwait(false);
                if (hpa is not null && floor is int newFloor)
                {
                    await SetFloorAsync(hpa, newFloor, cancellationToken).ConfigureAwait(false);
                }

                return claim.Id;
            }).ConfigureAwait(false);

            await BindAsync(c, cancellationToken).ConfigureAwait(false);
            return Describe(c, new InstanceId(entryId)) ?? throw new InstanceNotFoundException(new InstanceId(entryId));
        }
        finally
        {
            gate.Release();
        }
    }

    public async ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken)
    {
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        Task deadline = Task.Delay(timeout, _time, stop.Token);
        try
        {
            while (true)
            {
                Task changed = Task.WhenAny(c.Pods.Changed, c.Deployments.Changed);
                await BindAsync(c, cancellationToken).ConfigureAwait(false);
                InstanceInfo info = Describe(c, id) ?? throw new InstanceNotFoundException(id);
                switch (info.State)
                {
                    case InstanceState.Ready:
                        return info;
                    case InstanceState.Failed:
                        throw new OrchestratorException($"Instance '{id}' failed: {info.FailureReason}", isTransient: false);
                    case InstanceState.Draining or InstanceState.Stopped:
                        throw new OrchestratorException($"Instance '{id}' is {info.State} and will not become ready.", isTransient: false);
                }

                // Warming ends by the clock alone, with no API change to wake us.
                Task warm = info is { State: InstanceState.Warming, ReadyAt: { } at }
                    ? Task.Delay(Max(at - _time.GetUtcNow(), TimeSpan.Zero), _time, stop.Token)
                    : Task.Delay(Timeout.InfiniteTimeSpan, stop.Token);
                Task woke = await Task.WhenAny(changed, deadline, warm).ConfigureAwait(false);
                if (woke == deadline)
                {
                    await deadline.ConfigureAwait(false);
                    throw new TimeoutException($"Instance '{id}' was not ready within {timeout}.");
                }
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
        }
    }

    public async ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(route);
        if (!_options.Apps.ContainsKey(route.App))
        {
            throw new OrchestratorException($"Unknown app '{route.App}'.", isTransient: false);
        }

        if (!_sites.Contains(route.IngressSiteId))
        {
            throw new OrchestratorException($"Unknown ingress site '{route.IngressSiteId}'.", isTransient: false);
        }

        foreach (SiteWeight w in route.Weights)
        {
            if (!_sites.Contains(w.SiteId))
            {
                throw new OrchestratorException($"Route names unknown site '{w.SiteId}'.", isTransient: false);
            }

            if (!(w.Weight >= 0) || double.IsInfinity(w.Weight))
            {
                throw new OrchestratorException($"Route weight for '{w.SiteId}' must be a finite non-negative number.", isTransient: false);
            }
        }

        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        IReadOnlyList<(string Site, int Weight)> weights = IntegerWeights(route.Weights);
        foreach ((string site, _) in weights)
        {
            await EnsureSiteServiceAsync(route.App, site, cancellationToken).ConfigureAwait(false);
        }

        string name = Names.Ingress(route.App, route.IngressSiteId);
        if (c.Mode == TrafficMode.GatewayApi)
        {
            HttpRoute desired = _manifests.Route(route.App, route.IngressSiteId, weights);
            HttpRoute applied = await _api.CallAsync($"apply HTTPRoute {name}", ct => _client.CustomObjects.PatchNamespacedCustomObjectAsync<HttpRoute>(
                new V1Patch(desired, V1Patch.PatchType.ApplyPatch), HttpRoute.Group, HttpRoute.Version, _options.Namespace, HttpRoute.Plural, name,
                fieldManager: _options.FieldManager, force: true, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            c.Routes!.Upsert(applied);
        }
        else
        {
            // Label the newly weighted sites' pods before the Service selects by the label, and unlabel the others after,
            // so that no pod of an unweighted site is ever selected.
            string json = JsonSerializer.Serialize(weights.ToDictionary(w => w.Site, w => w.Weight), s_weightsJson);
            IReadOnlySet<string> via = ViaSites(weights);
            await LabelViaAsync(c, route.App, route.IngressSiteId, via, unlabelOthers: false, cancellationToken).ConfigureAwait(false);
            V1Service desired = _manifests.IngressService(route.App, route.IngressSiteId, weights, json);
            V1Service applied = await ApplyServiceAsync(desired, cancellationToken).ConfigureAwait(false);
            c.Services.Upsert(applied);
            await LabelViaAsync(c, route.App, route.IngressSiteId, via, unlabelOthers: true, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken)
    {
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        await BindAsync(c, cancellationToken).ConfigureAwait(false);
        Located loc = Locate(c, id.Value) ?? throw new InstanceNotFoundException(id);
        InstanceInfo info = Map(loc);
        if (info.State is InstanceState.Draining or InstanceState.Stopped)
        {
            return;
        }

        DateTimeOffset now = _time.GetUtcNow();
        if (loc.Pod is not null)
        {
            await PatchPodAsync(c, loc.Pod.Metadata.Name, DrainPatch(now), cancellationToken).ConfigureAwait(false);
            return;
        }

        // A claim still waiting for its pod: remember the drain; the pod is marked when it binds.
        await UpdateRegistryAsync(c, loc, (registry, _) =>
        {
            registry.ById(id.Value)!.DrainingAt ??= now;
            return null;
        }, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken)
    {
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        await BindAsync(c, cancellationToken).ConfigureAwait(false);
        Located loc = Locate(c, id.Value) ?? throw new InstanceNotFoundException(id);
        await StopCoreAsync(c, loc, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A stop that cannot race the ReplicaSet. Deleting the pod and lowering spec.replicas at once does: a ReplicaSet that
    /// sees the deletion before the Deployment controller has passed on the new count replaces the pod, and a short-lived
    /// extra pod appears. So:
    /// <list type="number">
    /// <item>mark the pod (stopped, out of the Services, the lowest pod-deletion-cost);</item>
    /// <item>tombstone the instance and, in the same patch, lower spec.replicas by one (under an HPA, then lower its floor)
    /// when the ReplicaSet's scale-down would take this pod; when it would take another, less ready pod first (its
    /// ranking puts unscheduled, pending and not-ready pods before the deletion cost), the replica is held and given back
    /// on a later call, once this pod is first;</item>
    /// <item>let the ReplicaSet delete the pod (gracefully, with the template's terminationGracePeriodSeconds); we delete
    /// it only if the ReplicaSet has settled at the new count and the pod is still there.</item>
    /// </list>
    /// Each step is skipped when already done, so a stop that died half-way is finished by the next call or by orphan
    /// collection (<see cref="ObserveAsync"/>).
    /// </summary>
    private async Task StopCoreAsync(Caches c, Located loc, CancellationToken cancellationToken)
    {
        string id = loc.Entry?.Id ?? loc.Pod!.Metadata.Name;
        DateTimeOffset now = _time.GetUtcNow();
        V1Pod? pod = loc.Pod;
        bool podLive = pod is not null && pod.Metadata.DeletionTimestamp is null;
        if (pod is not null && podLive
            && (pod.Metadata.Annotations?.ContainsKey(Names.StoppedAnnotation) != true
                || !(pod.Metadata.Annotations.TryGetValue(Names.PodDeletionCostAnnotation, out string? cost) && cost == Names.StoppedDeletionCost)))
        {
            // Mark first, so that whichever of the next writes a crash interrupts, the pod is the one to go.
            JsonObject mark = DrainPatch(now);
            JsonObject annotations = mark["metadata"]!["annotations"]!.AsObject();
            annotations[Names.StoppedAnnotation] = pod.Metadata.Annotations?.TryGetValue(Names.StoppedAnnotation, out string? at) == true ? at : Stamp(now);
            annotations[Names.PodDeletionCostAnnotation] = Names.StoppedDeletionCost;
            if (pod.Metadata.Annotations?.ContainsKey(Names.DrainingSinceAnnotation) == true)
            {
                annotations.Remove(Names.DrainingSinceAnnotation);
            }

            await PatchPodAsync(c, pod.Metadata.Name, mark, cancellationToken).ConfigureAwait(false);
        }

        if (loc.Entry?.StoppedAt is null)
        {
            bool holdsReplica = podLive || (pod is null && loc.Entry is { Pod: null });
            bool giveBack = holdsReplica && (!podLive || FirstToGo(c, loc, pod!));
            bool gaveBack = false;
            await UpdateRegistryAsync(c, loc, (registry, deployment) =>
            {
                // A pod no spin-up of ours made (the user's own replicas) has no entry yet: its new tombstone still has
                // the replica to give back; only an entry stopped before this call has nothing left to do here.
                RegistryEntry? known = registry.ById(id);
                if (known?.StoppedAt is not null)
                {
                    return null;
                }

                RegistryEntry entry = known ?? registry.AddTombstone(id, Time(pod?.Metadata.CreationTimestamp) ?? now, now);
                entry.StoppedAt = now;
                entry.Pod ??= pod?.Metadata.Name;
                entry.ReplicaHeld = holdsReplica && !giveBack ? true : null;
                gaveBack = giveBack;
                return giveBack ? Math.Max(0, (deployment.Spec.Replicas ?? 1) - 1) : null;
            }, cancellationToken).ConfigureAwait(false);

            if (gaveBack && FindHpa(c, loc.Deployment.Metadata.Name) is { } hpa)
            {
                await LowerFloorAsync(hpa, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (pod is null || !podLive)
        {
            if (loc.Entry.ReplicaHeld == true)
            {
                // The pod went without our scale-down (deleted by hand, or by a scale-down someone else made): there is
                // no replica left to give back.
                await UpdateRegistryAsync(c, loc, (registry, _) =>
                {
                    if (registry.ById(id) is { } entry)
                    {
                        entry.ReplicaHeld = null;
                    }

                    return null;
                }, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        if (loc.Entry.ReplicaHeld == true)
        {
            if (!FirstToGo(c, loc, pod))
            {
                return;
            }

            bool gaveBack = false;
            await UpdateRegistryAsync(c, loc, (registry, deployment) =>
            {
                if (registry.ById(id) is not { ReplicaHeld: true } entry)
                {
                    return null;
                }

                entry.ReplicaHeld = null;
                gaveBack = true;
                return Math.Max(0, (deployment.Spec.Replicas ?? 1) - 1);
            }, cancellationToken).ConfigureAwait(false);

            if (gaveBack && FindHpa(c, loc.Deployment.Metadata.Name) is { } hpa)
            {
                await LowerFloorAsync(hpa, cancellationToken).ConfigureAwait(false);
            }

            return;
        }

        // The replica was given back. Normally the ReplicaSet deletes this pod; if it has settled at the new count and the
        // pod is still here, it took another one (its ranking changed under us), and this pod must go by hand.
        if (c.Deployments.Get(loc.Deployment.Metadata.Name) is { } current && Settled(current))
        {
            await DeletePodAsync(c, pod.Metadata.Name, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Whether the ReplicaSet, scaling down by one, would take <paramref name="victim"/> (marked with the lowest
    /// pod-deletion-cost) before every other live pod of the Deployment that is not being stopped too. Its ranking
    /// (ActivePodsWithRanks in kube-controller-manager) compares, in order: unscheduled before scheduled, Pending before
    /// Unknown before Running, not ready before ready, then the lower pod-deletion-cost; ties after that are decided by
    /// things we cannot see (co-located pods, ready time, restarts, age), so only a strict win counts.
    /// </summary>
    private bool FirstToGo(Caches c, Located loc, V1Pod victim)
    {
        (int Unscheduled, int Phase, int Ready, int _) rank = DeletionRank(victim);
        (int, int, int, int) mine = (rank.Unscheduled, rank.Phase, rank.Ready, int.MinValue);
        var stopping = new HashSet<string>(
            Registry(c.Deployments.Get(loc.Deployment.Metadata.Name) ?? loc.Deployment).Entries
                .Where(e => e.StoppedAt is not null && e.Pod is not null).Select(e => e.Pod!),
            StringComparer.Ordinal);
        return PodsOf(c, loc.App, loc.Site)
            .Where(p => p.Metadata.Name != victim.Metadata.Name && Active(p) && !stopping.Contains(p.Metadata.Name)
                && p.Metadata.Annotations?.ContainsKey(Names.StoppedAnnotation) != true)
            .All(p => mine.CompareTo(DeletionRank(p)) < 0);
    }

    private static (int Unscheduled, int Phase, int Ready, int Cost) DeletionRank(V1Pod pod)
    {
        int phase = pod.Status?.Phase switch { "Unknown" => 1, "Running" => 2, _ => 0 };
        bool ready = pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;
        int cost = pod.Metadata.Annotations?.TryGetValue(Names.PodDeletionCostAnnotation, out string? v) == true
            && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : 0;
        return (string.IsNullOrEmpty(pod.Spec?.NodeName) ? 0 : 1, phase, ready ? 1 : 0, cost);
    }

    /// <summary>
    /// Pods their ReplicaSet is about to remove: where a Deployment has more live pods than spec.replicas, the surplus
    /// in the ReplicaSet's order (as <see cref="FirstToGo"/>, then newer before older). Such a pod appears when a
    /// ReplicaSet acts on a count the Deployment has already lowered, e.g. for a claim stopped before its pod existed.
    /// </summary>
    private HashSet<string> LeavingPods(Caches c)
    {
        var leaving = new HashSet<string>(StringComparer.Ordinal);
        foreach (V1Deployment deployment in c.Deployments.List())
        {
            if (WorkloadOf(deployment) is not (string app, string site))
            {
                continue;
            }

            var active = PodsOf(c, app, site).Where(Active).ToList();
            int surplus = active.Count - (deployment.Spec.Replicas ?? 1);
            foreach (V1Pod pod in active.OrderBy(DeletionRank).ThenByDescending(p => p.Metadata.CreationTimestamp).Take(Math.Max(0, surplus)))
            {
                leaving.Add(pod.Metadata.Name);
            }
        }

        return leaving;
    }

    /// <summary>A pod the ReplicaSet counts: not terminating, not finished.</summary>
    private static bool Active(V1Pod pod) =>
        pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase is not ("Failed" or "Succeeded");

    /// <summary>The Deployment controller has seen the latest spec and its pods number what the spec asks.</summary>
    private static bool Settled(V1Deployment deployment) =>
        deployment.Status is { } status
        && (status.ObservedGeneration ?? 0) >= (deployment.Metadata.Generation ?? 0)
        && (status.Replicas ?? 0) == (deployment.Spec.Replicas ?? 1);

    public async ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken)
    {
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        await RefreshUnhealthyAsync(c, cancellationToken).ConfigureAwait(false);
        await BindAsync(c, cancellationToken).ConfigureAwait(false);
        await CollectOrphansAsync(c, cancellationToken).ConfigureAwait(false);

        var instances = new List<InstanceInfo>();
        var known = new HashSet<string>(StringComparer.Ordinal);
        HashSet<string> leaving = LeavingPods(c);
        foreach (Located loc in LocateAll(c))
        {
            InstanceInfo info = Map(loc);
            known.Add(info.Id.Value);
            if (loc.Entry is null && loc.Pod is not null && leaving.Contains(loc.Pod.Metadata.Name))
            {
                // A pod no spin-up asked for that its ReplicaSet is about to remove is no instance.
                continue;
            }

            if (info.State != InstanceState.Stopped)
            {
                instances.Add(info);
            }
        }

        foreach (string gone in _furthest.Keys.Where(k => !known.Contains(k)).ToList())
        {
            _furthest.TryRemove(gone, out _);
        }

        IReadOnlyList<Route> routes = c.Mode == TrafficMode.GatewayApi ? GatewayRoutes(c) : SelectorRoutes(c);
        if (c.Mode == TrafficMode.ServiceSelector)
        {
            // Pods that started since a route was set join its Service only through their via label.
            foreach (Route r in routes)
            {
                await LabelViaAsync(c, r.App, r.IngressSiteId, ViaSites(IntegerWeights(r.Weights)), unlabelOthers: true, cancellationToken).ConfigureAwait(false);
            }
        }

        var servers = LocateAll(c)
            .Where(l => !string.IsNullOrEmpty(l.Pod?.Spec?.NodeName))
            .DistinctBy(l => l.Pod!.Metadata.Name, StringComparer.Ordinal)
            .GroupBy(l => l.Pod!.Spec.NodeName)
            .Select(g => new ServerInfo(g.Key, g.First().Site, 0, g.Sum(l => CpuRequest(l.Pod!)), Up: true))
            .OrderBy(s => s.Id, StringComparer.Ordinal)
            .ToList();
        return new ClusterSnapshot(_time.GetUtcNow(), instances.OrderBy(i => i.Id.Value, StringComparer.Ordinal).ToList(), routes, servers)
        {
            Autoscaled = AutoscaledSites(c),
        };
    }

    /// <summary>
    /// Raises the minReplicas of the HPA that scales (app, site) to at least <paramref name="minReplicas"/> (capped at its
    /// maxReplicas), ahead of a predicted shift. The HPA's own minReplicas is kept in <see cref="Names.OriginalMinReplicasAnnotation"/>
    /// the first time, and the floor never goes below it. The floor set and <paramref name="holdUntil"/> (when it may be
    /// restored) are recorded on the HPA too, so that a new leader can restore a floor it did not raise.
    /// Returns false when no HPA targets the Deployment.
    /// </summary>
    public async ValueTask<bool> SetPredictiveFloorAsync(
        string app, string site, int minReplicas, DateTimeOffset? holdUntil, CancellationToken cancellationToken) =>
        await RaisePredictiveFloorAsync(app, site, minReplicas, holdUntil, cancellationToken).ConfigureAwait(false) is not null;

    /// <summary>
    /// As <see cref="SetPredictiveFloorAsync(string, string, int, DateTimeOffset?, CancellationToken)"/>, returning the
    /// minReplicas now in force: less than <paramref name="minReplicas"/> when the HPA's maxReplicas capped it, more when
    /// the HPA's own minimum is higher. Null when no HPA targets the Deployment.
    /// </summary>
    public async ValueTask<int?> RaisePredictiveFloorAsync(
        string app, string site, int minReplicas, DateTimeOffset? holdUntil, CancellationToken cancellationToken)
    {
        RequireWorkload(app, site);
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        V2HorizontalPodAutoscaler? hpa = FindHpa(c, Names.Workload(app, site));
        if (hpa is null)
        {
            return null;
        }

        return await SetFloorAsync(hpa, minReplicas, holdUntil, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc cref="SetPredictiveFloorAsync(string, string, int, DateTimeOffset?, CancellationToken)"/>
    public ValueTask<bool> SetPredictiveFloorAsync(string app, string site, int minReplicas, CancellationToken cancellationToken) =>
        SetPredictiveFloorAsync(app, site, minReplicas, holdUntil: null, cancellationToken);

    /// <summary>Puts back the HPA's own minReplicas after a predicted shift. Returns false when there was nothing to restore.</summary>
    public async ValueTask<bool> RestorePredictiveFloorAsync(string app, string site, CancellationToken cancellationToken)
    {
        RequireWorkload(app, site);
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        V2HorizontalPodAutoscaler? hpa = FindHpa(c, Names.Workload(app, site));
        if (hpa is null || OriginalMin(hpa) is null)
        {
            return false;
        }

        // The user's minimum now, not necessarily the one recorded when the floor went up (see UserMin).
        await PatchHpaAsync(hpa, fresh => UserMin(fresh) is int own ? new FloorPatch(own, null, null) : null, cancellationToken).ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        if (_caches is not null)
        {
            await _caches.DisposeAsync().ConfigureAwait(false);
        }

        _startGate.Dispose();
    }

    /// <summary>Test hook: completes once every cache has seen <paramref name="resourceVersion"/> (numeric, as the fake server issues them).</summary>
    internal async Task WaitForResourceVersionAsync(long resourceVersion, CancellationToken cancellationToken)
    {
        Caches c = await CachesAsync(cancellationToken).ConfigureAwait(false);
        foreach (IStartable cache in c.All)
        {
            while (true)
            {
                Task changed = cache.Changed;
                if (long.TryParse(cache.ResourceVersion, out long seen) && seen >= resourceVersion)
                {
                    break;
                }

                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---- reading -------------------------------------------------------------------------------------------

    private sealed record Located(string App, string Site, V1Deployment Deployment, RegistryEntry? Entry, V1Pod? Pod);

    private IEnumerable<Located> LocateAll(Caches c)
    {
        foreach (V1Deployment deployment in c.Deployments.List())
        {
            if (WorkloadOf(deployment) is not (string app, string site))
            {
                continue;
            }

            InstanceRegistry registry = Registry(deployment);
            var pods = PodsOf(c, app, site).ToList();
            var claimedPods = new HashSet<string>(StringComparer.Ordinal);
            foreach (RegistryEntry entry in registry.Entries)
            {
                V1Pod? pod = PodOf(pods, entry);
                if (pod is not null)
                {
                    claimedPods.Add(pod.Metadata.Name);
                }

                yield return new Located(app, site, deployment, entry, pod);
            }

            foreach (V1Pod pod in pods.Where(p => !claimedPods.Contains(p.Metadata.Name)))
            {
                yield return new Located(app, site, deployment, null, pod);
            }
        }
    }

    private Located? Locate(Caches c, string id) =>
        LocateAll(c).FirstOrDefault(l => (l.Entry?.Id ?? l.Pod?.Metadata.Name) == id);

    private InstanceInfo? Describe(Caches c, InstanceId id) => Locate(c, id.Value) is { } loc ? Map(loc) : null;

    private InstanceInfo Map(Located loc)
    {
        string id = loc.Entry?.Id ?? loc.Pod!.Metadata.Name;
        InstanceInfo info = InstanceStateMapper.Map(id, loc.App, loc.Site, loc.Pod, loc.Entry, _options.Apps[loc.App], _time.GetUtcNow());

        // The port promises states never go backwards; a pod whose readiness flaps stays Ready with no capacity.
        InstanceState furthest = _furthest.AddOrUpdate(id, info.State, (_, seen) => info.State > seen ? info.State : seen);
        return info.State < furthest && info.State is not (InstanceState.Failed or InstanceState.Stopped)
            ? info with { State = furthest, CapacityFraction = 0 }
            : info;
    }

    private static V1Pod? PodOf(IReadOnlyList<V1Pod> pods, RegistryEntry entry) =>
        pods.FirstOrDefault(p => p.Metadata.Labels?.TryGetValue(Names.InstanceLabel, out string? v) == true && v == entry.Id)
        ?? (entry.Pod is null ? null : pods.FirstOrDefault(p => p.Metadata.Name == entry.Pod));

    /// <summary>
    /// The pods of the (app, site) workload: those its Deployment's ReplicaSets own (a user's Deployment labels its pods
    /// as it likes), and those carrying our app and site labels.
    /// </summary>
    private static IEnumerable<V1Pod> PodsOf(Caches c, string app, string site)
    {
        string deployment = Names.Workload(app, site);
        return c.Pods.List().Where(p => OwnedBy(p, deployment) || (p.Metadata.Labels is { } l
            && l.TryGetValue(Names.AppLabel, out string? a) && a == app
            && l.TryGetValue(Names.SiteLabel, out string? s) && s == site));
    }

    /// <summary>
    /// Whether a ReplicaSet of <paramref name="deployment"/> controls the pod: the Deployment controller names its
    /// ReplicaSets <c>&lt;deployment&gt;-&lt;pod-template-hash&gt;</c> and labels their pods with that hash.
    /// </summary>
    internal static bool OwnedBy(V1Pod pod, string deployment)
    {
        if (pod.Metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true) is not { Kind: "ReplicaSet" } owner
            || owner.Name is not { } rs || rs.Length <= deployment.Length + 1 || !rs.StartsWith(deployment + "-", StringComparison.Ordinal))
        {
            return false;
        }

        string hash = rs[(deployment.Length + 1)..];
        return pod.Metadata.Labels?.TryGetValue("pod-template-hash", out string? h) == true ? h == hash : !hash.Contains('-', StringComparison.Ordinal);
    }

    /// <summary>
    /// The (app, site) a Deployment is the workload of: by its name <c>&lt;app&gt;-&lt;site&gt;</c>, whether we created it
    /// (our labels) or the user did (adopted as it is: the README's setup of one Deployment and HPA per site).
    /// </summary>
    private (string App, string Site)? WorkloadOf(V1Deployment deployment)
    {
        IDictionary<string, string>? labels = deployment.Metadata.Labels;
        if (labels is not null && labels.TryGetValue(Names.AppLabel, out string? app) && labels.TryGetValue(Names.SiteLabel, out string? site)
            && _options.Apps.ContainsKey(app) && _sites.Contains(site) && deployment.Metadata.Name == Names.Workload(app, site))
        {
            return (app, site);
        }

        return _workloads.TryGetValue(deployment.Metadata.Name, out var workload) ? workload : null;
    }

    private static bool IsOurs(V1Deployment deployment) =>
        deployment.Metadata.Labels?.TryGetValue(Names.ManagedByLabel, out string? by) == true && by == Names.ManagedByValue;

    private IReadOnlyList<Route> GatewayRoutes(Caches c)
    {
        var routes = new List<Route>();
        foreach (HttpRoute r in c.Routes!.List())
        {
            if (!TryIngress(r.Metadata, out string app, out string ingress))
            {
                continue;
            }

            var weights = r.Spec.Rules.SelectMany(rule => rule.BackendRefs)
                .Select(b => (Site: _options.Sites.FirstOrDefault(s => Names.Workload(app, s) == b.Name), Weight: b.Weight ?? 1))
                .Where(w => w.Site is not null)
                .Select(w => new SiteWeight(w.Site!, w.Weight))
                .ToList();
            routes.Add(new Route(app, ingress, weights));
        }

        return routes;
    }

    private IReadOnlyList<Route> SelectorRoutes(Caches c)
    {
        var routes = new List<Route>();
        foreach (V1Service svc in c.Services.List())
        {
            if (!TryIngress(svc.Metadata, out string app, out string ingress)
                || svc.Metadata.Annotations?.TryGetValue(Names.WeightsAnnotation, out string? json) != true)
            {
                continue;
            }

            Dictionary<string, int>? weights;
            try
            {
                weights = JsonSerializer.Deserialize<Dictionary<string, int>>(json!, s_weightsJson);
            }
            catch (JsonException)
            {
                continue;
            }

            routes.Add(new Route(app, ingress, (weights ?? []).Select(kv => new SiteWeight(kv.Key, kv.Value)).ToList()));
        }

        return routes;
    }

    private bool TryIngress(V1ObjectMeta meta, out string app, out string ingress)
    {
        app = "";
        ingress = "";
        if (meta.Labels is not { } l || !l.TryGetValue(Names.AppLabel, out string? a) || !l.TryGetValue(Names.IngressSiteLabel, out string? i)
            || meta.Name != Names.Ingress(a, i))
        {
            return false;
        }

        app = a;
        ingress = i;
        return true;
    }

    private static V2HorizontalPodAutoscaler? FindHpa(Caches c, string deployment) =>
        c.Hpas.List().FirstOrDefault(h => h.Spec?.ScaleTargetRef is { Kind: "Deployment" } t && t.Name == deployment);

    private static int? OriginalMin(V2HorizontalPodAutoscaler hpa) => IntAnnotation(hpa, Names.OriginalMinReplicasAnnotation);

    private static int? RecordedFloor(V2HorizontalPodAutoscaler hpa) => IntAnnotation(hpa, Names.FloorAnnotation);

    /// <summary>
    /// The user's own minReplicas while a floor is raised (null when none is): the recorded original, unless minReplicas
    /// is no longer the floor we wrote. Then the user changed it (say, re-applied their HPA, which keeps our annotations)
    /// and their value is the minimum to keep and to restore, never the older one recorded.
    /// </summary>
    private static int? UserMin(V2HorizontalPodAutoscaler hpa)
    {
        if (OriginalMin(hpa) is not int original)
        {
            return null;
        }

        int min = hpa.Spec.MinReplicas ?? 1;
        return RecordedFloor(hpa) is int floor && floor != min ? min : original;
    }

    private static int? IntAnnotation(V2HorizontalPodAutoscaler hpa, string key) =>
        hpa.Metadata.Annotations?.TryGetValue(key, out string? v) == true
        && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : null;

    private static InstanceRegistry Registry(V1Deployment deployment) =>
        InstanceRegistry.Parse(deployment.Metadata.Annotations?.TryGetValue(Names.RegistryAnnotation, out string? json) == true ? json : null);

    private static double CpuRequest(V1Pod pod) =>
        pod.Spec.Containers.Sum(c => c.Resources?.Requests?.TryGetValue("cpu", out ResourceQuantity? q) == true ? (double)q.ToDecimal() : 0);

    // ---- binding claims to pods ----------------------------------------------------------------------------

    /// <summary>
    /// Binds every waiting claim to the oldest pod of its Deployment that appeared after it and that no other claim
    /// holds, in claim order. The binding is a pod label (authoritative) plus the pod name in the registry.
    /// </summary>
    private async Task BindAsync(Caches c, CancellationToken cancellationToken)
    {
        foreach (V1Deployment deployment in c.Deployments.List())
        {
            if (WorkloadOf(deployment) is not (string app, string site))
            {
                continue;
            }

            InstanceRegistry registry = Registry(deployment);
            var waiting = registry.Entries.Where(e => e.Pod is null && e.StoppedAt is null).OrderBy(e => e.Seq).ToList();
            if (waiting.Count == 0)
            {
                continue;
            }

            var pods = PodsOf(c, app, site).ToList();
            var free = pods
                .Where(p => p.Metadata.DeletionTimestamp is null && p.Metadata.Labels?.ContainsKey(Names.InstanceLabel) != true
                    && p.Metadata.Annotations?.ContainsKey(Names.DrainingSinceAnnotation) != true)
                .OrderBy(p => p.Metadata.CreationTimestamp).ThenBy(p => p.Metadata.Name, StringComparer.Ordinal)
                .ToList();
            var bound = new List<(RegistryEntry Entry, string Pod)>();
            foreach (RegistryEntry claim in waiting)
            {
                if (PodOf(pods, claim) is { } labelled)
                {
                    bound.Add((claim, labelled.Metadata.Name));
                    continue;
                }

                V1Pod? pod = free.FirstOrDefault(p => claim.ExcludePods?.Contains(p.Metadata.Name) != true);
                if (pod is null)
                {
                    continue;
                }

                free.Remove(pod);
                var labels = new JsonObject { [Names.InstanceLabel] = claim.Id };
                var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = labels } };
                if (claim.DrainingAt is { } drainingAt)
                {
                    patch = DrainPatch(drainingAt);
                    patch["metadata"]!["labels"]![Names.InstanceLabel] = claim.Id;
                }

                await PatchPodAsync(c, pod.Metadata.Name, patch, cancellationToken).ConfigureAwait(false);
                bound.Add((claim, pod.Metadata.Name));
            }

            if (bound.Count == 0)
            {
                continue;
            }

            try
            {
                await UpdateRegistryAsync(c, new Located(app, site, deployment, null, null), (fresh, _) =>
                {
                    foreach ((RegistryEntry entry, string pod) in bound)
                    {
                        if (fresh.ById(entry.Id) is { } e)
                        {
                            e.Pod ??= pod;
                            e.ExcludePods = null;
                        }
                    }

                    return null;
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (OrchestratorException e) when (e.IsTransient)
            {
                // The pod labels already hold the binding; the registry catches up on the next pass.
            }
        }
    }

    /// <summary>
    /// Finishes stops: a pod marked stopped, or tombstoned, that is still running (a stop that died half-way, a replica
    /// held until the ReplicaSet would take this pod, or a pod the ReplicaSet left).
    /// </summary>
    private async Task CollectOrphansAsync(Caches c, CancellationToken cancellationToken)
    {
        foreach (Located loc in LocateAll(c).ToList())
        {
            if (loc.Pod is { Metadata.DeletionTimestamp: null } pod
                && (loc.Entry?.StoppedAt is not null || pod.Metadata.Annotations?.ContainsKey(Names.StoppedAnnotation) == true))
            {
                await StopCoreAsync(c, loc, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---- writing -------------------------------------------------------------------------------------------

    private async Task<V1Deployment> GetOrCreateDeploymentAsync(string app, string site, bool fresh, CancellationToken cancellationToken)
    {
        Caches c = _caches!;
        string name = Names.Workload(app, site);
        V1Deployment? deployment = fresh ? null : c.Deployments.Get(name);
        deployment ??= await _api.GetOrNullAsync($"get Deployment {name}",
            ct => _client.AppsV1.ReadNamespacedDeploymentAsync(name, _options.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);

        // Created when missing; re-templated only when ours: a Deployment the user made (adopted by its name) keeps theirs.
        V1Deployment desired = _manifests.Deployment(app, site, replicas: 0);
        if (deployment is null && _options.Apps[app].AdoptOnly)
        {
            throw new OrchestratorException(
                $"There is no Deployment '{name}' to scale, and no image is configured to create one: deploy '{name}' as at the app's other sites, or set the app's image (kubernetes.apps[].image).",
                isTransient: false);
        }

        if (deployment is null)
        {
            try
            {
                // Created (not applied) with zero replicas: spec.replicas then belongs to an Update manager, so our later
                // applies, which leave replicas out, never reset it, and an HPA can own it.
                deployment = await _api.CallAsync($"create Deployment {name}", ct => _client.AppsV1.CreateNamespacedDeploymentAsync(
                    desired, _options.Namespace, fieldManager: _options.FieldManager, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            }
            catch (KubeStatusException e) when (e.IsConflict)
            {
                deployment = await _api.CallAsync($"get Deployment {name}",
                    ct => _client.AppsV1.ReadNamespacedDeploymentAsync(name, _options.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            }
        }
        else if (IsOurs(deployment)
                 && (deployment.Metadata.Annotations?.TryGetValue(Names.TemplateHashAnnotation, out string? hash) == true ? hash : null) != desired.Metadata.Annotations[Names.TemplateHashAnnotation])
        {
            V1Deployment shape = _manifests.Deployment(app, site, replicas: null);
            deployment = await _api.CallAsync($"apply Deployment {name}", ct => _client.AppsV1.PatchNamespacedDeploymentAsync(
                new V1Patch(shape, V1Patch.PatchType.ApplyPatch), name, _options.Namespace, fieldManager: _options.FieldManager, force: true,
                cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }

        c.Deployments.Upsert(deployment);
        return deployment;
    }

    /// <summary>
    /// Read-modify-write of a Deployment's registry with resourceVersion precondition; <paramref name="change"/>
    /// edits the registry and returns new spec.replicas, or null to leave replicas alone.
    /// </summary>
    private async Task UpdateRegistryAsync(Caches c, Located loc, Func<InstanceRegistry, V1Deployment, int?> change, CancellationToken cancellationToken)
    {
        string name = loc.Deployment.Metadata.Name;
        await KubeApi.RetryOnConflictAsync($"update instances of {name}", _options.ConflictRetries, async attempt =>
        {
            V1Deployment deployment = attempt == 0
                ? c.Deployments.Get(name) ?? loc.Deployment
                : await _api.CallAsync($"get Deployment {name}",
                    ct => _client.AppsV1.ReadNamespacedDeploymentAsync(name, _options.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            InstanceRegistry registry = Registry(deployment);
            int? replicas = change(registry, deployment);
            registry.Prune(_time.GetUtcNow());
            JsonObject patch = RegistryPatch(deployment, registry);
            if (replicas is int r)
            {
                patch["spec"] = new JsonObject { ["replicas"] = r };
            }

            await PatchDeploymentAsync(name, patch, cancellationToken).ConfigureAwait(false);
            return true;
        }).ConfigureAwait(false);
    }

    private static JsonObject RegistryPatch(V1Deployment deployment, InstanceRegistry registry) => new()
    {
        ["metadata"] = new JsonObject
        {
            // The precondition: a concurrent writer makes this patch fail with 409 instead of losing its update.
            ["resourceVersion"] = deployment.Metadata.ResourceVersion,
            ["annotations"] = new JsonObject { [Names.RegistryAnnotation] = registry.ToJson() },
        },
    };

    private async Task PatchDeploymentAsync(string name, JsonObject mergePatch, CancellationToken cancellationToken)
    {
        V1Deployment updated = await _api.CallAsync($"patch Deployment {name}", ct => _client.AppsV1.PatchNamespacedDeploymentAsync(
            new V1Patch(mergePatch.ToJsonString(s_patchJson), V1Patch.PatchType.MergePatch), name, _options.Namespace,
            fieldManager: _options.FieldManager, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        _caches!.Deployments.Upsert(updated);
    }

    private async Task PatchPodAsync(Caches c, string name, JsonObject mergePatch, CancellationToken cancellationToken)
    {
        try
        {
            V1Pod updated = await _api.CallAsync($"patch Pod {name}", ct => _client.CoreV1.PatchNamespacedPodAsync(
                new V1Patch(mergePatch.ToJsonString(s_patchJson), V1Patch.PatchType.MergePatch), name, _options.Namespace,
                fieldManager: _options.FieldManager, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            c.Pods.Upsert(updated);
        }
        catch (KubeStatusException e) when (e.IsNotFound)
        {
            // The pod went away meanwhile; the next read shows why.
        }
    }

    private async Task DeletePodAsync(Caches c, string name, CancellationToken cancellationToken)
    {
        try
        {
            V1Pod deleted = await _api.CallAsync($"delete Pod {name}", ct => _client.CoreV1.DeleteNamespacedPodAsync(
                name, _options.Namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            if (deleted?.Metadata?.Name == name)
            {
                c.Pods.Upsert(deleted);
            }
        }
        catch (KubeStatusException e) when (e.IsNotFound)
        {
        }
    }

    private static JsonObject DrainPatch(DateTimeOffset at) => new()
    {
        ["metadata"] = new JsonObject
        {
            ["labels"] = new JsonObject { [Names.ServingLabel] = "false" },
            ["annotations"] = new JsonObject
            {
                [Names.DrainingSinceAnnotation] = Stamp(at),
                [Names.PodDeletionCostAnnotation] = Names.DrainedDeletionCost,
            },
        },
    };

    private async Task SetFloorAsync(V2HorizontalPodAutoscaler hpa, int minReplicas, CancellationToken cancellationToken) =>
        await SetFloorAsync(hpa, minReplicas, holdUntil: null, cancellationToken).ConfigureAwait(false);

    /// <returns>The minReplicas in force afterwards.</returns>
    private async Task<int> SetFloorAsync(V2HorizontalPodAutoscaler hpa, int minReplicas, DateTimeOffset? holdUntil, CancellationToken cancellationToken)
    {
        int written = 0;
        await PatchHpaAsync(hpa, fresh =>
        {
            int original = UserMin(fresh) ?? fresh.Spec.MinReplicas ?? 1;
            int floor = Math.Min(Math.Max(minReplicas, original), fresh.Spec.MaxReplicas);
            written = floor;
            string? hold = holdUntil is { } h ? Stamp(h) : null;
            bool same = floor == (fresh.Spec.MinReplicas ?? 1) && OriginalMin(fresh) == original && RecordedFloor(fresh) == floor
                && (hold is null || fresh.Metadata.Annotations?.TryGetValue(Names.HoldUntilAnnotation, out string? had) == true && had == hold);
            return same ? null : new FloorPatch(floor, original, hold);
        }, cancellationToken).ConfigureAwait(false);
        return written;
    }

    /// <summary>After a stop: one replica less of floor, and the HPA's own minReplicas back once the floor reaches it.</summary>
    private async Task LowerFloorAsync(V2HorizontalPodAutoscaler hpa, CancellationToken cancellationToken) =>
        await PatchHpaAsync(hpa, fresh =>
        {
            if (UserMin(fresh) is not int original)
            {
                return null;
            }

            int floor = Math.Max(original, (fresh.Spec.MinReplicas ?? 1) - 1);
            return floor == original ? new FloorPatch(original, null, null) : new FloorPatch(floor, original, null);
        }, cancellationToken).ConfigureAwait(false);

    /// <param name="Original">The HPA's own minReplicas while a floor is raised; null: the floor is gone (annotations removed).</param>
    /// <param name="HoldUntil">When the floor may be restored (stamp); null leaves a recorded one as it is.</param>
    private sealed record FloorPatch(int Min, int? Original, string? HoldUntil);

    /// <summary>
    /// Merge patch of an HPA's minReplicas and the floor annotations (original minimum, floor, hold-until; all removed
    /// when the original comes back). A merge patch, not an apply: an apply must carry the HPA's required fields and
    /// would co-own them with the HPA's owner.
    /// </summary>
    private async Task PatchHpaAsync(V2HorizontalPodAutoscaler hpa, Func<V2HorizontalPodAutoscaler, FloorPatch?> decide, CancellationToken cancellationToken)
    {
        string name = hpa.Metadata.Name;
        await KubeApi.RetryOnConflictAsync($"set floor of HPA {name}", _options.ConflictRetries, async attempt =>
        {
            V2HorizontalPodAutoscaler current = attempt == 0 ? hpa : await _api.CallAsync($"get HPA {name}",
                ct => _client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(name, _options.Namespace, cancellationToken: ct),
                cancellationToken).ConfigureAwait(false);
            if (decide(current) is not { } decision)
            {
                return true;
            }

            bool raised = decision.Original is not null;
            var annotations = new JsonObject
            {
                [Names.OriginalMinReplicasAnnotation] = decision.Original?.ToString(CultureInfo.InvariantCulture),
                [Names.FloorAnnotation] = raised ? decision.Min.ToString(CultureInfo.InvariantCulture) : null,
            };
            if (!raised || decision.HoldUntil is not null)
            {
                annotations[Names.HoldUntilAnnotation] = decision.HoldUntil;
            }

            var patch = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["resourceVersion"] = current.Metadata.ResourceVersion,
                    ["annotations"] = annotations,
                },
                ["spec"] = new JsonObject { ["minReplicas"] = decision.Min },
            };
            V2HorizontalPodAutoscaler updated = await _api.CallAsync($"patch HPA {name}", ct => _client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerAsync(
                new V1Patch(patch.ToJsonString(s_patchJson), V1Patch.PatchType.MergePatch), name, _options.Namespace,
                fieldManager: _options.FieldManager, cancellationToken: ct), cancellationToken).ConfigureAwait(false);
            _caches!.Hpas.Upsert(updated);
            return true;
        }).ConfigureAwait(false);
    }

    private async Task EnsureSiteServiceAsync(string app, string site, CancellationToken cancellationToken)
    {
        V1Service desired = _manifests.SiteService(app, site);
        string key = desired.Metadata.Name;
        string shape = KubernetesJson.Serialize(desired);
        if (_appliedServices.TryGetValue(key, out string? applied) && applied == shape && _caches!.Services.Get(key) is not null)
        {
            return;
        }

        V1Service result = await ApplyServiceAsync(desired, cancellationToken).ConfigureAwait(false);
        _caches!.Services.Upsert(result);
        _appliedServices[key] = shape;
    }

    /// <summary>The sites whose pods carry the via label of a selector-mode route: none when one site alone is weighted (the Service pins it).</summary>
    private static IReadOnlySet<string> ViaSites(IReadOnlyList<(string Site, int Weight)> weights)
    {
        var positive = weights.Where(w => w.Weight > 0).Select(w => w.Site).ToHashSet(StringComparer.Ordinal);
        return positive.Count == 1 ? new HashSet<string>(StringComparer.Ordinal) : positive;
    }

    /// <summary>Puts the via label of (app, ingress) on the live pods of <paramref name="sites"/>, and takes it off the others' if asked.</summary>
    private async Task LabelViaAsync(Caches c, string app, string ingress, IReadOnlySet<string> sites, bool unlabelOthers, CancellationToken cancellationToken)
    {
        string key = Names.ViaLabel(ingress);
        var pods = LocateAll(c)
            .Where(l => l.App == app && l.Pod is { Metadata.DeletionTimestamp: null })
            .DistinctBy(l => l.Pod!.Metadata.Name, StringComparer.Ordinal)
            .ToList();
        foreach (Located loc in pods)
        {
            bool want = sites.Contains(loc.Site);
            bool has = loc.Pod!.Metadata.Labels?.TryGetValue(key, out string? v) == true && v == "true";
            if (want != has && (want || unlabelOthers))
            {
                var patch = new JsonObject { ["metadata"] = new JsonObject { ["labels"] = new JsonObject { [key] = want ? "true" : null } } };
                await PatchPodAsync(c, loc.Pod.Metadata.Name, patch, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private Task<V1Service> ApplyServiceAsync(V1Service desired, CancellationToken cancellationToken) =>
        _api.CallAsync($"apply Service {desired.Metadata.Name}", ct => _client.CoreV1.PatchNamespacedServiceAsync(
            new V1Patch(desired, V1Patch.PatchType.ApplyPatch), desired.Metadata.Name, _options.Namespace,
            fieldManager: _options.FieldManager, force: true, cancellationToken: ct), cancellationToken);

    // ---- start-up ------------------------------------------------------------------------------------------

    private async Task<Caches> CachesAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        return _caches!;
    }

    /// <summary>Gateway API is present when its HTTPRoute resource answers; 404 on the group means it is not installed.</summary>
    private async Task<TrafficMode> DetectTrafficModeAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _api.CallAsync("discover Gateway API", ct => _client.CustomObjects.ListNamespacedCustomObjectAsync<HttpRouteList>(
                HttpRoute.Group, HttpRoute.Version, _options.Namespace, HttpRoute.Plural, limit: 1, cancellationToken: ct), cancellationToken)
                .ConfigureAwait(false);
            if (_options.Gateway is null)
            {
                throw new OrchestratorException("Gateway API is installed but no gateway parent is configured.", isTransient: false);
            }

            return TrafficMode.GatewayApi;
        }
        catch (KubeStatusException e) when (e.IsNotFound)
        {
            return TrafficMode.ServiceSelector;
        }
    }

    private async Task RefreshUnhealthyAsync(Caches c, CancellationToken cancellationToken)
    {
        foreach (IStartable cache in c.All.Where(x => !x.Healthy))
        {
            await cache.RelistAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private List<IStartable> CreateCaches(TrafficMode mode)
    {
        string ns = _options.Namespace;
        string managed = Names.ManagedSelector;
        TimeSpan ttl = _options.WriteVisibility;
        var list = new List<IStartable>
        {
            // Pods and Deployments unfiltered: a user's own <app>-<site> Deployment (and its pods) carries none of our
            // labels, yet is the workload of (app, site) (see WorkloadOf and PodsOf).
            new Startable<V1Pod>(new ResourceCache<V1Pod>("pods",
                async ct =>
                {
                    V1PodList l = await _api.CallAsync("list Pods", t => _client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: t), ct)
                        .ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ResourceVersion);
                },
                (rv, onError, ct) => _client.CoreV1.WatchListNamespacedPodAsync(ns, allowWatchBookmarks: true,
                    resourceVersion: rv, onError: onError, cancellationToken: ct),
                _time, ttl)),
            new Startable<V1Deployment>(new ResourceCache<V1Deployment>("deployments",
                async ct =>
                {
                    V1DeploymentList l = await _api.CallAsync("list Deployments",
                        t => _client.AppsV1.ListNamespacedDeploymentAsync(ns, cancellationToken: t), ct).ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ResourceVersion);
                },
                (rv, onError, ct) => _client.AppsV1.WatchListNamespacedDeploymentAsync(ns, allowWatchBookmarks: true,
                    resourceVersion: rv, onError: onError, cancellationToken: ct),
                _time, ttl)),
            new Startable<V1Service>(new ResourceCache<V1Service>("services",
                async ct =>
                {
                    V1ServiceList l = await _api.CallAsync("list Services",
                        t => _client.CoreV1.ListNamespacedServiceAsync(ns, labelSelector: managed, cancellationToken: t), ct).ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ResourceVersion);
                },
                (rv, onError, ct) => _client.CoreV1.WatchListNamespacedServiceAsync(ns, allowWatchBookmarks: true, labelSelector: managed,
                    resourceVersion: rv, onError: onError, cancellationToken: ct),
                _time, ttl)),

            // HPAs are the user's: no label of ours to select on.
            new Startable<V2HorizontalPodAutoscaler>(new ResourceCache<V2HorizontalPodAutoscaler>("hpas",
                async ct =>
                {
                    V2HorizontalPodAutoscalerList l = await _api.CallAsync("list HPAs",
                        t => _client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(ns, cancellationToken: t), ct).ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ResourceVersion);
                },
                (rv, onError, ct) => _client.AutoscalingV2.WatchListNamespacedHorizontalPodAutoscalerAsync(ns, allowWatchBookmarks: true,
                    resourceVersion: rv, onError: onError, cancellationToken: ct),
                _time, ttl)),
        };
        if (mode == TrafficMode.GatewayApi)
        {
            list.Add(new Startable<HttpRoute>(new ResourceCache<HttpRoute>("httproutes",
                async ct =>
                {
                    HttpRouteList l = await _api.CallAsync("list HTTPRoutes", t => _client.CustomObjects.ListNamespacedCustomObjectAsync<HttpRouteList>(
                        HttpRoute.Group, HttpRoute.Version, ns, HttpRoute.Plural, labelSelector: managed, cancellationToken: t), ct).ConfigureAwait(false);
                    return (l.Items, l.Metadata?.ResourceVersion);
                },
#pragma warning disable CS0618 // The typed watch of a custom resource has no non-obsolete form yet (WatchListNamespacedCustomObjectAsync yields object).
                (rv, onError, ct) => _client.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<HttpRouteList>(HttpRoute.Group, HttpRoute.Version,
                    ns, HttpRoute.Plural, allowWatchBookmarks: true, labelSelector: managed, resourceVersion: rv, watch: true, cancellationToken: ct)
                    .WatchAsync<HttpRoute, HttpRouteList>(onError, ct),
#pragma warning restore CS0618
                _time, ttl)));
        }

        return list;
    }

    // ---- helpers -------------------------------------------------------------------------------------------

    private void RequireWorkload(string app, string site)
    {
        if (!_options.Apps.ContainsKey(app))
        {
            throw new OrchestratorException($"Unknown app '{app}'.", isTransient: false);
        }

        if (!_sites.Contains(site))
        {
            throw new OrchestratorException($"Unknown site '{site}'.", isTransient: false);
        }
    }

    /// <summary>Gateway API weights are integers (0 to 1,000,000): integral weights pass as they are, others scale to a total of 10,000.</summary>
    internal static IReadOnlyList<(string Site, int Weight)> IntegerWeights(IReadOnlyList<SiteWeight> weights)
    {
        var merged = new List<(string Site, double Weight)>();
        foreach (SiteWeight w in weights)
        {
            int i = merged.FindIndex(m => m.Site == w.SiteId);
            if (i < 0)
            {
                merged.Add((w.SiteId, w.Weight));
            }
            else
            {
                merged[i] = (w.SiteId, merged[i].Weight + w.Weight);
            }
        }

        if (merged.All(m => m.Weight == Math.Floor(m.Weight) && m.Weight <= 1_000_000))
        {
            return merged.Select(m => (m.Site, (int)m.Weight)).ToList();
        }

        double total = merged.Sum(m => m.Weight);
        return merged.Select(m => (m.Site, m.Weight <= 0 ? 0 : Math.Max(1, (int)Math.Round(m.Weight / total * 10_000)))).ToList();
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset? Time(DateTime? t) =>
        t is { } v ? new DateTimeOffset(v.Kind == DateTimeKind.Local ? v.ToUniversalTime() : DateTime.SpecifyKind(v, DateTimeKind.Utc)) : null;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    // ---- cache plumbing ------------------------------------------------------------------------------------

    private interface IStartable : IAsyncDisposable
    {
        bool Healthy { get; }

        string? ResourceVersion { get; }

        Task Changed { get; }

        Task StartAsync(CancellationToken cancellationToken);

        Task RelistAsync(CancellationToken cancellationToken);
    }

    private sealed class Startable<T>(ResourceCache<T> cache) : IStartable
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        public ResourceCache<T> Cache => cache;

        public bool Healthy => cache.Healthy;

        public string? ResourceVersion => cache.ResourceVersion;

        public Task Changed => cache.Changed;

        public Task StartAsync(CancellationToken cancellationToken) => cache.StartAsync(cancellationToken);

        public Task RelistAsync(CancellationToken cancellationToken) => cache.RelistAsync(cancellationToken);

        public ValueTask DisposeAsync() => cache.DisposeAsync();
    }

    private sealed class Caches : IAsyncDisposable
    {
        public Caches(TrafficMode mode, List<IStartable> all)
        {
            Mode = mode;
            All = all;
            Pods = ((Startable<V1Pod>)all[0]).Cache;
            Deployments = ((Startable<V1Deployment>)all[1]).Cache;
            Services = ((Startable<V1Service>)all[2]).Cache;
            Hpas = ((Startable<V2HorizontalPodAutoscaler>)all[3]).Cache;
            Routes = all.Count > 4 ? ((Startable<HttpRoute>)all[4]).Cache : null;
        }

        public TrafficMode Mode { get; }

        public IReadOnlyList<IStartable> All { get; }

        public ResourceCache<V1Pod> Pods { get; }

        public ResourceCache<V1Deployment> Deployments { get; }

        public ResourceCache<V1Service> Services { get; }

        public ResourceCache<V2HorizontalPodAutoscaler> Hpas { get; }

        public ResourceCache<HttpRoute>? Routes { get; }

        public async ValueTask DisposeAsync()
        {
            foreach (IStartable cache in All)
            {
                await cache.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}
