namespace Foresight.Kubernetes.Tests.Fake;

/// <summary>
/// For tests in other projects that drive a <see cref="KubernetesOrchestrator"/> against the fake cluster: waits until
/// its watch caches have seen every write the server made, so a snapshot taken next is deterministic.
/// </summary>
public static class CacheSync
{
    /// <summary>
    /// Waits (in real time, at most <paramref name="timeout"/>, 15 s by default) until the orchestrator's caches are at the
    /// server's resource version, forcing bookmarks again and again, since a watch that is reconnecting would miss one.
    /// </summary>
    public static async Task SyncAsync(KubernetesOrchestrator orchestrator, FakeApiServer server, TimeSpan? timeout = null)
    {
        using var guard = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        long target = server.ResourceVersion;
        Task synced = orchestrator.WaitForResourceVersionAsync(target, guard.Token);
        while (!synced.IsCompleted)
        {
            server.SendBookmarks();
            await Task.WhenAny(synced, Task.Delay(20, guard.Token));
        }

        await synced;
    }

    /// <summary>
    /// As <see cref="SyncAsync"/>, but gives up quietly after <paramref name="timeout"/>: under injected faults a watch may
    /// be down (and back off on the test's clock), and the adapter then lists for itself.
    /// </summary>
    public static async Task<bool> TrySyncAsync(KubernetesOrchestrator orchestrator, FakeApiServer server, TimeSpan timeout)
    {
        try
        {
            await SyncAsync(orchestrator, server, timeout);
            return true;
        }
        catch (Exception e) when (e is OperationCanceledException or Foresight.Orchestration.OrchestratorException)
        {
            return false;
        }
    }
}
