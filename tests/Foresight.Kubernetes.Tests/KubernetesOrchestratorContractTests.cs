using Foresight.Orchestration.Tests.Contract;

namespace Foresight.Kubernetes.Tests;

/// <summary>The Kubernetes adapter, through KubernetesClient against the fake API server, under the shared orchestrator contract.</summary>
public sealed class KubernetesOrchestratorContractTests : OrchestratorContractTests, IAsyncLifetime
{
    private readonly List<KubernetesFixture> _fixtures = [];

    protected override IOrchestratorFixture CreateFixture()
    {
        var f = new KubernetesFixture();
        _fixtures.Add(f);
        return f;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (KubernetesFixture f in _fixtures)
        {
            await f.DisposeAsync();
        }
    }
}

/// <summary>The same contract without Gateway API: traffic through Service selectors.</summary>
public sealed class KubernetesSelectorModeContractTests : OrchestratorContractTests, IAsyncLifetime
{
    private readonly List<KubernetesFixture> _fixtures = [];

    protected override IOrchestratorFixture CreateFixture()
    {
        var f = new KubernetesFixture(gatewayApi: false);
        _fixtures.Add(f);
        return f;
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (KubernetesFixture f in _fixtures)
        {
            await f.DisposeAsync();
        }
    }
}
