using Foresight.Orchestration;

namespace Foresight.Orchestration.Tests.Contract;

/// <summary>
/// The behaviour every <see cref="IOrchestrator"/> must show. An implementation's test project derives from this class
/// and supplies a fixture; every test here then runs against it.
/// </summary>
public abstract class OrchestratorContractTests
{
    private static readonly CancellationToken s_none = CancellationToken.None;

    protected abstract IOrchestratorFixture CreateFixture();

    [Fact]
    public async Task SpinUp_is_idempotent_by_request_id()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo first = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("req-1", f.App, f.SiteA), s_none);
        InstanceInfo again = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("req-1", f.App, f.SiteA), s_none);
        InstanceInfo other = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("req-2", f.App, f.SiteA), s_none);

        Assert.Equal(first.Id, again.Id);
        Assert.NotEqual(first.Id, other.Id);
        Assert.Equal(f.App, first.App);
        Assert.Equal(f.SiteA, first.SiteId);
    }

    [Fact]
    public async Task An_instance_moves_forward_through_its_lifecycle_to_ready()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo created = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("lifecycle", f.App, f.SiteB), s_none);
        Assert.True(created.State is InstanceState.Pending or InstanceState.Starting);

        var seen = new List<InstanceState> { created.State };
        TimeSpan step = TimeSpan.FromTicks(Math.Max(TimeSpan.TicksPerSecond, f.ReadyWithin.Ticks / 20));
        for (TimeSpan waited = TimeSpan.Zero; waited <= f.ReadyWithin + step; waited += step)
        {
            await f.AdvanceAsync(step);
            InstanceInfo now = Find(await f.Orchestrator.ObserveAsync(s_none), created.Id);
            seen.Add(now.State);
            if (now.State == InstanceState.Ready)
            {
                break;
            }
        }

        Assert.Equal(InstanceState.Ready, seen[^1]);
        for (int i = 1; i < seen.Count; i++)
        {
            Assert.True(seen[i] >= seen[i - 1], $"state went backwards: {string.Join(" -> ", seen)}");
        }
    }

    [Fact]
    public async Task WaitUntilReady_completes_once_the_instance_is_ready()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo created = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("wait", f.App, f.SiteA), s_none);
        Task<InstanceInfo> wait = f.Orchestrator.WaitUntilReadyAsync(created.Id, f.ReadyWithin * 2, s_none).AsTask();
        Assert.False(wait.IsCompleted);

        await f.AdvanceAsync(f.ReadyWithin + TimeSpan.FromSeconds(2));
        InstanceInfo ready = await wait.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(InstanceState.Ready, ready.State);
        Assert.NotNull(ready.ReadyAt);
    }

    [Fact]
    public async Task WaitUntilReady_times_out_in_the_orchestrators_clock()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo created = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("timeout", f.App, f.SiteA), s_none);
        Task<InstanceInfo> wait = f.Orchestrator.WaitUntilReadyAsync(created.Id, TimeSpan.FromSeconds(1), s_none).AsTask();

        await f.AdvanceAsync(TimeSpan.FromSeconds(3));

        await Assert.ThrowsAsync<TimeoutException>(() => wait.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Drain_and_stop_are_idempotent_and_stopped_instances_leave_the_snapshot()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo created = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("drain", f.App, f.SiteA), s_none);
        await f.AdvanceAsync(f.ReadyWithin + TimeSpan.FromSeconds(2));

        await f.Orchestrator.DrainAsync(created.Id, s_none);
        await f.Orchestrator.DrainAsync(created.Id, s_none);
        Assert.Equal(InstanceState.Draining, Find(await f.Orchestrator.ObserveAsync(s_none), created.Id).State);

        await f.Orchestrator.StopAsync(created.Id, s_none);
        await f.Orchestrator.StopAsync(created.Id, s_none);
        await f.Orchestrator.DrainAsync(created.Id, s_none);
        ClusterSnapshot after = await f.Orchestrator.ObserveAsync(s_none);
        Assert.DoesNotContain(after.Instances, i => i.Id == created.Id);
    }

    [Fact]
    public async Task Operations_on_an_unknown_instance_throw_InstanceNotFound()
    {
        IOrchestratorFixture f = CreateFixture();
        var ghost = new InstanceId("no-such-instance");

        await Assert.ThrowsAsync<InstanceNotFoundException>(async () => await f.Orchestrator.DrainAsync(ghost, s_none));
        await Assert.ThrowsAsync<InstanceNotFoundException>(async () => await f.Orchestrator.StopAsync(ghost, s_none));
        await Assert.ThrowsAsync<InstanceNotFoundException>(
            async () => await f.Orchestrator.WaitUntilReadyAsync(ghost, TimeSpan.FromSeconds(1), s_none));
    }

    [Fact]
    public async Task Routes_are_stored_and_replaced()
    {
        IOrchestratorFixture f = CreateFixture();
        await f.Orchestrator.SetRouteAsync(new Route(f.App, f.SiteA, [new SiteWeight(f.SiteA, 80), new SiteWeight(f.SiteB, 20)]), s_none);
        await f.Orchestrator.SetRouteAsync(new Route(f.App, f.SiteA, [new SiteWeight(f.SiteB, 100)]), s_none);

        ClusterSnapshot snapshot = await f.Orchestrator.ObserveAsync(s_none);
        Route route = Assert.Single(snapshot.Routes, r => r.App == f.App && r.IngressSiteId == f.SiteA);
        SiteWeight only = Assert.Single(route.Weights);
        Assert.Equal(f.SiteB, only.SiteId);
    }

    [Fact]
    public async Task A_route_to_an_unknown_site_is_rejected_without_changing_the_current_route()
    {
        IOrchestratorFixture f = CreateFixture();
        await f.Orchestrator.SetRouteAsync(new Route(f.App, f.SiteA, [new SiteWeight(f.SiteA, 1)]), s_none);

        await Assert.ThrowsAnyAsync<OrchestratorException>(
            async () => await f.Orchestrator.SetRouteAsync(new Route(f.App, f.SiteA, [new SiteWeight("atlantis", 1)]), s_none));

        ClusterSnapshot snapshot = await f.Orchestrator.ObserveAsync(s_none);
        Route route = Assert.Single(snapshot.Routes, r => r.App == f.App && r.IngressSiteId == f.SiteA);
        Assert.Equal(f.SiteA, Assert.Single(route.Weights).SiteId);
    }

    [Fact]
    public async Task Observe_lists_instances_with_app_site_and_server()
    {
        IOrchestratorFixture f = CreateFixture();
        InstanceInfo a = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("obs-a", f.App, f.SiteA), s_none);
        InstanceInfo b = await f.Orchestrator.SpinUpAsync(new SpinUpRequest("obs-b", f.App, f.SiteB), s_none);
        await f.AdvanceAsync(f.ReadyWithin + TimeSpan.FromSeconds(2));

        ClusterSnapshot snapshot = await f.Orchestrator.ObserveAsync(s_none);
        Assert.Equal(f.SiteA, Find(snapshot, a.Id).SiteId);
        Assert.Equal(f.SiteB, Find(snapshot, b.Id).SiteId);
        Assert.All(new[] { Find(snapshot, a.Id), Find(snapshot, b.Id) }, i =>
        {
            Assert.Equal(f.App, i.App);
            Assert.Equal(InstanceState.Ready, i.State);
            Assert.NotNull(i.ServerId);
            Assert.Equal(1.0, i.CapacityFraction, 6);
        });
    }

    private static InstanceInfo Find(ClusterSnapshot snapshot, InstanceId id) =>
        snapshot.Instances.Single(i => i.Id == id);
}
