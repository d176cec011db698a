using Foresight.Control.Faults;
using Foresight.Orchestration;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Control.Tests.Faults;

public sealed class ResilientOrchestratorTests
{
    private static readonly DateTimeOffset s_epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Records calls; each call takes the next scripted outcome (null = succeed, "hang" = never answer).</summary>
    private sealed class ScriptedOrchestrator : IOrchestrator
    {
        private readonly Queue<object?> _script = new();

        public int Calls;

        public void Then(params object?[] outcomes)
        {
            foreach (object? o in outcomes)
            {
                _script.Enqueue(o);
            }
        }

        public async ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken ct)
        {
            await Next(ct).ConfigureAwait(false);
            return new InstanceInfo(new InstanceId("i-" + request.RequestId), request.App, request.SiteId, null, InstanceState.Pending, 0, s_epoch, s_epoch, null, 0);
        }

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken ct) => throw new NotSupportedException();

        public async ValueTask SetRouteAsync(Route route, CancellationToken ct) => await Next(ct).ConfigureAwait(false);

        public async ValueTask DrainAsync(InstanceId id, CancellationToken ct) => await Next(ct).ConfigureAwait(false);

        public async ValueTask StopAsync(InstanceId id, CancellationToken ct) => await Next(ct).ConfigureAwait(false);

        public async ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken ct)
        {
            await Next(ct).ConfigureAwait(false);
            return new ClusterSnapshot(s_epoch, [], [], []);
        }

        private async Task Next(CancellationToken ct)
        {
            Interlocked.Increment(ref Calls);
            object? outcome = _script.TryDequeue(out object? o) ? o : null;
            switch (outcome)
            {
                case Exception e:
                    throw e;
                case "hang":
                    await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>
    /// A fake clock that counts the timers created on it. Polly resumes after a delay on the thread pool, so a test
    /// waits until the next timer exists before advancing; otherwise the advance could pass before it is armed.
    /// </summary>
    private sealed class ObservedTime : TimeProvider
    {
        private readonly FakeTimeProvider _fake = new(s_epoch);
        private int _timers;

        public int Timers => Volatile.Read(ref _timers);

        public override DateTimeOffset GetUtcNow() => _fake.GetUtcNow();

        public override long GetTimestamp() => _fake.GetTimestamp();

        public override long TimestampFrequency => _fake.TimestampFrequency;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            ITimer timer = _fake.CreateTimer(callback, state, dueTime, period);
            Interlocked.Increment(ref _timers);
            return timer;
        }

        /// <summary>Waits for the <paramref name="timers"/>-th timer to be armed, then advances.</summary>
        public void AdvanceOnce(int timers, TimeSpan by)
        {
            WaitFor(() => Timers >= timers);
            _fake.Advance(by);
        }
    }

    private static OrchestratorException Transient() => new("API server busy", isTransient: true);

    private static void WaitFor(Func<bool> condition) => Assert.True(SpinWait.SpinUntil(condition, TimeSpan.FromSeconds(10)));

    [Fact]
    public async Task Transient_errors_are_retried_with_exponential_backoff_on_the_time_provider()
    {
        var time = new ObservedTime();
        var inner = new ScriptedOrchestrator();
        inner.Then(Transient(), Transient(), null);
        var resilient = new ResilientOrchestrator(inner, time, new OrchestratorRetryOptions { AttemptTimeout = null });

        Task drain = resilient.DrainAsync(new InstanceId("x"), CancellationToken.None).AsTask();
        Assert.Equal(1, inner.Calls);

        time.AdvanceOnce(1, TimeSpan.FromMilliseconds(199));
        Assert.Equal(1, inner.Calls);
        time.AdvanceOnce(1, TimeSpan.FromMilliseconds(1));

        // The second backoff is twice the first.
        time.AdvanceOnce(2, TimeSpan.FromMilliseconds(399));
        Assert.Equal(2, inner.Calls);
        time.AdvanceOnce(2, TimeSpan.FromMilliseconds(1));
        await drain.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(3, inner.Calls);
        Assert.Equal(2, resilient.Retries);
        Assert.Equal(0, resilient.GaveUp);
    }

    [Fact]
    public async Task A_permanent_error_is_not_retried()
    {
        var inner = new ScriptedOrchestrator();
        inner.Then(new InstanceNotFoundException(new InstanceId("x")));
        var resilient = new ResilientOrchestrator(inner, new FakeTimeProvider(s_epoch));

        await Assert.ThrowsAsync<InstanceNotFoundException>(() => resilient.StopAsync(new InstanceId("x"), CancellationToken.None).AsTask());
        Assert.Equal(1, inner.Calls);
        Assert.Equal(0, resilient.Retries);
    }

    [Fact]
    public async Task After_the_last_retry_the_transient_error_surfaces_for_the_next_pass()
    {
        var inner = new ScriptedOrchestrator();
        inner.Then(Transient(), Transient(), Transient());
        var resilient = new ResilientOrchestrator(inner, TimeProvider.System, new OrchestratorRetryOptions { MaxRetries = 2, BaseDelay = TimeSpan.Zero });

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(
            () => resilient.SetRouteAsync(new Route("api", "a", []), CancellationToken.None).AsTask());

        Assert.True(e.IsTransient);
        Assert.Equal(3, inner.Calls);
        Assert.Equal(2, resilient.Retries);
        Assert.Equal(1, resilient.GaveUp);
    }

    [Fact]
    public async Task A_call_that_hangs_is_abandoned_after_the_attempt_timeout_and_retried()
    {
        var time = new ObservedTime();
        var inner = new ScriptedOrchestrator();
        inner.Then("hang", null);
        var resilient = new ResilientOrchestrator(inner, time, new OrchestratorRetryOptions { AttemptTimeout = TimeSpan.FromSeconds(2) });

        // Timers: the first attempt's timeout, then the retry's backoff.
        Task<InstanceInfo> spin = resilient.SpinUpAsync(new SpinUpRequest("r1", "api", "a"), CancellationToken.None).AsTask();
        time.AdvanceOnce(1, TimeSpan.FromSeconds(2));
        time.AdvanceOnce(2, TimeSpan.FromMilliseconds(200));
        InstanceInfo inst = await spin.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal("i-r1", inst.Id.Value);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task Timeouts_that_persist_become_a_transient_orchestrator_error()
    {
        var time = new ObservedTime();
        var inner = new ScriptedOrchestrator();
        inner.Then("hang", "hang");
        var resilient = new ResilientOrchestrator(inner, time, new OrchestratorRetryOptions { MaxRetries = 1, AttemptTimeout = TimeSpan.FromSeconds(1) });

        // Timers: attempt 1's timeout, the backoff, attempt 2's timeout.
        Task observe = resilient.ObserveAsync(CancellationToken.None).AsTask();
        time.AdvanceOnce(1, TimeSpan.FromSeconds(1));
        time.AdvanceOnce(2, TimeSpan.FromMilliseconds(200));
        time.AdvanceOnce(3, TimeSpan.FromSeconds(1));

        OrchestratorException e = await Assert.ThrowsAsync<OrchestratorException>(() => observe.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(e.IsTransient);
        Assert.Contains("observe timed out", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1, 200, 5000, 10000, "MaxRetries")]
    [InlineData(3, -1, 5000, 10000, "BaseDelay")]
    [InlineData(3, 200, 100, 10000, "MaxDelay")]
    [InlineData(3, 200, 5000, 0, "AttemptTimeout")]
    public void Invalid_options_are_rejected_by_name(int retries, int baseMs, int maxMs, int timeoutMs, string field)
    {
        var options = new OrchestratorRetryOptions
        {
            MaxRetries = retries,
            BaseDelay = TimeSpan.FromMilliseconds(baseMs),
            MaxDelay = TimeSpan.FromMilliseconds(maxMs),
            AttemptTimeout = TimeSpan.FromMilliseconds(timeoutMs),
        };
        Assert.Equal(field, options.Validate());
    }
}
