using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Kubernetes.Tests.Fake;

/// <summary>
/// The fake API server plus just enough of the control plane and kubelet, driven by the test's clock. Every controller
/// runs once per pass, and a pass runs per second of fake time (<see cref="Advance"/>) or when a test calls
/// <see cref="Reconcile"/>; nothing reacts inside a request, as nothing does on a real server. In pass order:
/// <list type="bullet">
/// <item>the HPA controller: keeps the target's spec.replicas within min/max (no metrics), and, as the real one does,
/// leaves a target at zero replicas alone (ScalingActive=False, ScalingDisabled);</item>
/// <item>the ReplicaSet controller: creates pods up to its own spec.replicas, or deletes the surplus in the ReplicaSet's
/// ranking (see <see cref="Rank"/>); terminating pods do not count, so a pod deleted while the ReplicaSet still wants it
/// is replaced;</item>
/// <item>the Deployment controller: creates the Deployment's ReplicaSet and copies spec.replicas to it, so a ReplicaSet acts
/// on a Deployment's change one pass later (the order in which a real ReplicaSet controller, reacting to a pod event,
/// can beat the Deployment controller's scale);</item>
/// <item>the scheduler (bind to a node of the affinity's site after <see cref="ScheduleDelay"/>), the kubelet (Running after
/// <see cref="StartDelay"/>, Ready after <see cref="ReadyDelay"/>, image pull failures) and graceful termination.</item>
/// </list>
/// </summary>
public sealed class FakeCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The ReplicaSet of a Deployment: one per Deployment (template changes are not rolled out), with this hash.</summary>
    public const string TemplateHash = "7c9d8f";

    private int _podCounter;

    public FakeCluster(bool gatewayApi = true, string ns = "edge")
    {
        Clock = new FakeTimeProvider(Epoch);
        Server = new FakeApiServer(Clock, ns, gatewayApi);
    }

    public FakeTimeProvider Clock { get; }

    public FakeApiServer Server { get; }

    public string SiteLabelKey { get; set; } = "topology.kubernetes.io/zone";

    public TimeSpan ScheduleDelay { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan StartDelay { get; set; } = TimeSpan.FromSeconds(3);

    public TimeSpan ReadyDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Sites without nodes: pods pinned there stay Pending (Unschedulable).</summary>
    public HashSet<string> FullSites { get; } = [];

    /// <summary>Images that fail to pull.</summary>
    public HashSet<string> BadImages { get; } = [];

    /// <summary>
    /// Upper bound of spin-up to Ready with the current delays: two controller passes (Deployment, then ReplicaSet)
    /// before the pod exists, and one step of slack.
    /// </summary>
    public TimeSpan ReadyWithin => ScheduleDelay + StartDelay + ReadyDelay + TimeSpan.FromSeconds(3);

    /// <summary>
    /// Every pod the ReplicaSet controller created, in order (the fake's kube-controller-manager event log:
    /// <c>Created pod ...</c>). Tests use it to prove that no short-lived extra pod was ever made.
    /// </summary>
    public IReadOnlyList<string> CreatedPods
    {
        get
        {
            lock (_createdPods)
            {
                return _createdPods.ToList();
            }
        }
    }

    private readonly List<string> _createdPods = [];

    /// <summary>
    /// Moves the clock in steps of one second; after each step every controller runs once, and every watch that is due
    /// one (<see cref="FakeApiServer.BookmarkInterval"/>) gets a bookmark.
    /// </summary>
    public void Advance(TimeSpan by)
    {
        TimeSpan step = TimeSpan.FromSeconds(1);
        for (TimeSpan done = TimeSpan.Zero; done < by; done += step)
        {
            Clock.Advance(by - done < step ? by - done : step);
            Reconcile();
            Server.SendDueBookmarks();
        }
    }

    /// <summary>One pass of every controller at the current time.</summary>
    public void Reconcile()
    {
        RunHpas();
        RunReplicaSets();
        RunDeployments();
        RunScheduler();
        RunKubelet();
        RunTerminations();
    }

    private DateTimeOffset Now => Clock.GetUtcNow();

    private void RunHpas()
    {
        foreach (JsonObject hpa in Server.List("horizontalpodautoscalers"))
        {
            string? target = hpa["spec"]?["scaleTargetRef"]?["name"]?.GetValue<string>();
            int min = hpa["spec"]?["minReplicas"]?.GetValue<int>() ?? 1;
            int max = hpa["spec"]?["maxReplicas"]?.GetValue<int>() ?? min;
            if (target is null || Server.Get("deployments", target) is not { } deployment)
            {
                continue;
            }

            int replicas = deployment["spec"]?["replicas"]?.GetValue<int>() ?? 1;
            if (replicas == 0 && min != 0)
            {
                // kube-controller-manager's horizontal.go: a target scaled to zero has autoscaling disabled.
                Server.Mutate("horizontalpodautoscalers", Name(hpa), h => h["status"] = new JsonObject
                {
                    ["currentReplicas"] = 0,
                    ["desiredReplicas"] = 0,
                    ["conditions"] = new JsonArray(new JsonObject
                    {
                        ["type"] = "ScalingActive",
                        ["status"] = "False",
                        ["reason"] = "ScalingDisabled",
                        ["message"] = "scaling is disabled since the replica count of the target is zero",
                    }),
                });
                continue;
            }

            int desired = Math.Clamp(replicas, min, max);
            if (desired != replicas)
            {
                Server.Mutate("deployments", target, d => d["spec"]!["replicas"] = desired);
            }

            Server.Mutate("horizontalpodautoscalers", Name(hpa), h => h["status"] = new JsonObject
            {
                ["currentReplicas"] = replicas,
                ["desiredReplicas"] = desired,
                ["conditions"] = new JsonArray(new JsonObject
                {
                    ["type"] = "ScalingActive",
                    ["status"] = "True",
                    ["reason"] = "ValidMetricFound",
                }),
            });
        }
    }

    private void RunDeployments()
    {
        foreach (JsonObject deployment in Server.List("deployments"))
        {
            string name = Name(deployment);
            string rsName = $"{name}-{TemplateHash}";
            int replicas = deployment["spec"]?["replicas"]?.GetValue<int>() ?? 1;
            JsonNode? template = deployment["spec"]?["template"]?.DeepClone();
            JsonObject? rs = Server.Get("replicasets", rsName);
            if (rs is null)
            {
                // A new Deployment's ReplicaSet starts at the Deployment's count; it creates pods from the next pass.
                rs = Server.Create("replicasets", new JsonObject
                {
                    ["metadata"] = new JsonObject
                    {
                        ["name"] = rsName,
                        ["labels"] = deployment["spec"]?["template"]?["metadata"]?["labels"]?.DeepClone(),
                        ["ownerReferences"] = new JsonArray(new JsonObject
                        {
                            ["apiVersion"] = "apps/v1",
                            ["kind"] = "Deployment",
                            ["name"] = name,
                            ["uid"] = deployment["metadata"]?["uid"]?.DeepClone(),
                            ["controller"] = true,
                        }),
                    },
                    ["spec"] = new JsonObject { ["replicas"] = replicas, ["template"] = template },
                });
            }
            else
            {
                rs = Server.Mutate("replicasets", rsName, r =>
                {
                    r["spec"]!["replicas"] = replicas;
                    r["spec"]!["template"] = template;
                })!;
            }

            long generation = Generation(deployment);
            JsonNode? rsStatus = rs["status"];
            Server.Mutate("deployments", name, d => d["status"] = new JsonObject
            {
                ["observedGeneration"] = generation,
                ["replicas"] = rsStatus?["replicas"]?.GetValue<int>() ?? 0,
                ["updatedReplicas"] = rsStatus?["replicas"]?.GetValue<int>() ?? 0,
                ["readyReplicas"] = rsStatus?["readyReplicas"]?.GetValue<int>() ?? 0,
                ["availableReplicas"] = rsStatus?["availableReplicas"]?.GetValue<int>() ?? 0,
            });
        }
    }

    private void RunReplicaSets()
    {
        foreach (JsonObject rs in Server.List("replicasets"))
        {
            string name = Name(rs);
            int replicas = rs["spec"]?["replicas"]?.GetValue<int>() ?? 1;

            // FilterActivePods: terminating and finished pods do not count.
            List<JsonObject> Active() => Server.List("pods")
                .Where(p => Owner(p) == name && p["metadata"]?["deletionTimestamp"] is null
                    && p["status"]?["phase"]?.GetValue<string>() is not ("Failed" or "Succeeded"))
                .ToList();

            var active = Active();
            if (active.Count < replicas && rs["spec"]?["template"] is JsonObject)
            {
                for (int i = active.Count; i < replicas; i++)
                {
                    CreatePod(rs, name);
                }
            }
            else if (active.Count > replicas)
            {
                foreach (JsonObject victim in active.OrderBy(Rank).Take(active.Count - replicas))
                {
                    Delete(victim);
                }
            }

            active = Active();
            int ready = active.Count(IsReady);
            long generation = Generation(rs);
            Server.Mutate("replicasets", name, r => r["status"] = new JsonObject
            {
                ["observedGeneration"] = generation,
                ["replicas"] = active.Count,
                ["readyReplicas"] = ready,
                ["availableReplicas"] = ready,
            });
        }
    }

    /// <summary>
    /// The ReplicaSet controller's order of scale-down victims, first goes first (ActivePodsWithRanks in
    /// controller_utils.go): unscheduled before scheduled, Pending before Unknown before Running, not ready before
    /// ready, lower pod-deletion-cost before higher, then newer before older.
    /// </summary>
    internal static (int, int, int, int, long) Rank(JsonObject pod)
    {
        bool scheduled = pod["spec"]?["nodeName"] is not null;
        int phase = pod["status"]?["phase"]?.GetValue<string>() switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };
        int cost = int.TryParse(pod["metadata"]?["annotations"]?[Names.PodDeletionCostAnnotation]?.GetValue<string>(), out int c) ? c : 0;
        long created = DateTimeOffset.Parse(pod["metadata"]!["creationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).UtcTicks;
        return (scheduled ? 1 : 0, phase, IsReady(pod) ? 1 : 0, cost, -created);
    }

    private void CreatePod(JsonObject rs, string rsName)
    {
        var template = (JsonObject)rs["spec"]!["template"]!.DeepClone();
        var meta = (JsonObject)(template["metadata"]?.DeepClone() ?? new JsonObject());
        string name = $"{rsName}-{Suffix(++_podCounter)}";
        meta["name"] = name;
        var labels = meta["labels"] as JsonObject ?? new JsonObject();
        labels["pod-template-hash"] = TemplateHash;
        meta["labels"] = labels;
        meta["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["name"] = rsName,
            ["uid"] = rs["metadata"]?["uid"]?.DeepClone(),
            ["controller"] = true,
        });
        var pod = new JsonObject
        {
            ["metadata"] = meta,
            ["spec"] = template["spec"]!.DeepClone(),
            ["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "Burstable" },
        };
        Server.Create("pods", pod);
        lock (_createdPods)
        {
            _createdPods.Add(name);
        }
    }

    private void RunScheduler()
    {
        foreach (JsonObject pod in Server.List("pods"))
        {
            if (pod["spec"]?["nodeName"] is not null || pod["metadata"]?["deletionTimestamp"] is not null
                || Now - Created(pod) < ScheduleDelay)
            {
                continue;
            }

            string? site = pod["spec"]?["affinity"]?["nodeAffinity"]?["requiredDuringSchedulingIgnoredDuringExecution"]?["nodeSelectorTerms"]?[0]?
                ["matchExpressions"]?.AsArray().OfType<JsonObject>().FirstOrDefault(e => e["key"]?.GetValue<string>() == SiteLabelKey)?["values"]?[0]?
                .GetValue<string>();
            if (site is null || FullSites.Contains(site))
            {
                Server.Mutate("pods", Name(pod), p => SetCondition(p, "PodScheduled", "False", "Unschedulable"));
                continue;
            }

            Server.Mutate("pods", Name(pod), p =>
            {
                p["spec"]!["nodeName"] = $"node-{site}-{Math.Abs(Name(p).GetHashCode(StringComparison.Ordinal)) % 2}";
                SetCondition(p, "PodScheduled", "True", null);
            });
        }
    }

    private void RunKubelet()
    {
        foreach (JsonObject pod in Server.List("pods"))
        {
            if (pod["spec"]?["nodeName"] is null || pod["metadata"]?["deletionTimestamp"] is not null)
            {
                continue;
            }

            string image = pod["spec"]!["containers"]![0]!["image"]!.GetValue<string>();
            string container = pod["spec"]!["containers"]![0]!["name"]!.GetValue<string>();
            DateTimeOffset scheduledAt = ConditionTime(pod, "PodScheduled") ?? Now;
            string phase = pod["status"]?["phase"]?.GetValue<string>() ?? "Pending";
            if (BadImages.Contains(image))
            {
                Server.Mutate("pods", Name(pod), p => p["status"]!["containerStatuses"] = new JsonArray(new JsonObject
                {
                    ["name"] = container,
                    ["image"] = image,
                    ["imageID"] = "",
                    ["ready"] = false,
                    ["restartCount"] = 0,
                    ["state"] = new JsonObject { ["waiting"] = new JsonObject { ["reason"] = "ImagePullBackOff", ["message"] = $"Back-off pulling image \"{image}\"" } },
                }));
                continue;
            }

            if (phase == "Pending" && Now - scheduledAt >= StartDelay)
            {
                Server.Mutate("pods", Name(pod), p =>
                {
                    p["status"]!["phase"] = "Running";
                    p["status"]!["startTime"] = FakeApiServer.Stamp(Now);
                    p["status"]!["podIP"] = $"10.0.0.{(Math.Abs(Name(p).GetHashCode(StringComparison.Ordinal)) % 250) + 2}";
                    p["status"]!["containerStatuses"] = new JsonArray(new JsonObject
                    {
                        ["name"] = container,
                        ["image"] = image,
                        ["imageID"] = "sha256:feed",
                        ["ready"] = false,
                        ["started"] = true,
                        ["restartCount"] = 0,
                        ["state"] = new JsonObject { ["running"] = new JsonObject { ["startedAt"] = FakeApiServer.Stamp(Now) } },
                    });
                    SetCondition(p, "Ready", "False", "ContainersNotReady");
                });
            }
            else if (phase == "Running" && !IsReady(pod)
                     && DateTimeOffset.Parse(pod["status"]!["startTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture) + ReadyDelay <= Now)
            {
                Server.Mutate("pods", Name(pod), p =>
                {
                    SetCondition(p, "Ready", "True", null);
                    SetCondition(p, "ContainersReady", "True", null);
                    p["status"]!["containerStatuses"]![0]!["ready"] = true;
                });
            }
        }
    }

    private void RunTerminations()
    {
        foreach (JsonObject pod in Server.List("pods"))
        {
            if (pod["metadata"]?["deletionTimestamp"]?.GetValue<string>() is { } at
                && DateTimeOffset.Parse(at, System.Globalization.CultureInfo.InvariantCulture) <= Now)
            {
                Server.Remove("pods", Name(pod));
            }
        }
    }

    private void Delete(JsonObject pod)
    {
        long grace = FakeApiServer.Long(pod["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        Server.Mutate("pods", Name(pod), p =>
        {
            p["metadata"]!["deletionTimestamp"] = FakeApiServer.Stamp(Now + TimeSpan.FromSeconds(grace));
            p["metadata"]!["deletionGracePeriodSeconds"] = grace;
        });
        if (grace <= 0)
        {
            Server.Remove("pods", Name(pod));
        }
    }

    private void SetCondition(JsonObject pod, string type, string status, string? reason)
    {
        var status0 = pod["status"] as JsonObject ?? new JsonObject();
        pod["status"] = status0;
        var conditions = status0["conditions"] as JsonArray ?? new JsonArray();
        status0["conditions"] = conditions;
        JsonObject? existing = conditions.OfType<JsonObject>().FirstOrDefault(c => c["type"]?.GetValue<string>() == type);
        if (existing is not null && existing["status"]?.GetValue<string>() == status)
        {
            return;
        }

        var condition = new JsonObject
        {
            ["type"] = type,
            ["status"] = status,
            ["lastProbeTime"] = null,
            ["lastTransitionTime"] = FakeApiServer.Stamp(Now),
        };
        if (reason is not null)
        {
            condition["reason"] = reason;
        }

        if (existing is not null)
        {
            conditions.Remove(existing);
        }

        conditions.Add(condition);
    }

    internal static bool IsReady(JsonObject pod) =>
        pod["status"]?["conditions"] is JsonArray c
        && c.OfType<JsonObject>().Any(x => x["type"]?.GetValue<string>() == "Ready" && x["status"]?.GetValue<string>() == "True");

    private static DateTimeOffset? ConditionTime(JsonObject pod, string type) =>
        pod["status"]?["conditions"] is JsonArray c
        && c.OfType<JsonObject>().FirstOrDefault(x => x["type"]?.GetValue<string>() == type && x["status"]?.GetValue<string>() == "True") is { } cond
            ? DateTimeOffset.Parse(cond["lastTransitionTime"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture)
            : null;

    private static DateTimeOffset Created(JsonObject o) =>
        DateTimeOffset.Parse(o["metadata"]!["creationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture);

    private static long Generation(JsonObject o) => FakeApiServer.Long(o["metadata"]?["generation"]) ?? 1;

    /// <summary>The ReplicaSet that owns a pod.</summary>
    private static string? Owner(JsonObject pod) => pod["metadata"]?["ownerReferences"]?[0]?["name"]?.GetValue<string>();

    internal static string Name(JsonObject o) => o["metadata"]!["name"]!.GetValue<string>();

    private static string Suffix(int n)
    {
        // A bijection of the counter onto 5 letters of the 27 Kubernetes uses, so names look random but never collide.
        const string alphabet = "bcdfghjklmnpqrstvwxz2456789";
        var chars = new char[5];
        long x = (long)n * 7919 % 14_348_907;
        for (int i = 0; i < 5; i++)
        {
            chars[i] = alphabet[(int)(x % alphabet.Length)];
            x /= alphabet.Length;
        }

        return new string(chars);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
