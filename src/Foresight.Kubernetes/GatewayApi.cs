using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>The subset of Gateway API <c>HTTPRoute</c> (gateway.networking.k8s.io/v1) that the adapter writes and reads.</summary>
public sealed class HttpRoute : IKubernetesObject<V1ObjectMeta>, ISpec<HttpRouteSpec>
{
    public const string Group = "gateway.networking.k8s.io";
    public const string Version = "v1";
    public const string Plural = "httproutes";
    public const string KindName = "HTTPRoute";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public HttpRouteSpec Spec { get; set; } = new();
}

public sealed class HttpRouteList : IKubernetesObject<V1ListMeta>, IItems<HttpRoute>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{HttpRoute.Group}/{HttpRoute.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "HTTPRouteList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<HttpRoute> Items { get; set; } = [];
}

public sealed class HttpRouteSpec
{
    [JsonPropertyName("parentRefs")]
    public IList<GatewayParentReference> ParentRefs { get; set; } = [];

    [JsonPropertyName("hostnames")]
    public IList<string>? Hostnames { get; set; }

    [JsonPropertyName("rules")]
    public IList<HttpRouteRule> Rules { get; set; } = [];
}

public sealed class GatewayParentReference
{
    [JsonPropertyName("group")]
    public string? Group { get; set; }

    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("namespace")]
    public string? Namespace { get; set; }

    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("sectionName")]
    public string? SectionName { get; set; }
}

public sealed class HttpRouteRule
{
    [JsonPropertyName("backendRefs")]
    public IList<HttpBackendRef> BackendRefs { get; set; } = [];
}

public sealed class HttpBackendRef
{
    [JsonPropertyName("kind")]
    public string? Kind { get; set; }

    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    [JsonPropertyName("port")]
    public int? Port { get; set; }

    /// <summary>Relative weight, 0 to 1,000,000 (0 sends no new requests).</summary>
    [JsonPropertyName("weight")]
    public int? Weight { get; set; }
}
