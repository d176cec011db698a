namespace Foresight.Cli.Controller;

/// <summary>
/// Runs an async loop on one dedicated thread: its continuations are posted back to that thread rather than queued
/// on the thread pool, so the ticks are scheduled by the OS next to request work, not behind it in the pool's queue.
/// </summary>
internal static class DedicatedThread
{
    /// <summary>Starts <paramref name="loop"/> on a new background thread; the task completes as the loop does.</summary>
    public static Task Run(string name, Func<Task> loop)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            var context = new Context();
            SynchronizationContext.SetSynchronizationContext(context);
            Task run;
            try
            {
                run = loop();
            }
            catch (Exception e)
            {
                done.SetException(e);
                return;
            }

            run.ContinueWith(_ => context.Complete(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            context.Pump();
            if (run.IsFaulted)
            {
                done.SetException(run.Exception.InnerExceptions);
            }
            else if (run.IsCanceled)
            {
                done.SetCanceled();
            }
            else
            {
                done.SetResult();
            }
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    private sealed class Context : SynchronizationContext
    {
        private readonly Queue<(SendOrPostCallback Callback, object? State)> _queue = new();
        private readonly object _gate = new(); // a Monitor, not a Lock: Pump waits on it
        private bool _completed;

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_gate)
            {
                if (_completed)
                {
                    // The loop has ended: whatever still trickles in runs on the pool.
                    ThreadPool.QueueUserWorkItem(s => d(s), state, preferLocal: false);
                    return;
                }

                _queue.Enqueue((d, state));
                Monitor.Pulse(_gate);
            }
        }

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException("The tick thread only accepts posts.");

        public override SynchronizationContext CreateCopy() => this;

        public void Complete()
        {
            lock (_gate)
            {
                _completed = true;
                Monitor.Pulse(_gate);
            }
        }

        public void Pump()
        {
            while (true)
            {
                (SendOrPostCallback Callback, object? State) next;
                lock (_gate)
                {
                    while (_queue.Count == 0 && !_completed)
                    {
                        Monitor.Wait(_gate);
                    }

                    if (_queue.Count == 0)
                    {
                        return;
                    }

                    next = _queue.Dequeue();
                }

                next.Callback(next.State);
            }
        }
    }
}
