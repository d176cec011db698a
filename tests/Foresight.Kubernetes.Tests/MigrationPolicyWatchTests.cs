using System.Text.Json.Nodes;
using Foresight.Kubernetes.Tests.Fake;

namespace Foresight.Kubernetes.Tests;

/// <summary>MigrationPolicies and Deployment labels come through list+watch, not a re-list per read.</summary>
public sealed class MigrationPolicyWatchTests
{
    private static JsonObject Policy(string name, double confidence) => new()
    {
        ["metadata"] = new JsonObject { ["name"] = name },
        ["spec"] = new JsonObject { ["appSelector"] = new JsonObject { ["matchLabels"] = new JsonObject { ["app"] = "shop" } }, ["thresholds"] = new JsonObject { ["confidence"] = confidence } },
    };

    private static async Task<PolicyListing> ListUntilAsync(MigrationPolicyWatch watch, Func<PolicyListing, bool> done)
    {
        // The watch delivers in the background: bounded polling of the cache (no API call per read).
        PolicyListing listing = await watch.ListAsync(CancellationToken.None);
        for (int i = 0; i < 200 && !done(listing); i++)
        {
            await Task.Delay(25);
            listing = await watch.ListAsync(CancellationToken.None);
        }

        return listing;
    }

    [Fact]
    public async Task An_edited_policy_arrives_through_the_watch_without_another_list()
    {
        await using var cluster = new FakeCluster(ns: "shop");
        cluster.Server.Create("migrationpolicies", Policy("web", 0.8));
        await using var watch = new MigrationPolicyWatch(cluster.Server.CreateClient(), "shop", cluster.Clock);

        PolicyListing first = await watch.ListAsync(CancellationToken.None);
        Assert.True(first.Installed);
        Assert.Equal(0.8, Assert.Single(first.Policies).Spec.Thresholds.Confidence);

        cluster.Server.Mutate("migrationpolicies", "web", p => p["spec"]!["thresholds"]!["confidence"] = 0.6);
        cluster.Server.Create("migrationpolicies", Policy("batch", 0.9));
        PolicyListing edited = await ListUntilAsync(watch, l => l.Policies.Count == 2 && l.Policies.Any(p => p.Spec.Thresholds.Confidence == 0.6));

        Assert.Equal(["batch", "web"], edited.Policies.Select(p => p.Metadata.Name));
        Assert.Equal(0.6, edited.Policies.Single(p => p.Metadata.Name == "web").Spec.Thresholds.Confidence);
        Assert.Equal(1, cluster.Server.Requests.Count(r => r.Method == "GET" && r.Plural == "migrationpolicies" && !r.Query.Contains("watch=true", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Without_the_CRD_the_listing_says_so_and_the_watch_is_tried_again_later()
    {
        await using var cluster = new FakeCluster(ns: "shop");
        cluster.Server.MigrationPolicyCrd = false;
        await using var watch = new MigrationPolicyWatch(cluster.Server.CreateClient(), "shop", cluster.Clock);

        PolicyListing missing = await watch.ListAsync(CancellationToken.None);
        Assert.False(missing.Installed);
        Assert.Empty(missing.Policies);

        cluster.Server.MigrationPolicyCrd = true;
        cluster.Server.Create("migrationpolicies", Policy("web", 0.7));
        Assert.False((await watch.ListAsync(CancellationToken.None)).Installed); // not before the retry interval
        cluster.Clock.Advance(MigrationPolicyWatch.CrdRetry);

        PolicyListing installed = await watch.ListAsync(CancellationToken.None);
        Assert.True(installed.Installed);
        Assert.Equal("web", Assert.Single(installed.Policies).Metadata.Name);
    }
}
