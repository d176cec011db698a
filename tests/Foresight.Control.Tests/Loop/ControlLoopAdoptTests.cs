using Foresight.Control.Loop;
using Foresight.Control.Placement;
using Foresight.Control.Policies;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Tests.Loop;

/// <summary>A controller joining a running cluster (a new leader) starts from what runs, raised floors included.</summary>
public sealed class ControlLoopAdoptTests
{
    private static readonly DateTimeOffset s_now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly AppProfile s_app = new() { Name = "api" };

    [Fact]
    public void Adopting_keeps_a_raised_floor_as_the_anticipated_part_so_the_first_pass_does_not_lower_it()
    {
        var sites = new List<Site> { new("a", 0, 0), new("b", 10, 0) };
        var topology = new EdgeTopology(sites, [], sites.Select(s => new Source(s.Id, s.XKm, s.YKm)).ToList(), [0, 1], new RttModel());
        var context = new PolicyContext(topology, [s_app], new NoMetrics(), TimeProvider.System, s_now, 0.7);
        var desired = new DesiredPlacement(1, 2);
        desired[0, 1] = 3;
        desired.SetAnticipated(0, 1, 3); // left from an earlier term as leader: not what the cluster runs now
        var loop = new ControlLoop(new NeverDecides(), context, new NoCluster(), desired);

        // a: the HPA's floor is 5 (the user's own minimum 1) and 2 pods run so far; b: the user's minimum, 1 pod.
        var snapshot = new ClusterSnapshot(s_now, [Pod("a1", "a"), Pod("a2", "a"), Pod("b1", "b")], [], [])
        {
            Autoscaled = [new AutoscaledSite("api", "a", 1, 5, 10), new AutoscaledSite("api", "b", 1, 1, 10)],
        };
        loop.Adopt(snapshot);

        Assert.Equal((5, 5), (loop.Desired[0, 0], loop.Desired.Anticipated(0, 0)));
        Assert.Equal((1, 0), (loop.Desired[0, 1], loop.Desired.Anticipated(0, 1)));
        ReconcilePlan plan = new PlacementReconciler(topology, [s_app]).Plan(loop.Desired, snapshot, [new double[2]]);
        Assert.DoesNotContain(plan.Commands, c => c is ReconcileCommand.SetFloor or ReconcileCommand.SpinUp or ReconcileCommand.Drain or ReconcileCommand.Stop);
    }

    private static InstanceInfo Pod(string id, string site) =>
        new(new InstanceId(id), "api", site, site, InstanceState.Ready, 1, s_now.AddMinutes(-10), s_now.AddMinutes(-9), s_now.AddMinutes(-9), 0);

    private sealed class NeverDecides : IScalingPolicy
    {
        public string Name => "none";

        public double DecisionPeriodSeconds => 5;

        public void OnStep(PolicyContext context)
        {
        }

        public void Decide(PolicyContext context, ClusterSnapshot cluster, DesiredPlacement desired) => throw new InvalidOperationException("not called");
    }

    private sealed class NoMetrics : IMetricsObserver
    {
        public double SampleSeconds => 5;

        public ValueTask RefreshAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void IngressRates(int app, double windowSeconds, Span<double> ratesBySite) => ratesBySite.Clear();

        public double? InstanceUtilization(InstanceId id) => null;

        public double Concurrency(int app) => 0;
    }

    private sealed class NoCluster : IOrchestrator
    {
        public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) => throw new NotSupportedException();
    }
}
