using Foresight.Core;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Foresight.Cli.Controller;

/// <summary>
/// The continuous controller: every tick period (on the injected <see cref="TimeProvider"/>) it runs one engine tick
/// (observe, forecast, decide, reconcile) and publishes an immutable <see cref="ControllerStatus"/>. Ticks never
/// overlap; a tick that runs late makes the loop skip the grid points it missed and run once at the next one
/// (coalescing), and the next tick sees the whole elapsed time.
/// </summary>
public sealed class ControllerLoop : BackgroundService
{
    private readonly IControllerEngine _engine;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly ICommandJournal _journal;
    private readonly ControllerMetrics? _metrics;
    private readonly ILogger _logger;
    private readonly Action<CommandRecord>? _onCommand;
    private ControllerStatus _status;
    private long _ticks;
    private long _skipped;
    private long _failed;
    private Exception? _lastFailure;
    private long _lastTickTimestamp;
    private volatile bool _paused;
    private volatile bool _dryRun;
    private bool _onTickThread;

    public ControllerLoop(
        IControllerEngine engine,
        TimeSpan period,
        bool dryRun,
        TimeProvider time,
        ICommandJournal? journal = null,
        ControllerMetrics? metrics = null,
        ILogger<ControllerLoop>? logger = null,
        Action<CommandRecord>? onCommand = null)
    {
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), "The tick period must be positive.");
        }

        _engine = engine;
        _period = period;
        _dryRun = dryRun;
        _time = time;
        _journal = journal ?? engine.Journal ?? new InMemoryCommandJournal();
        _metrics = metrics;
        _logger = logger ?? NullLogger<ControllerLoop>.Instance;
        _onCommand = onCommand;
        _status = ControllerStatus.Initial(engine.Mode, dryRun);
    }

    /// <summary>The latest published snapshot.</summary>
    public ControllerStatus Status => Volatile.Read(ref _status);

    public ICommandJournal Journal => _journal;

    /// <summary>Ticks that ended in an error so far.</summary>
    public long FailedTicks => Interlocked.Read(ref _failed);

    /// <summary>The error of the latest failed tick.</summary>
    public Exception? LastFailure => Volatile.Read(ref _lastFailure);

    public TimeSpan Period => _period;

    /// <summary>While paused, ticks keep their schedule but do nothing (the cluster is left as it is).</summary>
    public bool Paused
    {
        get => _paused;
        set => _paused = value;
    }

    /// <summary>In dry-run, ticks plan the orchestrator commands and record them as planned, without applying them.</summary>
    public bool DryRun
    {
        get => _dryRun;
        set => _dryRun = value;
    }

    /// <summary>Raised after each tick's status is published.</summary>
    public event Action<ControllerStatus>? Published;

    /// <summary>
    /// Hosted (serve), the loop runs on its own thread: request work on the thread pool cannot delay a tick's
    /// continuation behind it in the pool's queue.
    /// </summary>
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        _onTickThread = true;
        return DedicatedThread.Run("foresight-ticks", () => RunAsync(maxTicks: null, stoppingToken));
    }

    /// <summary>Runs ticks on the schedule until cancelled, or until <paramref name="maxTicks"/> have run.</summary>
    public async Task RunAsync(long? maxTicks, CancellationToken cancellationToken)
    {
        var schedule = new TickSchedule(_time.GetUtcNow(), _period);
        DateTimeOffset due = _time.GetUtcNow();
        _lastTickTimestamp = _time.GetTimestamp() - (long)(_period.TotalSeconds * _time.TimestampFrequency);
        long ran = 0;
        while (!cancellationToken.IsCancellationRequested && (maxTicks is null || ran < maxTicks))
        {
            TimeSpan wait = due - _time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                try
                {
                    // Hosted, resume on the dedicated tick thread; otherwise on the pool as before.
                    await Task.Delay(wait, _time, cancellationToken).ConfigureAwait(_onTickThread);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }

            _metrics?.RecordLateness((_time.GetUtcNow() - due).TotalSeconds);
            await TickAsync(cancellationToken).ConfigureAwait(_onTickThread);
            ran++;
            (due, long skipped) = schedule.Next(due, _time.GetUtcNow());
            if (skipped > 0)
            {
                Interlocked.Add(ref _skipped, skipped);
                _metrics?.RecordTick(0, 0, skipped);
                _logger.LogWarning("Tick {Tick} ran late; skipped {Skipped} tick(s) and coalesced them into the next", _ticks, skipped);
                Volatile.Write(ref _status, Status with { SkippedTicks = Interlocked.Read(ref _skipped) });
            }
        }
    }

    /// <summary>Runs one tick now and publishes its status. Errors are logged and published, never thrown (except cancellation).</summary>
    public async Task TickAsync(CancellationToken cancellationToken)
    {
        long started = _time.GetTimestamp();
        TimeSpan elapsed = _time.GetElapsedTime(_lastTickTimestamp, started);
        _lastTickTimestamp = started;
        long tick = Interlocked.Increment(ref _ticks);
        bool dryRun = _dryRun;
        ControllerStatus previous = Status;
        if (_paused)
        {
            Publish(previous with { Tick = tick, Paused = true, DryRun = dryRun, Time = _time.GetUtcNow(), TickDurationMs = 0 });
            return;
        }

        try
        {
            EngineTick result = await _engine.TickAsync(elapsed, dryRun, cancellationToken).ConfigureAwait(_onTickThread);
            DateTimeOffset now = _time.GetUtcNow();
            double seconds = _time.GetElapsedTime(started).TotalSeconds;
            var records = result.Commands
                .Select(c => new CommandRecord(now, tick, c.App, c.Kind, c.Target, c.Detail, c.Outcome, c.Error))
                .ToList();
            _journal.Append(records);
            foreach (CommandRecord r in records)
            {
                _metrics?.RecordCommand(r.Kind, r.Outcome);
                _onCommand?.Invoke(r);
                if (r.Outcome == "failed")
                {
                    _logger.LogWarning("Command {Kind} {Target} for {App} failed: {Error}", r.Kind, r.Target, r.App, r.Error);
                }
            }

            _metrics?.SeedApps(result.Apps.Select(a => a.Name));
            foreach (AppStatus app in result.Apps)
            {
                foreach (Migration m in app.Migrations.Where(m => m.Time > previous.EngineSeconds))
                {
                    _metrics?.RecordMove(m.App, m.From, m.To, m.Replicas);
                }

                foreach (ObservationWarning w in app.Warnings)
                {
                    _metrics?.RecordObservationWarning(app.Name, w.Reason);
                    _logger.LogWarning("Traffic of {App}{Site}: {Warning}", app.Name, w.Site is null ? "" : $" at {w.Site}", w.Message);
                }

                foreach (Decision d in app.Decisions.Where(d => d.Time > previous.EngineSeconds))
                {
                    _metrics?.RecordDecision(d.App, d.Kind);
                    _logger.LogInformation(
                        "Decision {Kind} for {App} at {Site}: {From} -> {To} ({Reason})", d.Kind, d.App, d.Site, d.From, d.To, d.Reason);
                }
            }

            _metrics?.RecordTick(seconds, result.ReconcileSeconds, 0);
            _logger.LogDebug("Tick {Tick} took {DurationMs:F1} ms with {Commands} command(s)", tick, seconds * 1000, records.Count);
            Publish(new ControllerStatus
            {
                Mode = _engine.Mode,
                DryRun = dryRun,
                Paused = false,
                Tick = tick,
                SkippedTicks = Interlocked.Read(ref _skipped),
                TickDurationMs = seconds * 1000,
                Time = now,
                EngineSeconds = result.EngineSeconds,
                ForecastMase = result.ForecastMase,
                ForecastCoverage90 = result.ForecastCoverage90,
                Message = result.Message,
                Apps = result.Apps,
            });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e)
        {
            // The loop must survive a failing orchestrator or data source; the next tick re-reads everything.
            _metrics?.RecordFailedTick();
            Interlocked.Increment(ref _failed);
            Volatile.Write(ref _lastFailure, e);
            string message = e is InvalidInputException ? e.Message : $"{e.GetType().Name}: {e.Message}";
            _logger.LogError(e, "Tick {Tick} failed: {Error}", tick, message);
            Publish(previous with
            {
                Tick = tick,
                DryRun = dryRun,
                Paused = false,
                Time = _time.GetUtcNow(),
                TickDurationMs = _time.GetElapsedTime(started).TotalMilliseconds,
                Message = $"tick {tick} failed: {message}",
            });
        }
    }

    private void Publish(ControllerStatus status)
    {
        Volatile.Write(ref _status, status);
        Published?.Invoke(status);
    }
}
