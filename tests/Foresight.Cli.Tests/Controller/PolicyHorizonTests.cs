using Foresight.Cli.Controller;
using Foresight.Control.Decision;
using Foresight.Core.Apps;
using Foresight.Kubernetes;
using Foresight.Orchestration;
using k8s.Models;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Cli.Tests.Controller;

/// <summary>A MigrationPolicy's horizon sets how far ahead its app is forecast, up to what the controller's models cover.</summary>
public sealed class PolicyHorizonTests
{
    private static readonly KubernetesConfig s_config = new()
    {
        Namespace = "shop",
        Prometheus = new Uri("http://127.0.0.1:9/"),
        StepSeconds = 5,
        HorizonSteps = 14,
        WarmupSeconds = 200,
        SeasonSeconds = 180,
        Forecaster = "seasonal-naive",
        Apps =
        [
            new KubernetesApp(new AppProfile { Name = "shop" }, ["a", "b"], "q", "site"),
            new KubernetesApp(new AppProfile { Name = "cart" }, ["a"], "q", "site"),
        ],
    };

    private sealed class Policies(int steps, int stepSeconds) : IPolicySource
    {
        public Task<PolicyListing> ListAsync(CancellationToken cancellationToken) => Task.FromResult(new PolicyListing(
            [
                new MigrationPolicy
                {
                    Metadata = new V1ObjectMeta { Name = "shop" },
                    Spec = new MigrationPolicySpec
                    {
                        AppSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app.kubernetes.io/name"] = "shop" } },
                        Horizon = new ForecastHorizon { Steps = steps, StepSeconds = stepSeconds },
                    },
                },
            ],
            new Dictionary<string, IReadOnlyDictionary<string, string>>(),
            Installed: true));

        public Task<bool> WriteStatusAsync(string name, MigrationPolicyStatus status, CancellationToken cancellationToken) => Task.FromResult(true);
    }

    private sealed class FlatTraffic : ITrafficObserver
    {
        public ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken) =>
            ValueTask.FromResult(app.Sites.Select(_ => 10.0).ToArray());
    }

    private sealed class EmptyCluster(TimeProvider time) : IOrchestrator
    {
        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) =>
            ValueTask.FromResult(new ClusterSnapshot(time.GetUtcNow(), [], [], []));
    }

    [Theory]
    [InlineData(2, 5, 10)]     // 10 s: two steps
    [InlineData(3, 4, 15)]     // 12 s rounds up to whole steps
    [InlineData(12, 60, 70)]   // 12 minutes: capped at kubernetes.horizonSteps (14 x 5 s)
    public async Task The_policys_horizon_is_its_apps_forecast_horizon(int steps, int stepSeconds, double expected)
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch);
        await using ControllerEngine engine = KubernetesController.Create(
            s_config, new PredictiveOptions(), 5, new EmptyCluster(time), new FlatTraffic(), time, policies: new Policies(steps, stepSeconds));

        time.Advance(TimeSpan.FromSeconds(5));
        EngineTick tick = await engine.TickAsync(TimeSpan.FromSeconds(5), dryRun: true, CancellationToken.None);

        Assert.Equal(expected, tick.Apps.Single(a => a.Name == "shop").HorizonSeconds);
        Assert.Equal(70, tick.Apps.Single(a => a.Name == "cart").HorizonSeconds); // no policy: the config file's
    }
}
