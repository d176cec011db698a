using System.Net;
using Foresight.Orchestration;
using k8s.Autorest;

namespace Foresight.Kubernetes;

/// <summary>
/// An API answer the adapter may handle itself (404 and 409). Where it does not, it is a transient
/// <see cref="OrchestratorException"/> like any other failed call: a 409 outside a read-modify-write (a write racing
/// another writer), or a 404 of an object deleted meanwhile, fails the command, and the next pass re-plans from fresh
/// state. (As a plain exception it escaped the reconciler, ended the tick and left the command's journal intent open.)
/// </summary>
internal sealed class KubeStatusException : OrchestratorException
{
    public KubeStatusException(HttpStatusCode status, string message, Exception inner)
        : base(message, isTransient: true, inner)
    {
        Status = status;
    }

    public HttpStatusCode Status { get; }

    public bool IsNotFound => Status == HttpStatusCode.NotFound;

    public bool IsConflict => Status == HttpStatusCode.Conflict;
}

/// <summary>
/// Runs API calls with a request timeout and one error vocabulary. The timeout is an I/O deadline on the wall clock,
/// not control logic: a simulated clock that jumps ahead must not abort requests that are in flight.
/// </summary>
internal sealed class KubeApi
{
    private readonly TimeSpan _timeout;

    public KubeApi(TimeSpan timeout)
    {
        _timeout = timeout;
    }

    /// <summary>
    /// Calls <paramref name="call"/>. Throws <see cref="KubeStatusException"/> for 404 and 409; a transient
    /// <see cref="OrchestratorException"/> for 5xx, 429, timeouts and connection failures; a permanent one for other 4xx.
    /// </summary>
    public async Task<T> CallAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_timeout, TimeProvider.System);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            return await call(linked.Token).ConfigureAwait(false);
        }
        catch (HttpOperationException e)
        {
            HttpStatusCode status = e.Response?.StatusCode ?? 0;
            string detail = $"{what}: {(int)status} {Truncate(e.Response?.Content)}";
            if (status is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                throw new KubeStatusException(status, detail, e);
            }

            bool transient = (int)status >= 500 || status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout;
            throw new OrchestratorException(detail, transient, e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OrchestratorException($"{what}: no answer within {_timeout.TotalSeconds:0.#} s", isTransient: true, e);
        }
        catch (HttpRequestException e)
        {
            throw new OrchestratorException($"{what}: {e.Message}", isTransient: true, e);
        }
        catch (IOException e)
        {
            throw new OrchestratorException($"{what}: {e.Message}", isTransient: true, e);
        }
    }

    public async Task<T?> GetOrNullAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            return await CallAsync(what, call, cancellationToken).ConfigureAwait(false);
        }
        catch (KubeStatusException e) when (e.IsNotFound)
        {
            return null;
        }
    }

    /// <summary>Repeats a read-modify-write while it hits 409 Conflict; <paramref name="attempt"/> gets the attempt number.</summary>
    public static async Task<T> RetryOnConflictAsync<T>(string what, int attempts, Func<int, Task<T>> attempt)
    {
        for (int i = 0; ; i++)
        {
            try
            {
                return await attempt(i).ConfigureAwait(false);
            }
            catch (KubeStatusException e) when (e.IsConflict)
            {
                if (i + 1 >= attempts)
                {
                    throw new OrchestratorException($"{what}: still conflicting after {attempts} attempts", isTransient: true, e);
                }
            }
        }
    }

    private static string Truncate(string? s) => s is null ? "" : s.Length <= 300 ? s : s[..300] + "...";
}
