using System.Text.Json.Nodes;

namespace Foresight.Kubernetes.Tests.Fake;

/// <summary>
/// Objects as a user writes them, with none of Foresight's labels: a Deployment pinned to its site's nodes, an HPA on
/// it, and a kubeconfig for the in-test API server (for tests that go through the CLI's config file).
/// </summary>
public static class UserWorkloads
{
    /// <param name="label">The user's own app label, on the Deployment and (with the site) in its selector.</param>
    public static JsonObject Deployment(string name, string site, int replicas, (string Key, string Value) label) => JsonNode.Parse($$"""
        {
          "metadata": { "name": "{{name}}", "labels": { "{{label.Key}}": "{{label.Value}}" } },
          "spec": {
            "replicas": {{replicas}},
            "selector": { "matchLabels": { "{{label.Key}}": "{{label.Value}}", "site": "{{site}}" } },
            "template": {
              "metadata": { "labels": { "{{label.Key}}": "{{label.Value}}", "site": "{{site}}" } },
              "spec": {
                "affinity": { "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [
                  { "matchExpressions": [ { "key": "topology.kubernetes.io/zone", "operator": "In", "values": [ "{{site}}" ] } ] } ] } } },
                "containers": [ { "name": "{{label.Value}}", "image": "registry.example/shop:2.1", "ports": [ { "containerPort": 8080, "name": "http" } ] } ]
              }
            }
          }
        }
        """)!.AsObject();

    /// <summary>The user's HPA on the Deployment <paramref name="deployment"/>, on CPU at 70%.</summary>
    public static JsonObject Hpa(string deployment, int min, int max) => JsonNode.Parse($$"""
        {
          "metadata": { "name": "{{deployment}}", "labels": { "app": "shop" } },
          "spec": {
            "scaleTargetRef": { "apiVersion": "apps/v1", "kind": "Deployment", "name": "{{deployment}}" },
            "minReplicas": {{min}},
            "maxReplicas": {{max}},
            "metrics": [ { "type": "Resource", "resource": { "name": "cpu", "target": { "type": "Utilization", "averageUtilization": 70 } } } ]
          }
        }
        """)!.AsObject();

    /// <summary>A kubeconfig whose current context is <paramref name="server"/> and namespace <paramref name="ns"/>.</summary>
    public static string Kubeconfig(Uri server, string ns) => $"""
        apiVersion: v1
        kind: Config
        clusters:
          - name: test
            cluster:
              server: {server}
        contexts:
          - name: test
            context:
              cluster: test
              user: test
              namespace: {ns}
        current-context: test
        users:
          - name: test
            user:
              token: test
        """;
}
