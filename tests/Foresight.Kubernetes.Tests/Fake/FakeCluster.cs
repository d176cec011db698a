using System.Text.Json.Nodes;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Kubernetes.Tests.Fake;

/// <summary>
/// The fake API server plus just enough of the control plane and kubelet, driven by the test's clock: the Deployment
/// controller (create pods up to spec.replicas, pick scale-down victims by the ReplicaSet ranking including
/// pod-deletion-cost), the scheduler (bind to a node of the affinity's site after <see cref="ScheduleDelay"/>),
/// the kubelet (Running after <see cref="StartDelay"/>, Ready after <see cref="ReadyDelay"/>, image pull failures,
/// graceful termination) and the HPA controller (keeps spec.replicas within min/max; no metrics).
/// </summary>
public sealed class FakeCluster : IAsyncDisposable
{
    public static readonly DateTimeOffset Epoch = new(2030, 1, 1, 0, 0, 0, TimeSpan.Zero);

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

    /// <summary>Upper bound of spin-up to Ready with the current delays (plus one controller step).</summary>
    public TimeSpan ReadyWithin => ScheduleDelay + StartDelay + ReadyDelay + TimeSpan.FromSeconds(2);

    /// <summary>Moves the clock in steps of one second, running the controllers after each, then bookmarks every watch.</summary>
    public void Advance(TimeSpan by)
    {
        TimeSpan step = TimeSpan.FromSeconds(1);
        for (TimeSpan done = TimeSpan.Zero; done < by; done += step)
        {
            Clock.Advance(by - done < step ? by - done : step);
            Reconcile();
        }

        Reconcile();
        Server.SendBookmarks();
    }

    /// <summary>One pass of every controller at the current time.</summary>
    public void Reconcile()
    {
        RunHpas();
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
            int desired = Math.Clamp(replicas, min, max);
            if (desired != replicas)
            {
                Server.Mutate("deployments", target, d => d["spec"]!["replicas"] = desired);
            }

            Server.Mutate("horizontalpodautoscalers", Name(hpa), h => h["status"] = new JsonObject
            {
                ["currentReplicas"] = replicas,
                ["desiredReplicas"] = desired,
            });
        }
    }

    private void RunDeployments()
    {
        foreach (JsonObject deployment in Server.List("deployments"))
        {
            string name = Name(deployment);
            int replicas = deployment["spec"]?["replicas"]?.GetValue<int>() ?? 1;
            var owned = Server.List("pods").Where(p => Owner(p) == name).ToList();
            var live = owned.Where(p => p["metadata"]?["deletionTimestamp"] is null).ToList();

            for (int i = live.Count; i < replicas; i++)
            {
                CreatePod(deployment, name);
            }

            if (live.Count > replicas)
            {
                foreach (JsonObject victim in live.OrderBy(Rank).Take(live.Count - replicas))
                {
                    Delete(victim);
                }
            }

            owned = Server.List("pods").Where(p => Owner(p) == name && p["metadata"]?["deletionTimestamp"] is null).ToList();
            int ready = owned.Count(IsReady);
            Server.Mutate("deployments", name, d => d["status"] = new JsonObject
            {
                ["observedGeneration"] = 1,
                ["replicas"] = owned.Count,
                ["updatedReplicas"] = owned.Count,
                ["readyReplicas"] = ready,
                ["availableReplicas"] = ready,
            });
        }
    }

    /// <summary>The ReplicaSet controller's order of scale-down victims (first goes first).</summary>
    private static (int, int, int, int, long) Rank(JsonObject pod)
    {
        bool scheduled = pod["spec"]?["nodeName"] is not null;
        int phase = pod["status"]?["phase"]?.GetValue<string>() switch { "Pending" => 0, "Unknown" => 1, "Running" => 2, _ => 0 };
        int cost = int.TryParse(pod["metadata"]?["annotations"]?[Names.PodDeletionCostAnnotation]?.GetValue<string>(), out int c) ? c : 0;
        long created = DateTimeOffset.Parse(pod["metadata"]!["creationTimestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture).UtcTicks;
        return (scheduled ? 1 : 0, phase, IsReady(pod) ? 1 : 0, cost, -created);
    }

    private void CreatePod(JsonObject deployment, string owner)
    {
        var template = (JsonObject)deployment["spec"]!["template"]!.DeepClone();
        var meta = (JsonObject)(template["metadata"]?.DeepClone() ?? new JsonObject());
        string name = $"{owner}-7c9d8f-{Suffix(++_podCounter)}";
        meta["name"] = name;
        var labels = meta["labels"] as JsonObject ?? new JsonObject();
        labels["pod-template-hash"] = "7c9d8f";
        meta["labels"] = labels;
        meta["ownerReferences"] = new JsonArray(new JsonObject
        {
            ["apiVersion"] = "apps/v1",
            ["kind"] = "ReplicaSet",
            ["name"] = $"{owner}-7c9d8f",
            ["uid"] = "rs-" + owner,
            ["controller"] = true,
        });
        var pod = new JsonObject
        {
            ["metadata"] = meta,
            ["spec"] = template["spec"]!.DeepClone(),
            ["status"] = new JsonObject { ["phase"] = "Pending", ["qosClass"] = "Burstable" },
        };
        Server.Create("pods", pod);
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
        long grace = pod["spec"]?["terminationGracePeriodSeconds"]?.GetValue<long>() ?? 30;
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

    private static string? Owner(JsonObject pod)
    {
        string? rs = pod["metadata"]?["ownerReferences"]?[0]?["name"]?.GetValue<string>();
        return rs is null ? null : rs[..rs.LastIndexOf('-')];
    }

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
