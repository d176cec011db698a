using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using k8s;
using Microsoft.Extensions.Time.Testing;

namespace Foresight.Kubernetes.Tests.Fake;

/// <summary>One request the fake API server answered.</summary>
/// <param name="Summary">Verb and object, e.g. <c>apply services/shop-edge-b</c>, <c>merge deployments/shop-edge-a</c>, <c>watch pods</c>.</param>
public sealed record RecordedRequest(string Method, string Path, string Query, string? ContentType, string Body, string Summary, string Plural, string? Name)
{
    public int Status { get; set; }

    public bool IsWrite => Method is "POST" or "PUT" or "PATCH" or "DELETE";

    public override string ToString() => $"{Summary} -> {Status}";
}

/// <summary>
/// An in-process Kubernetes API server on 127.0.0.1 speaking the real REST and JSON for the resources the adapter uses:
/// get, list (label selectors), watch (newline-delimited events, 410 Gone after compaction, and a BOOKMARK only every
/// <see cref="BookmarkInterval"/> of fake time, never on connecting), create, replace, server-side apply and merge patch
/// (with resourceVersion preconditions), and delete (graceful for pods). Objects are defaulted as the real server
/// defaults them where the adapter reads them back (Deployment spec.replicas, the HTTPRoute fields the Gateway API v1
/// CRD schema defaults), and spec changes of Deployments, ReplicaSets and custom resources with a status subresource
/// bump metadata.generation. Tests inject the next error (any status, or a hang) and read the recorded requests.
/// <para>
/// Simplifications: apply merges the applied object into the live one (maps merge, lists are atomic) and removes the
/// fields the same manager applied before and now leaves out, but does not detect conflicts between managers;
/// strategic merge is treated as a JSON merge patch.
/// </para>
/// </summary>
public sealed class FakeApiServer : IAsyncDisposable
{
    private static readonly Dictionary<string, ResourceType> s_types = new[]
    {
        new ResourceType("pods", "", "v1", "Pod"),
        new ResourceType("services", "", "v1", "Service"),
        new ResourceType("deployments", "apps", "v1", "Deployment", StatusSubresource: true),
        new ResourceType("replicasets", "apps", "v1", "ReplicaSet", StatusSubresource: true),
        new ResourceType("horizontalpodautoscalers", "autoscaling", "v2", "HorizontalPodAutoscaler"),
        new ResourceType("httproutes", "gateway.networking.k8s.io", "v1", "HTTPRoute"),
        new ResourceType("leases", "coordination.k8s.io", "v1", "Lease"),
        new ResourceType("migrationpolicies", "foresight.dev", "v1alpha1", "MigrationPolicy", StatusSubresource: true),
    }.ToDictionary(t => t.Plural);

    private readonly FakeTimeProvider _clock;
    private readonly HttpListener _listener;
    private readonly object _gate = new();
    private readonly Dictionary<(string Plural, string Name), JsonObject> _store = [];
    private readonly List<(long Rv, string Plural, string Type, JsonObject Obj, JsonObject? Old)> _history = [];
    private readonly List<Watcher> _watchers = [];
    private readonly List<RecordedRequest> _requests = [];
    private readonly Dictionary<(string Plural, string Name, string Manager), HashSet<string>> _appliedFields = [];
    private readonly List<Fault> _faults = [];
    private readonly List<StandingFault> _standing = [];
    private readonly TaskCompletionSource _disposed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _acceptLoop;
    private long _rv = 100;
    private long _compactedThrough;
    private long _uid;

    public FakeApiServer(FakeTimeProvider clock, string ns = "edge", bool gatewayApi = true)
    {
        _clock = clock;
        Namespace = ns;
        GatewayApi = gatewayApi;
        (_listener, Uri) = Listen();
        _acceptLoop = Task.Run(AcceptLoopAsync);
    }

    public Uri Uri { get; }

    public string Namespace { get; }

    /// <summary>Whether the Gateway API group is served; without it every gateway.networking.k8s.io path is 404.</summary>
    public bool GatewayApi { get; }

    /// <summary>Whether the MigrationPolicy CRD is installed; without it every foresight.dev path is 404.</summary>
    public bool MigrationPolicyCrd { get; set; } = true;

