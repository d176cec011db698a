using System.Text.Json;
using System.Text.Json.Serialization;

namespace Foresight.Kubernetes;

/// <summary>
/// The instances of one (app, site) Deployment that Foresight knows by id, stored as JSON in the Deployment's
/// <see cref="Names.RegistryAnnotation"/> annotation. A spin-up writes its claim and the replica change in one
/// patch, so the claim and the capacity it asked for can never disagree after a crash.
/// </summary>
internal sealed class InstanceRegistry
{
    // Relaxed escaping keeps the annotation readable in kubectl output; it is never embedded in HTML.
    private static readonly JsonSerializerOptions s_json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Stopped entries are kept this long so that repeating a request or a stop stays idempotent.</summary>
    internal static readonly TimeSpan StoppedRetention = TimeSpan.FromHours(1);

    private const int MaxEntries = 256;

    [JsonPropertyName("next")]
    public long NextSeq { get; set; } = 1;

    [JsonPropertyName("entries")]
    public List<RegistryEntry> Entries { get; set; } = [];

    public static InstanceRegistry Parse(string? json)
    {
        if (string.IsNullOrWhiteSpace(json))
        {
            return new InstanceRegistry();
        }

        try
        {
            return JsonSerializer.Deserialize<InstanceRegistry>(json, s_json) ?? new InstanceRegistry();
        }
        catch (JsonException)
        {
            // A hand-edited, broken annotation must not wedge the controller; the pods remain visible by name.
            return new InstanceRegistry();
        }
    }

    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    public RegistryEntry? ByRequest(string requestId) => Entries.FirstOrDefault(e => e.RequestId == requestId);

    public RegistryEntry? ById(string id) => Entries.FirstOrDefault(e => e.Id == id);

    public RegistryEntry AddClaim(string deployment, string requestId, DateTimeOffset now, IEnumerable<string> existingPods, int? floor)
    {
        long seq = NextSeq++;
        var entry = new RegistryEntry
        {
            Id = $"{deployment}-i{seq}",
            RequestId = requestId,
            Seq = seq,
            CreatedAt = now,
            ExcludePods = existingPods.Order(StringComparer.Ordinal).ToList(),
            Floor = floor,
        };
        Entries.Add(entry);
        return entry;
    }

    /// <summary>Records a stop of a pod that no spin-up claimed (known by its pod name).</summary>
    public RegistryEntry AddTombstone(string podName, DateTimeOffset createdAt, DateTimeOffset now)
    {
        var entry = new RegistryEntry { Id = podName, Seq = NextSeq++, CreatedAt = createdAt, Pod = podName, StoppedAt = now };
        Entries.Add(entry);
        return entry;
    }

    public void Prune(DateTimeOffset now)
    {
        Entries.RemoveAll(e => e.StoppedAt is { } at && now - at > StoppedRetention);
        while (Entries.Count > MaxEntries)
        {
            RegistryEntry? oldest = Entries.Where(e => e.StoppedAt is not null).MinBy(e => e.StoppedAt);
            if (oldest is null)
            {
                break;
            }

            Entries.Remove(oldest);
        }
    }
}

internal sealed class RegistryEntry
{
    [JsonPropertyName("id")]
    public string Id { get; set; } = "";

    /// <summary>The spin-up request; null for the tombstone of an unclaimed pod.</summary>
    [JsonPropertyName("req")]
    public string? RequestId { get; set; }

    [JsonPropertyName("seq")]
    public long Seq { get; set; }

    [JsonPropertyName("at")]
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Pods that existed when the claim was made; the claim binds to a newer pod.</summary>
    [JsonPropertyName("exclude")]
    public List<string>? ExcludePods { get; set; }

    /// <summary>The pod the claim is bound to, once one appeared.</summary>
    [JsonPropertyName("pod")]
    public string? Pod { get; set; }

    /// <summary>The HPA minReplicas this claim asked for, when an HPA governs the Deployment.</summary>
    [JsonPropertyName("floor")]
    public int? Floor { get; set; }

    [JsonPropertyName("draining")]
    public DateTimeOffset? DrainingAt { get; set; }

    [JsonPropertyName("stopped")]
    public DateTimeOffset? StoppedAt { get; set; }

    /// <summary>
    /// Stopped, but its replica not yet given back: the ReplicaSet would have scaled down another pod first (one less
    /// ready), so spec.replicas is lowered only once its ranking takes this pod. Absent once given back (and on entries
    /// written before this field, whose stop lowered replicas with the tombstone).
    /// </summary>
    [JsonPropertyName("held")]
    public bool? ReplicaHeld { get; set; }
}
