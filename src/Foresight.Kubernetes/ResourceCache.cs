using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// An informer-style cache of one resource: list, then watch from the list's resourceVersion (with bookmarks);
/// relist when the watch fails or the server answers 410 Gone. Objects returned by our own writes stand in
/// for the watched copy until the watch delivers that same resourceVersion, so a caller reads its own writes.
/// </summary>
internal sealed class ResourceCache<T> : IAsyncDisposable
    where T : class, IKubernetesObject<V1ObjectMeta>
{
    internal delegate Task<(IList<T> Items, string? ResourceVersion)> ListFunc(CancellationToken cancellationToken);

    internal delegate IAsyncEnumerable<(WatchEventType Type, T Object)> WatchFunc(
        string? resourceVersion, Action<Exception> onError, CancellationToken cancellationToken);

    private readonly string _name;
    private readonly ListFunc _list;
    private readonly WatchFunc _watch;
    private readonly TimeProvider _time;
    private readonly TimeSpan _overlayTtl;
    private readonly object _gate = new();
    private readonly Dictionary<string, T> _items = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (T Object, string? Version, DateTimeOffset Expires)> _overlay = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Queue<string>> _seen = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private string? _resourceVersion;
    private Task? _loop;

    public ResourceCache(string name, ListFunc list, WatchFunc watch, TimeProvider time, TimeSpan overlayTtl)
    {
        _name = name;
        _list = list;
        _watch = watch;
        _time = time;
        _overlayTtl = overlayTtl;
    }

    /// <summary>
    /// False from a watch failure until the background loop has listed again and resumes watching; readers then list
    /// directly. (A list a reader makes meanwhile does not restore it: no watch follows that list.)
    /// </summary>
    public bool Healthy { get; private set; }

    /// <summary>The newest resourceVersion seen (list, event or bookmark). Opaque; tests compare it.</summary>
    public string? ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _resourceVersion;
            }
        }
    }

    /// <summary>Completes on the next change of the cache contents or health.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Lists once (failing if the list fails), then keeps watching in the background.</summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await RelistAsync(cancellationToken).ConfigureAwait(false);
        Healthy = true;
        _loop = Task.Run(() => RunAsync(_stop.Token), CancellationToken.None);
    }

    public async Task RelistAsync(CancellationToken cancellationToken)
    {
        (IList<T> items, string? rv) = await _list(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            _items.Clear();
            foreach (T item in items)
            {
                _items[item.Metadata.Name] = item;
                SeenLocked(item.Metadata.Name, item.Metadata.ResourceVersion);
                if (_overlay.TryGetValue(item.Metadata.Name, out var o) && o.Version == item.Metadata.ResourceVersion)
                {
                    _overlay.Remove(item.Metadata.Name);
                }
            }

            _resourceVersion = rv;
            SignalLocked();
        }
    }

    public T? Get(string name)
    {
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (_overlay.TryGetValue(name, out var o) && o.Expires > now)
            {
                return o.Object;
            }

            return _items.GetValueOrDefault(name);
        }
    }

    public IReadOnlyList<T> List()
    {
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            var result = new Dictionary<string, T>(_items, StringComparer.Ordinal);
            foreach ((string name, var o) in _overlay)
            {
                if (o.Expires > now)
                {
                    result[name] = o.Object;
                }
            }

            return result.Values.OrderBy(i => i.Metadata.Name, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Makes the object a write returned visible at once.</summary>
    public void Upsert(T written)
    {
        lock (_gate)
        {
            string name = written.Metadata.Name;
            if (written.Metadata.ResourceVersion is { } rv && _seen.TryGetValue(name, out Queue<string>? seen) && seen.Contains(rv))
            {
                // The watch was faster than the response: the cache already holds this version or a newer one.
                return;
            }

            _overlay[name] = (written, written.Metadata.ResourceVersion, _time.GetUtcNow() + _overlayTtl);
            SignalLocked();
        }
    }

    private void SeenLocked(string name, string? rv)
    {
        if (rv is null)
        {
            return;
        }

        if (!_seen.TryGetValue(name, out Queue<string>? seen))
        {
            seen = new Queue<string>();
            _seen[name] = seen;
        }

        seen.Enqueue(rv);
        while (seen.Count > 16)
        {
            seen.Dequeue();
        }
    }

    private async Task RunAsync(CancellationToken stop)
    {
        int failures = 0;
        bool relist = false;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                if (relist)
                {
                    await RelistAsync(stop).ConfigureAwait(false);
                    relist = false;

                    // The cache is as current as the server again, and the watch resumes from here: healthy now, not at
                    // the next event or bookmark (a quiet namespace has none, and a server sends bookmarks once a minute).
                    lock (_gate)
                    {
                        Healthy = true;
                        SignalLocked();
                    }
                }

                Exception? streamError = null;
                string? from = ResourceVersion;
                await foreach ((WatchEventType type, T obj) in _watch(from, e => streamError = e, stop).ConfigureAwait(false))
                {
                    if (type == WatchEventType.Error)
                    {
                        // Typically 410 Gone: our resourceVersion is too old to resume from.
                        relist = true;
                        break;
                    }

                    Apply(type, obj);
                    failures = 0;
                }

                if (streamError is KubernetesException { Status.Code: 410 })
                {
                    // Our resourceVersion was compacted away: relist at once, as an informer does; nothing failed.
                    relist = true;
                }
                else if (streamError is not null && !stop.IsCancellationRequested)
                {
                    throw streamError;
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                failures++;
                relist = true;
                lock (_gate)
                {
                    Healthy = false;
                    SignalLocked();
                }

                try
                {
                    // Back off on the orchestrator's clock: 1 s, 2 s, 4 s ... 30 s.
                    TimeSpan delay = TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, failures - 1)));
                    await Task.Delay(delay, _time, stop).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Apply(WatchEventType type, T obj)
    {
        lock (_gate)
        {
            string name = obj.Metadata?.Name ?? "";
            switch (type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    _items[name] = obj;
                    SeenLocked(name, obj.Metadata!.ResourceVersion);
                    if (_overlay.TryGetValue(name, out var o) && o.Version == obj.Metadata!.ResourceVersion)
                    {
                        _overlay.Remove(name);
                    }

                    break;
                case WatchEventType.Deleted:
                    _items.Remove(name);
                    _overlay.Remove(name);
                    _seen.Remove(name);
                    break;
            }

            if (obj.Metadata?.ResourceVersion is { } rv)
            {
                _resourceVersion = rv;
            }

            Healthy = true;
            SignalLocked();
        }
    }

    private void SignalLocked()
    {
        TaskCompletionSource done = _changed;
        _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        done.TrySetResult();
    }

    public override string ToString() => $"cache({_name})";

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loop is not null)
        {
            try
            {
                await _loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }
}