    public long ResourceVersion
    {
        get
        {
            lock (_gate)
            {
                return _rv;
            }
        }
    }

    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_gate)
            {
                return _requests.ToList();
            }
        }
    }

    /// <summary>
    /// The successful writes (create, replace, patch, delete) in order, as summaries. A write refused with 409 is
    /// left out: under concurrent controllers it may or may not happen, and its retry is what lands.
    /// </summary>
    public IReadOnlyList<string> Writes => Requests.Where(r => r.IsWrite && r.Status is >= 200 and < 300).Select(r => r.Summary).ToList();

    public int OpenWatches
    {
        get
        {
            lock (_gate)
            {
                return _watchers.Count;
            }
        }
    }

    public IKubernetes CreateClient() => new k8s.Kubernetes(new KubernetesClientConfiguration { Host = Uri.ToString() });

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    /// <summary>The next <paramref name="times"/> requests that match answer <paramref name="status"/> (0: never answer).</summary>
    public void FailNext(Func<RecordedRequest, bool> match, int status, int times = 1)
    {
        lock (_gate)
        {
            _faults.Add(new Fault(match, status, times));
        }
    }

    public void ClearFaults()
    {
        lock (_gate)
        {
            _faults.Clear();
            _standing.Clear();
        }
    }

    /// <summary>
    /// Until <see cref="ClearFaults"/>, every request of the class (writes only, or every request, watches and lease
    /// calls included) answers <paramref name="status"/>; 429 carries a Retry-After of one second, and a 409 is only
    /// ever given to a write (a read never conflicts). With <paramref name="delay"/> the request waits that long of
    /// wall time first and is then served normally: a client that gave up meanwhile never hears that its write landed.
    /// With <paramref name="spareLeases"/> Lease requests are served normally (leader election has its own faults).
    /// </summary>
    public void InjectFault(bool writesOnly, int status = 0, TimeSpan delay = default, bool spareLeases = false)
    {
        lock (_gate)
        {
            _standing.Add(new StandingFault(writesOnly, status, delay, spareLeases));
        }
    }

    /// <summary>
    /// Another holder takes the Lease (as a replica whose clock runs ahead, or an operator, would): renewed now, for
    /// <paramref name="duration"/>. The next renewal of the previous holder finds the lease held.
    /// </summary>
    public void TakeLease(string name, string holder, TimeSpan duration) => Mutate("leases", name, lease =>
    {
        JsonObject spec = lease["spec"] as JsonObject ?? new JsonObject();
        lease["spec"] = spec;
        if (spec["holderIdentity"]?.GetValue<string>() != holder)
        {
            spec["holderIdentity"] = holder;
            spec["acquireTime"] = MicroStamp(Now);
            spec["leaseTransitions"] = (Long(spec["leaseTransitions"]) ?? 0) + 1;
        }

        spec["renewTime"] = MicroStamp(Now);
        spec["leaseDurationSeconds"] = (int)duration.TotalSeconds;
    });

    private static string MicroStamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Ends every open watch stream, as an API server restart or a load balancer idle timeout does.</summary>
    public void DropWatches()
    {
        lock (_gate)
        {
            foreach (Watcher w in _watchers)
            {
                w.Events.Writer.TryComplete();
            }

            _watchers.Clear();
        }
    }

    /// <summary>
    /// Compacts past every resourceVersion handed out so far (as etcd does while a client is away), so a watch
    /// resuming from any of them gets 410 Gone.
    /// </summary>
    public void CompactHistory()
    {
        lock (_gate)
        {
            _compactedThrough = ++_rv;
            _history.Clear();
        }
    }

    /// <summary>
    /// How often a watch that asked for bookmarks gets one (of fake time, from when it connected). The real server sends
    /// them about once a minute, and none when a watch connects, so a client cannot count on one soon after connecting.
    /// </summary>
    public TimeSpan BookmarkInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Sends a BOOKMARK with the current resourceVersion to every watch whose <see cref="BookmarkInterval"/> has passed.</summary>
    public void SendDueBookmarks()
    {
        lock (_gate)
        {
            foreach (Watcher w in _watchers.Where(w => w.Bookmarks && w.NextBookmark <= Now))
            {
                WriteBookmarkLocked(w);
            }
        }
    }

    /// <summary>
    /// Test synchronisation only, not server behaviour: a BOOKMARK with the current resourceVersion to every watch that
    /// asked for bookmarks, now, so a test can wait until a client's caches are as current as the server.
    /// </summary>
    public void SendBookmarks()
    {
        lock (_gate)
        {
            foreach (Watcher w in _watchers.Where(w => w.Bookmarks))
            {
                WriteBookmarkLocked(w);
            }
        }
    }

    private void WriteBookmarkLocked(Watcher w)
    {
        ResourceType t = s_types[w.Plural];
        var obj = new JsonObject
        {
            ["kind"] = t.Kind,
            ["apiVersion"] = t.ApiVersion,
            ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString() },
        };
        w.Events.Writer.TryWrite(Event("BOOKMARK", obj));
        w.NextBookmark = Now + BookmarkInterval;
    }

    // ---- direct store access (the fake's controllers and test setup) --------------------------------------

    public JsonObject? Get(string plural, string name)
    {
        lock (_gate)
        {
            return _store.TryGetValue((plural, name), out JsonObject? o) ? (JsonObject)o.DeepClone() : null;
        }
    }

    public IReadOnlyList<JsonObject> List(string plural)
    {
        lock (_gate)
        {
            return _store.Where(kv => kv.Key.Plural == plural).OrderBy(kv => kv.Key.Name, StringComparer.Ordinal)
                .Select(kv => (JsonObject)kv.Value.DeepClone()).ToList();
        }
    }

    public JsonObject Create(string plural, JsonObject obj)
    {
        lock (_gate)
        {
            return (JsonObject)CreateLocked(plural, (JsonObject)obj.DeepClone(), manager: "test", operation: "Update").DeepClone();
        }
    }

    /// <summary>Changes an object in place (as a controller would) and emits MODIFIED; no-op changes emit nothing.</summary>
    public JsonObject? Mutate(string plural, string name, Action<JsonObject> change)
    {
        lock (_gate)
        {
            if (!_store.TryGetValue((plural, name), out JsonObject? current))
            {
                return null;
            }

            var next = (JsonObject)current.DeepClone();
            change(next);
            Default(plural, next);
            if (JsonNode.DeepEquals(next, current))
            {
                return (JsonObject)current.DeepClone();
            }

            return (JsonObject)StoreLocked(plural, next, "MODIFIED", current).DeepClone();
        }
    }

    public void Remove(string plural, string name)
    {
        lock (_gate)
        {
            RemoveLocked(plural, name);
        }
    }

    public DateTimeOffset Now => _clock.GetUtcNow();

    /// <summary>A JSON integer as long, whether parsed from a request or built by a test as an int.</summary>
    internal static long? Long(JsonNode? node) =>
        node is null ? null : long.Parse(node.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture);

    public static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    // ---- store internals ----------------------------------------------------------------------------------

    private JsonObject CreateLocked(string plural, JsonObject obj, string manager, string operation)
    {
        ResourceType t = s_types[plural];
        obj["apiVersion"] = t.ApiVersion;
        obj["kind"] = t.Kind;
        JsonObject meta = Meta(obj);
        meta["namespace"] = Namespace;
        meta["uid"] = $"uid-{++_uid:D6}";
        meta["creationTimestamp"] = Stamp(Now);
        meta["generation"] = 1;
        RecordManager(meta, manager, operation);
        return StoreLocked(plural, obj, "ADDED", null);
    }

    /// <summary>
    /// The defaulting a real server does on every write, where the adapter reads the result: a Deployment's or
    /// ReplicaSet's spec.replicas, and the fields the Gateway API v1 HTTPRoute CRD schema defaults (parentRefs group and
    /// kind; a rule's matches, a match's path and its type and value, header and query matches' type; a backendRef's group,
    /// kind and weight). What is read back then differs from what was written as it does on a real cluster.
    /// </summary>
    internal static void Default(string plural, JsonObject obj)
    {
        switch (plural)
        {
            case "deployments" or "replicasets":
            {
                JsonObject spec = obj["spec"] as JsonObject ?? new JsonObject();
                obj["spec"] = spec;
                spec["replicas"] ??= 1;
                break;
            }

            case "httproutes" when obj["spec"] is JsonObject spec:
            {
                foreach (JsonObject parent in (spec["parentRefs"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    parent["group"] ??= "gateway.networking.k8s.io";
                    parent["kind"] ??= "Gateway";
                }

                spec["rules"] ??= new JsonArray(new JsonObject());
                foreach (JsonObject rule in (spec["rules"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    rule["matches"] ??= new JsonArray(new JsonObject());
                    foreach (JsonObject match in (rule["matches"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        var path = match["path"] as JsonObject ?? new JsonObject();
                        match["path"] = path;
                        path["type"] ??= "PathPrefix";
                        path["value"] ??= "/";
                        foreach (string list in new[] { "headers", "queryParams" })
                        {
                            foreach (JsonObject m in (match[list] as JsonArray ?? []).OfType<JsonObject>())
                            {
                                m["type"] ??= "Exact";
                            }
                        }
                    }

                    foreach (JsonObject backend in (rule["backendRefs"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        backend["group"] ??= "";
                        backend["kind"] ??= "Service";
                        backend["weight"] ??= 1;
                    }
                }

                break;
            }
        }
    }

    private JsonObject StoreLocked(string plural, JsonObject obj, string type, JsonObject? old)
    {
        Default(plural, obj);
        string name = Meta(obj)["name"]!.GetValue<string>();
        if (old is not null && s_types[plural].StatusSubresource && !JsonNode.DeepEquals(obj["spec"], old["spec"]))
        {
            // As for a custom resource with a status subresource: only spec changes bump metadata.generation.
            Meta(obj)["generation"] = (Meta(old)["generation"] is JsonNode g ? long.Parse(g.ToJsonString(), System.Globalization.CultureInfo.InvariantCulture) : 1) + 1;
        }

        Meta(obj)["resourceVersion"] = (++_rv).ToString();
        _store[(plural, name)] = obj;
        Publish(plural, type, obj, old);
        return obj;
    }

    private void RemoveLocked(string plural, string name)
    {
        if (_store.Remove((plural, name), out JsonObject? old))
        {
            var gone = (JsonObject)old.DeepClone();
            Meta(gone)["resourceVersion"] = (++_rv).ToString();
            Publish(plural, "DELETED", gone, old);
        }
    }

    private void Publish(string plural, string type, JsonObject obj, JsonObject? old)
    {
        var snapshot = (JsonObject)obj.DeepClone();
        _history.Add((_rv, plural, type, snapshot, old));
        foreach (Watcher w in _watchers.Where(w => w.Plural == plural))
        {
            if (WatchEvent(w, type, snapshot, old) is { } line)
            {
                w.Events.Writer.TryWrite(line);
            }
        }
    }

    /// <summary>The event a selector-filtered watch sees: leaving the selection is a DELETED, entering it an ADDED.</summary>
    private static string? WatchEvent(Watcher w, string type, JsonObject obj, JsonObject? old)
    {
        bool now = type != "DELETED" && w.Selector.Matches(obj);
        bool before = old is not null && w.Selector.Matches(old);
        return type switch
        {
            "DELETED" => before ? Event("DELETED", obj) : null,
            _ when now && !before && type == "MODIFIED" => Event("ADDED", obj),
            _ when now => Event(type, obj),
            _ when before => Event("DELETED", obj),
            _ => null,
        };
    }

    private static string Event(string type, JsonObject obj) =>
        new JsonObject { ["type"] = type, ["object"] = obj.DeepClone() }.ToJsonString() + "\n";

    private void RecordManager(JsonObject meta, string manager, string operation)
    {
        var fields = meta["managedFields"] as JsonArray ?? new JsonArray();
        meta["managedFields"] = fields;
        if (!fields.OfType<JsonObject>().Any(f => f["manager"]?.GetValue<string>() == manager && f["operation"]?.GetValue<string>() == operation))
        {
            fields.Add(new JsonObject { ["manager"] = manager, ["operation"] = operation, ["time"] = Stamp(Now) });
        }
    }

    private static JsonObject Meta(JsonObject obj)
    {
        if (obj["metadata"] is not JsonObject meta)
        {
            meta = new JsonObject();
            obj["metadata"] = meta;
        }

        return meta;
    }

    private const char PathSeparator = '\u0001';

    private static void Leaves(JsonNode? node, string prefix, HashSet<string> into)
    {
        if (node is JsonObject o && o.Count > 0)
        {
            foreach ((string k, JsonNode? v) in o)
            {
                if (prefix.Length == 0 && k is "apiVersion" or "kind")
                {
                    continue;
                }

                Leaves(v, prefix + PathSeparator + k, into);
            }
        }
        else if (prefix != $"{PathSeparator}metadata{PathSeparator}resourceVersion")
        {
            into.Add(prefix);
        }
    }

    private static void RemovePath(JsonObject root, string path)
    {
        string[] parts = path.Split(PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        JsonObject? at = root;
        for (int i = 0; i < parts.Length - 1 && at is not null; i++)
        {
            at = at[parts[i]] as JsonObject;
        }

        at?.Remove(parts[^1]);
    }

    /// <summary>RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces.</summary>
    internal static void MergeInto(JsonObject target, JsonObject patch)
    {
        foreach ((string key, JsonNode? value) in patch.ToList())
        {
            if (value is null)
            {
                target.Remove(key);
            }
            else if (value is JsonObject po && target[key] is JsonObject to)
            {
                MergeInto(to, po);
            }
            else
            {
                target[key] = value.DeepClone();
            }
        }
    }

    // ---- HTTP ---------------------------------------------------------------------------------------------

    private static (HttpListener, Uri) Listen()
    {
        // Another listener (in this process or not) may take the probed port before we bind it: probe again.
        for (int attempt = 0; ; attempt++)
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            int port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            try
            {
                listener.Prefixes.Add($"http://127.0.0.1:{port}/");
                listener.Start();
                return (listener, new Uri($"http://127.0.0.1:{port}/"));
            }
            catch (Exception e) when (attempt < 20 && e is HttpListenerException or SocketException or InvalidOperationException)
            {
                listener.Close();
            }
        }
    }

    private async Task AcceptLoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (!_listener.IsListening)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            catch (ObjectDisposedException)
            {
                return;
            }

            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        HttpListenerRequest req = ctx.Request;
        string body;
        using (var reader = new StreamReader(req.InputStream, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync().ConfigureAwait(false);
        }

        string path = req.Url!.AbsolutePath;
        string query = req.Url.Query.TrimStart('?');
        var q = Query(query);
        Target? target = Parse(path);
        bool watch = q.GetValueOrDefault("watch") is "true" or "1";
        string summary = Summarize(req.HttpMethod, req.ContentType, target, watch);
        var record = new RecordedRequest(req.HttpMethod, path, query, req.ContentType, body, summary, target?.Plural ?? "", target?.Name);

        Fault? fault;
        StandingFault? standing;
        lock (_gate)
        {
            _requests.Add(record);
            fault = _faults.FirstOrDefault(f => f.Times > 0 && f.Match(record));
            if (fault is not null)
            {
                fault.Times--;
            }

            standing = fault is null && target is not null
                ? _standing.FirstOrDefault(f => (record.IsWrite || !f.WritesOnly) && (f.Status != 409 || record.IsWrite) && !(f.SpareLeases && record.Plural == "leases"))
                : null;
        }

        try
        {
            if (fault is { Status: 0 })
            {
                record.Status = 0;
                await _disposed.Task.ConfigureAwait(false);
                ctx.Response.Abort();
                return;
            }

            if (fault is not null)
            {
                await RespondAsync(ctx, record, fault.Status, StatusBody(fault.Status, "Injected", "injected by the test")).ConfigureAwait(false);
                return;
            }

            if (standing is { Delay: var delay } && delay > TimeSpan.Zero)
            {
                // Wall time, not the test's clock: the client's request timeout is on the wall clock too.
                await Task.Delay(delay).ConfigureAwait(false);
            }

            if (standing is { Status: > 0 and var injected })
            {
                if (injected == 429)
                {
                    ctx.Response.AddHeader("Retry-After", "1");
                }

                (string reason, string message) = injected switch
                {
                    429 => ("TooManyRequests", "the server has received too many requests and has asked us to try again later"),
                    409 => ("Conflict", $"Operation cannot be fulfilled on {target!.Plural} \"{target.Name}\": the object has been modified; please apply your changes to the latest version and try again"),
                    _ => ("InternalError", "an error on the server (\"injected\") has prevented the request from succeeding"),
                };
                await RespondAsync(ctx, record, injected, StatusBody(injected, reason, message)).ConfigureAwait(false);
                return;
            }

            if (watch && target is { Name: null } && req.HttpMethod == "GET")
            {
                await WatchAsync(ctx, record, target, q).ConfigureAwait(false);
                return;
            }

            (int status, JsonNode response) = Handle(req.HttpMethod, req.ContentType, target, path, q, body);
            await RespondAsync(ctx, record, status, response).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or IOException or InvalidOperationException)
        {
            // The client went away.
        }
    }

    private (int, JsonNode) Handle(string method, string? contentType, Target? target, string path, Dictionary<string, string> q, string body)
    {
        if (target is null)
        {
            return Discovery(path);
        }

        if ((!GatewayApi && target.Type.Group == "gateway.networking.k8s.io") || (!MigrationPolicyCrd && target.Type.Group == "foresight.dev"))
        {
            return (404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
        }

        lock (_gate)
        {
            string plural = target.Plural;
            JsonObject? current = target.Name is null ? null : _store.GetValueOrDefault((plural, target.Name));
            switch (method)
            {
                case "GET" when target.Name is null:
                {
                    var selector = Selector.Parse(q.GetValueOrDefault("labelSelector"));
                    var items = new JsonArray();
                    foreach (JsonObject o in _store.Where(kv => kv.Key.Plural == plural).OrderBy(kv => kv.Key.Name, StringComparer.Ordinal)
                                 .Select(kv => kv.Value).Where(selector.Matches))
                    {
                        items.Add(o.DeepClone());
                    }

                    if (q.TryGetValue("limit", out string? limit) && int.TryParse(limit, out int n))
                    {
                        while (items.Count > n)
                        {
                            items.RemoveAt(items.Count - 1);
                        }
                    }

                    return (200, new JsonObject
                    {
                        ["apiVersion"] = target.Type.ApiVersion,
                        ["kind"] = target.Type.Kind + "List",
                        ["metadata"] = new JsonObject { ["resourceVersion"] = _rv.ToString() },
                        ["items"] = items,
                    });
                }

                case "GET":
                    return current is null ? NotFound(target) : (200, current.DeepClone());

                case "POST":
                {
                    JsonObject obj = JsonNode.Parse(body)!.AsObject();
                    string? name = obj["metadata"]?["name"]?.GetValue<string>();
                    if (string.IsNullOrEmpty(name))
                    {
                        return (422, StatusBody(422, "Invalid", "metadata.name: Required value"));
                    }

                    if (_store.ContainsKey((plural, name)))
                    {
                        return (409, StatusBody(409, "AlreadyExists", $"{plural} \"{name}\" already exists"));
                    }

                    return (201, CreateLocked(plural, obj, q.GetValueOrDefault("fieldManager") ?? "unknown", "Update").DeepClone());
                }

                case "PUT":
                {
                    if (current is null)
                    {
                        return NotFound(target);
                    }

                    JsonObject obj = JsonNode.Parse(body)!.AsObject();
                    if (Conflicts(obj, current))
                    {
                        return Conflict(target);
                    }

                    foreach (string keep in new[] { "uid", "creationTimestamp", "namespace", "managedFields", "generation" })
                    {
                        Meta(obj)[keep] = Meta(current)[keep]?.DeepClone();
                    }

                    obj = Subresource(target, current, obj);

                    RecordManager(Meta(obj), q.GetValueOrDefault("fieldManager") ?? "unknown", "Update");
                    return (200, StoreLocked(plural, obj, "MODIFIED", current).DeepClone());
                }

                case "PATCH":
                    return Patch(target, contentType, q, body, current);

                case "DELETE":
                {
                    if (current is null)
                    {
                        return NotFound(target);
                    }

                    if (plural == "pods")
                    {
                        return (200, DeletePodLocked(target.Name!, current, body, q).DeepClone());
                    }

                    RemoveLocked(plural, target.Name!);
                    return (200, current.DeepClone());
                }

                default:
                    return (405, StatusBody(405, "MethodNotAllowed", method));
            }
        }
    }

    private (int, JsonNode) Patch(Target target, string? contentType, Dictionary<string, string> q, string body, JsonObject? current)
    {
        string type = (contentType ?? "").Split(';')[0].Trim();
        JsonObject patch;
        try
        {
            patch = JsonNode.Parse(body)!.AsObject();
        }
        catch (JsonException e)
        {
            return (400, StatusBody(400, "BadRequest", "patch body is not JSON: " + e.Message));
        }

        string? manager = q.GetValueOrDefault("fieldManager");
        switch (type)
        {
            case "application/apply-patch+yaml":
            {
                if (string.IsNullOrEmpty(manager))
                {
                    return (400, StatusBody(400, "BadRequest", "PATCH with apply requires fieldManager"));
                }

                if (patch["metadata"]?["name"]?.GetValue<string>() != target.Name)
                {
                    return (400, StatusBody(400, "BadRequest", "the name of the object does not match the name on the URL"));
                }

                var fields = new HashSet<string>(StringComparer.Ordinal);
                Leaves(patch, "", fields);
                var key = (target.Plural, target.Name!, manager);
                if (current is null)
                {
                    _appliedFields[key] = fields;
                    return (201, CreateLocked(target.Plural, patch, manager, "Apply").DeepClone());
                }

                if (Conflicts(patch, current))
                {
                    return Conflict(target);
                }

                var next = (JsonObject)current.DeepClone();
                MergeInto(next, patch);
                next = Subresource(target, current, next);

                // Server-side apply semantics: a field this manager applied before and leaves out now is removed.
                foreach (string dropped in _appliedFields.GetValueOrDefault(key, []).Except(fields))
                {
                    RemovePath(next, dropped);
                }

                _appliedFields[key] = fields;
                RecordManager(Meta(next), manager, "Apply");
                return (200, StoreLocked(target.Plural, next, "MODIFIED", current).DeepClone());
            }

            case "application/merge-patch+json":
            case "application/strategic-merge-patch+json":
            {
                if (current is null)
                {
                    return NotFound(target);
                }

                if (Conflicts(patch, current))
                {
                    return Conflict(target);
                }

                var next = (JsonObject)current.DeepClone();
                MergeInto(next, patch);
                next = Subresource(target, current, next);
                Default(target.Plural, next);
                Meta(next)["resourceVersion"] = Meta(current)["resourceVersion"]?.DeepClone();
                RecordManager(Meta(next), manager ?? "unknown", "Update");
                return JsonNode.DeepEquals(next, current)
                    ? (200, current.DeepClone())
                    : (200, StoreLocked(target.Plural, next, "MODIFIED", current).DeepClone());
            }

            default:
                return (415, StatusBody(415, "UnsupportedMediaType", $"the body of the request was in an unknown format: {type}"));
        }
    }

    /// <summary>The status subresource split: a write to /status keeps all but status, a write to the object keeps status.</summary>
    private static JsonObject Subresource(Target target, JsonObject current, JsonObject next)
    {
        if (!target.Type.StatusSubresource)
        {
            return next;
        }

        if (target.Subresource == "status")
        {
            var result = (JsonObject)current.DeepClone();
            result["status"] = next["status"]?.DeepClone();
            return result;
        }

        next["status"] = current["status"]?.DeepClone();
        return next;
    }

    private JsonObject DeletePodLocked(string name, JsonObject current, string body, Dictionary<string, string> q)
    {
        if (current["metadata"]?["deletionTimestamp"] is not null)
        {
            return current;
        }

        long grace = Long(current["spec"]?["terminationGracePeriodSeconds"]) ?? 30;
        if (q.TryGetValue("gracePeriodSeconds", out string? g) && long.TryParse(g, out long qg))
        {
            grace = qg;
        }
        else if (!string.IsNullOrWhiteSpace(body) && JsonNode.Parse(body)?["gracePeriodSeconds"] is JsonNode bg)
        {
            grace = Long(bg) ?? grace;
        }

        if (grace <= 0)
        {
            RemoveLocked("pods", name);
            return current;
        }

        var next = (JsonObject)current.DeepClone();
        Meta(next)["deletionTimestamp"] = Stamp(Now + TimeSpan.FromSeconds(grace));
        Meta(next)["deletionGracePeriodSeconds"] = grace;
        return StoreLocked("pods", next, "MODIFIED", current);
    }

    private static bool Conflicts(JsonObject patch, JsonObject current) =>
        patch["metadata"]?["resourceVersion"]?.GetValue<string>() is { Length: > 0 } rv
        && rv != current["metadata"]?["resourceVersion"]?.GetValue<string>();

    private async Task WatchAsync(HttpListenerContext ctx, RecordedRequest record, Target target, Dictionary<string, string> q)
    {
        if ((!GatewayApi && target.Type.Group == "gateway.networking.k8s.io") || (!MigrationPolicyCrd && target.Type.Group == "foresight.dev"))
        {
            await RespondAsync(ctx, record, 404, StatusBody(404, "NotFound", "not found")).ConfigureAwait(false);
            return;
        }

        var watcher = new Watcher(target.Plural, Selector.Parse(q.GetValueOrDefault("labelSelector")), q.GetValueOrDefault("allowWatchBookmarks") == "true");
        lock (_gate)
        {
            string? from = q.GetValueOrDefault("resourceVersion");
            if (string.IsNullOrEmpty(from) || from == "0")
            {
                foreach (JsonObject o in _store.Where(kv => kv.Key.Plural == target.Plural).Select(kv => kv.Value).Where(watcher.Selector.Matches))
                {
                    watcher.Events.Writer.TryWrite(Event("ADDED", o));
                }
            }
            else if (long.Parse(from, System.Globalization.CultureInfo.InvariantCulture) < _compactedThrough)
            {
                watcher.Events.Writer.TryWrite(Event("ERROR", StatusBody(410, "Expired", $"too old resource version: {from} ({_compactedThrough})")));
                watcher.Events.Writer.TryComplete();
            }
            else
            {
                long since = long.Parse(from, System.Globalization.CultureInfo.InvariantCulture);
                foreach (var e in _history.Where(h => h.Plural == target.Plural && h.Rv > since))
                {
                    if (WatchEvent(watcher, e.Type, e.Obj, e.Old) is { } line)
                    {
                        watcher.Events.Writer.TryWrite(line);
                    }
                }
            }

            if (!watcher.Events.Reader.Completion.IsCompleted)
            {
                // No bookmark now: the real server sends the first one about a minute after the watch connected.
                watcher.NextBookmark = Now + BookmarkInterval;
                _watchers.Add(watcher);
            }
        }

        record.Status = 200;
        HttpListenerResponse response = ctx.Response;
        response.StatusCode = 200;
        response.ContentType = "application/json";
        response.SendChunked = true;
        try
        {
            // HttpListener sends the headers with the first event (an empty write would end the chunked body); a client
            // sees no difference but that its call returns then, not at once.
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
            while (await watcher.Events.Reader.WaitToReadAsync(_stopping.Token).ConfigureAwait(false))
            {
                while (watcher.Events.Reader.TryRead(out string? line))
                {
                    byte[] bytes = Encoding.UTF8.GetBytes(line);
                    await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
                }

                await response.OutputStream.FlushAsync().ConfigureAwait(false);
            }

            response.Close();
        }
        catch (Exception)
        {
            // Client disconnected.
        }
        finally
        {
            lock (_gate)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    private static async Task RespondAsync(HttpListenerContext ctx, RecordedRequest record, int status, JsonNode body)
    {
        record.Status = status;
        byte[] bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        ctx.Response.StatusCode = status;
        ctx.Response.ContentType = "application/json";
        ctx.Response.ContentLength64 = bytes.Length;
        await ctx.Response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
        ctx.Response.Close();
    }

    private (int, JsonNode) Discovery(string path)
    {
        string[] parts = path.Trim('/').Split('/');
        if (parts.Length == 3 && parts[0] == "apis")
        {
            string group = parts[1];
            string version = parts[2];
            if (group == "gateway.networking.k8s.io" && !GatewayApi)
            {
                return (404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
            }

            var resources = new JsonArray();
            foreach (ResourceType t in s_types.Values.Where(t => t.Group == group && t.Version == version))
            {
                resources.Add(new JsonObject { ["name"] = t.Plural, ["kind"] = t.Kind, ["namespaced"] = true });
            }

            if (resources.Count > 0)
            {
                return (200, new JsonObject { ["kind"] = "APIResourceList", ["apiVersion"] = "v1", ["groupVersion"] = $"{group}/{version}", ["resources"] = resources });
            }
        }

        return (404, StatusBody(404, "NotFound", "the server could not find the requested resource"));
    }

    private Target? Parse(string path)
    {
        string[] p = path.Trim('/').Split('/');
        int i;
        if (p.Length >= 5 && p[0] == "api" && p[1] == "v1" && p[2] == "namespaces")
        {
            i = 4;
        }
        else if (p.Length >= 6 && p[0] == "apis" && p[3] == "namespaces")
        {
            i = 5;
        }
        else
        {
            return null;
        }

        if (!s_types.TryGetValue(p[i], out ResourceType? type))
        {
            return null;
        }

        return new Target(type, p[i - 1], p.Length > i + 1 ? p[i + 1] : null, p.Length > i + 2 ? p[i + 2] : null);
    }

    private static string Summarize(string method, string? contentType, Target? t, bool watch)
    {
        if (t is null)
        {
            return $"{method.ToLowerInvariant()} discovery";
        }

        string obj = t.Name is null ? t.Plural : t.Subresource is null ? $"{t.Plural}/{t.Name}" : $"{t.Plural}/{t.Name}/{t.Subresource}";
        string verb = method switch
        {
            "GET" when watch => "watch",
            "GET" when t.Name is null => "list",
            "GET" => "get",
            "POST" => "create",
            "PUT" => "replace",
            "DELETE" => "delete",
            "PATCH" when contentType?.StartsWith("application/apply-patch", StringComparison.Ordinal) == true => "apply",
            "PATCH" => "merge",
            _ => method,
        };
        return $"{verb} {obj}";
    }

    private static Dictionary<string, string> Query(string query) =>
        query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1].Replace('+', ' ')) : "");

    private static (int, JsonNode) NotFound(Target t) => (404, StatusBody(404, "NotFound", $"{t.Plural} \"{t.Name}\" not found"));

    private static (int, JsonNode) Conflict(Target t) =>
        (409, StatusBody(409, "Conflict", $"Operation cannot be fulfilled on {t.Plural} \"{t.Name}\": the object has been modified; please apply your changes to the latest version and try again"));

    internal static JsonObject StatusBody(int code, string reason, string message) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["code"] = code,
    };

    public async ValueTask DisposeAsync()
    {
        _disposed.TrySetResult();
        await _stopping.CancelAsync().ConfigureAwait(false);
        DropWatches();
        _listener.Stop();
        _listener.Close();
        try
        {
            await _acceptLoop.ConfigureAwait(false);
        }
        catch (Exception)
        {
        }
    }

    /// <param name="StatusSubresource">
    /// Writes to <c>.../status</c> change only <c>status</c>; writes to the object itself leave <c>status</c> as it was.
    /// </param>
    private sealed record ResourceType(string Plural, string Group, string Version, string Kind, bool StatusSubresource = false)
    {
        public string ApiVersion => Group == "" ? Version : $"{Group}/{Version}";
    }

    private sealed record Target(ResourceType Type, string Namespace, string? Name, string? Subresource)
    {
        public string Plural => Type.Plural;
    }

    private sealed class Fault(Func<RecordedRequest, bool> match, int status, int times)
    {
        public Func<RecordedRequest, bool> Match { get; } = match;

        public int Status { get; } = status;

        public int Times { get; set; } = times;
    }

    /// <param name="Status">0: no error (only the delay).</param>
    private sealed record StandingFault(bool WritesOnly, int Status, TimeSpan Delay, bool SpareLeases);

    private sealed class Watcher(string plural, Selector selector, bool bookmarks)
    {
        public string Plural { get; } = plural;

        public Selector Selector { get; } = selector;

        public bool Bookmarks { get; } = bookmarks;

        public DateTimeOffset NextBookmark { get; set; }

        public Channel<string> Events { get; } = Channel.CreateUnbounded<string>();
    }
}

/// <summary>Equality-based label selector: <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>, comma-separated.</summary>
internal sealed class Selector
{
    private readonly List<Func<IDictionary<string, string>, bool>> _terms = [];

    public static Selector Parse(string? text)
    {
        var s = new Selector();
        foreach (string raw in (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Contains("!=", StringComparison.Ordinal))
            {
                string[] kv = raw.Split("!=", 2);
                s._terms.Add(l => !l.TryGetValue(kv[0], out string? v) || v != kv[1]);
            }
            else if (raw.Contains('=', StringComparison.Ordinal))
            {
                string[] kv = raw.Replace("==", "=", StringComparison.Ordinal).Split('=', 2);
                s._terms.Add(l => l.TryGetValue(kv[0], out string? v) && v == kv[1]);
            }
            else if (raw.StartsWith('!'))
            {
                s._terms.Add(l => !l.ContainsKey(raw[1..]));
            }
            else
            {
                s._terms.Add(l => l.ContainsKey(raw));
            }
        }

        return s;
    }

    public bool Matches(JsonObject obj)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (obj["metadata"]?["labels"] is JsonObject l)
        {
            foreach ((string k, JsonNode? v) in l)
            {
                labels[k] = v?.GetValue<string>() ?? "";
            }
        }

        return _terms.All(t => t(labels));
    }
}
