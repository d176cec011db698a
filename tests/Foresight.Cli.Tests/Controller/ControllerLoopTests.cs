using Foresight.Cli.Controller;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Cli.Tests.Controller;

public sealed class ControllerLoopTests
{
    /// <summary>Records each call; a tick can take fake time (a slow tick) or throw.</summary>
    private sealed class FakeEngine(FakeTimeProvider time) : IControllerEngine
    {
        private int _inFlight;

        public List<TimeSpan> Elapsed { get; } = [];

        public List<bool> DryRuns { get; } = [];

        public Queue<TimeSpan> Work { get; } = new();

        public Queue<Exception> Failures { get; } = new();

        public int MaxConcurrent { get; private set; }

        public string Mode => "fake";

        public ValueTask<EngineTick> TickAsync(TimeSpan elapsed, bool dryRun, CancellationToken cancellationToken)
        {
            MaxConcurrent = Math.Max(MaxConcurrent, Interlocked.Increment(ref _inFlight));
            try
            {
                Elapsed.Add(elapsed);
                DryRuns.Add(dryRun);
                if (Work.TryDequeue(out TimeSpan work))
                {
                    time.Advance(work);
                }

                if (Failures.TryDequeue(out Exception? failure))
                {
                    throw failure;
                }

                var command = new EngineCommand("api", "spin-up", "api@a", "r1", dryRun ? "planned" : "applied");
                return ValueTask.FromResult(new EngineTick(Elapsed.Count, [], [command], 0));
            }
            finally
            {
                Interlocked.Decrement(ref _inFlight);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(100);

    [Fact]
    public async Task A_slow_tick_is_coalesced_not_queued_and_the_next_tick_sees_all_the_elapsed_time()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
        var engine = new FakeEngine(time);
        engine.Work.Enqueue(TimeSpan.FromMilliseconds(350)); // tick 1 overruns three periods
        var loop = new ControllerLoop(engine, Period, dryRun: false, time);

        Task run = loop.RunAsync(maxTicks: 3, CancellationToken.None);
        Assert.Single(engine.Elapsed); // tick 1 ran at once and the loop now waits for t = 400 ms
        Assert.Equal(3, loop.Status.SkippedTicks);

        time.Advance(TimeSpan.FromMilliseconds(49));
        Assert.Single(engine.Elapsed); // not yet due
        time.Advance(TimeSpan.FromMilliseconds(1));
        await WaitFor(() => engine.Elapsed.Count == 2);
        time.Advance(Period);
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal([Period, TimeSpan.FromMilliseconds(400), Period], engine.Elapsed);
        Assert.Equal(1, engine.MaxConcurrent);
        Assert.Equal(3, loop.Status.Tick);
        Assert.Equal(3, loop.Status.SkippedTicks);
        Assert.Equal(3, loop.Journal.Recent(10).Count);
    }

    [Fact]
    public async Task On_time_ticks_skip_nothing()
    {
        var time = new FakeTimeProvider();
        var engine = new FakeEngine(time);
        engine.Work.Enqueue(TimeSpan.FromMilliseconds(30));
        var loop = new ControllerLoop(engine, Period, dryRun: false, time);

        Task run = loop.RunAsync(maxTicks: 2, CancellationToken.None);
        time.Advance(TimeSpan.FromMilliseconds(70));
        await run.WaitAsync(TimeSpan.FromSeconds(10));

        Assert.Equal(0, loop.Status.SkippedTicks);
        Assert.Equal(2, engine.Elapsed.Count);
    }

    [Fact]
    public async Task Paused_ticks_leave_the_engine_alone_and_dry_run_reaches_it()
    {
        var time = new FakeTimeProvider();
        var engine = new FakeEngine(time);
        var loop = new ControllerLoop(engine, Period, dryRun: true, time) { Paused = true };

        await loop.TickAsync(CancellationToken.None);
        Assert.Empty(engine.Elapsed);
        Assert.True(loop.Status.Paused);

        loop.Paused = false;
        await loop.TickAsync(CancellationToken.None);
        loop.DryRun = false;
        await loop.TickAsync(CancellationToken.None);

        Assert.Equal([true, false], engine.DryRuns);
        Assert.Equal(["applied", "planned"], loop.Journal.Recent(10).Select(r => r.Outcome));
    }

    [Fact]
    public async Task A_failing_tick_is_reported_in_the_status_and_the_loop_goes_on()
    {
        var time = new FakeTimeProvider();
        var engine = new FakeEngine(time);
        engine.Failures.Enqueue(new Foresight.Orchestration.OrchestratorException("API server unavailable", isTransient: true));
        var loop = new ControllerLoop(engine, Period, dryRun: false, time);

        await loop.TickAsync(CancellationToken.None);
        Assert.Contains("API server unavailable", loop.Status.Message);

        await loop.TickAsync(CancellationToken.None);
        Assert.Null(loop.Status.Message);
        Assert.Equal(2, loop.Status.Tick);
    }

    private static async Task WaitFor(Func<bool> condition)
    {
        // The loop's continuation runs on the thread pool after FakeTimeProvider fires the delay.
        for (int i = 0; i < 500 && !condition(); i++)
        {
            await Task.Yield();
            Thread.Sleep(2);
        }

        Assert.True(condition());
    }
}
