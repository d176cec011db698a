using Foresight.Control.Journal;
using Foresight.Ingest.Prometheus;
using Foresight.Kubernetes;

namespace Foresight.Cli.Controller;

/// <summary>Picks the orchestrator adapter for the loop: the one place that names them (composition root).</summary>
public static class EngineFactory
{
    public static ValueTask<IControllerEngine> CreateAsync(ControllerConfig config, TimeProvider time, CancellationToken cancellationToken)
    {
        _ = cancellationToken;
        return config.Orchestrator switch
        {
            "kubernetes" => ValueTask.FromResult(CreateKubernetes(config, time)),
            _ => ValueTask.FromResult<IControllerEngine>(SimulatedEngine.Create(config.Simulated, config.Predictive, OpenJournal(config, time))),
        };
    }

    /// <summary>The configured SQLite journal, opened (and created if new); null when none is configured.</summary>
    public static ReconcileJournal? OpenJournal(ControllerConfig config, TimeProvider time)
    {
        if (config.Journal is not { } path)
        {
            return null;
        }

        string? dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null && !Directory.Exists(dir))
        {
            throw new Foresight.Core.InvalidInputException(config.Source, $"the journal's directory '{dir}' does not exist", field: "journal");
        }

        return ReconcileJournal.Open(path, time, config.JournalRetention);
    }

    private static IControllerEngine CreateKubernetes(ControllerConfig config, TimeProvider time)
    {
        KubernetesConfig k = config.Kubernetes!;
        var options = new KubernetesOrchestratorOptions
        {
            Namespace = k.Namespace,
            Sites = k.Apps.SelectMany(a => a.Sites).Distinct(StringComparer.Ordinal).ToList(),
            Apps = k.Apps.ToDictionary(a => a.Profile.Name, a => new AppWorkload { Image = a.Image ?? "", AdoptOnly = a.Image is null }),

            // Routes are the ingress Services' selectors (exactly the weighted sites); no Gateway to name or discover.
            TrafficMode = TrafficMode.ServiceSelector,
        };
        k8s.IKubernetes client;
        try
        {
            client = KubernetesOrchestrator.CreateClient(k.Kubeconfig);
        }
        catch (Exception e) when (e is k8s.Exceptions.KubeConfigException or IOException)
        {
            string what = k.Kubeconfig is null ? "no in-cluster service account and no default kubeconfig" : $"cannot use kubeconfig '{k.Kubeconfig}'";
            throw new Foresight.Core.InvalidInputException(config.Source, $"{what}: {e.Message}", field: "kubernetes.kubeconfig", inner: e);
        }

        var orchestrator = new KubernetesOrchestrator(client, options, time);
        // The client's own per-attempt timeout (then a retry) must fire, not HttpClient's, which would cancel the retries.
        var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var prometheus = new PrometheusTrafficObserver(
            new PrometheusClient(http, k.Prometheus, new PrometheusClientOptions { AttemptTimeout = TimeSpan.FromSeconds(10) }, time), time);
        var lease = new LeaseElector(client, k.Namespace, k.LeaseName, LeaseIdentity(), time);
        ReconcileJournal? journal = OpenJournal(config, time);
        var policies = new MigrationPolicyWatch(client, k.Namespace, time);
        return KubernetesController.Create(
            k, config.Predictive, config.TickMs / 1000.0, orchestrator, prometheus, time, journal, new LeaseLeadership(lease),
            new WatchedPolicies(policies), new Owned(orchestrator, http, journal, lease, time, policies));
    }

    /// <summary>The pod name in a cluster (the Deployment sets POD_NAME), else the host name, made unique per process.</summary>
    private static string LeaseIdentity() =>
        Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod
            ? pod
            : $"{Environment.MachineName}-{Environment.ProcessId}";

    private sealed class LeaseLeadership(LeaseElector lease) : ILeadership
    {
        public string Identity => lease.Identity;

        public Task<bool> TryLeadAsync(CancellationToken cancellationToken) => lease.TryAcquireOrRenewAsync(cancellationToken);
    }

    private sealed class Owned(
        KubernetesOrchestrator orchestrator, HttpClient http, ReconcileJournal? journal, LeaseElector lease, TimeProvider time, MigrationPolicyWatch policies)
        : IAsyncDisposable
    {
        /// <summary>How long a shutdown (SIGTERM, Ctrl+C) waits for the API server to take the lease back.</summary>
        private static readonly TimeSpan ReleaseTimeout = TimeSpan.FromSeconds(2);

        public async ValueTask DisposeAsync()
        {
            // Give the lease up, so that the other replica takes over now rather than after the lease expires.
            using (var giveUp = new CancellationTokenSource(ReleaseTimeout, time))
            {
                try
                {
                    await lease.ReleaseAsync(giveUp.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is Foresight.Orchestration.OrchestratorException or OperationCanceledException or HttpRequestException)
                {
                    // The API server is unreachable: the lease then expires on its own.
                }
            }

            await orchestrator.DisposeAsync().ConfigureAwait(false);
            await policies.DisposeAsync().ConfigureAwait(false);
            http.Dispose();
            journal?.Dispose();
        }
    }
}
