using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Control.Loop;
using Foresight.Control.Placement;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Predictive;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Feedback;
using Foresight.Forecasting.Calibration;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>
/// The controller against Kubernetes: the same <see cref="ControllerEngine"/>, policy and journaled reconciler as the
/// simulated mode, with Prometheus behind the observation port and <see cref="Kubernetes.KubernetesOrchestrator"/>
/// behind the orchestrator port. Where a site's Deployment has an HPA, the reconciler writes its desired count as the
/// HPA's minReplicas floor and the HPA stays the reactive path; elsewhere it starts, drains and stops pods itself.
/// What is Kubernetes' own stays here: the Lease (in <see cref="ControllerEngine.Leadership"/>) and MigrationPolicies.
/// </summary>
public static class KubernetesController
{
    /// <summary>The target utilization the predictive policy plans capacity at (the HPA baseline's default).</summary>
    public const double TargetUtilization = 0.7;

    /// <param name="tickSeconds">The loop's period: one traffic reading per tick.</param>
    /// <param name="owned">Disposed with the engine (the adapter, its HTTP client, the journal).</param>
    public static ControllerEngine Create(
        KubernetesConfig config,
        PredictiveOptions options,
        double tickSeconds,
        IOrchestrator orchestrator,
        ITrafficObserver traffic,
        TimeProvider time,
        ReconcileJournal? journal = null,
        ILeadership? leadership = null,
        IPolicySource? policies = null,
        IAsyncDisposable? owned = null)
    {
        EdgeTopology topology = Topology(config);
        DateTimeOffset epoch = time.GetUtcNow();

        // One array that the policy, the reconciler and the observations all read: a MigrationPolicy's profile
        // (cold start, SLO, bounds) replaces an entry in place and takes effect on the next pass.
        AppProfile[] profiles = config.Apps.Select(a => a.Profile).ToArray();
        var sync = new PolicySync(config.Apps, options, policies, config.PolicyResyncSeconds, time);
        var recording = new RecordingOrchestrator(orchestrator);
        var metrics = new TrafficObservations(config.Apps, profiles, topology, traffic, time, tickSeconds, () => recording.Last);
        int season = Math.Max(1, (int)Math.Round(config.SeasonSeconds / config.StepSeconds));
        var forecaster = new OnlineDemandForecaster(profiles.Length, topology.SiteCount,
            PredictiveForecasting.ModelFactory(config.Forecaster, config.HorizonSteps, season),
            new OnlineForecasterOptions
            {
                BucketSeconds = config.StepSeconds,
                HorizonSteps = config.HorizonSteps,
                WarmupSeconds = config.WarmupSeconds,
                RefitEverySeconds = config.SeasonSeconds,
                SeasonLength = season,
                HistoryBuckets = Math.Max(4 * season, 2_000),
                Epoch = epoch,
                AppNames = profiles.Select(p => p.Name).ToList(),
                Calibration = config.Calibration ? new RollingCalibrationOptions() : null,

                // A live tick must never wait for a fit: the retrained model is swapped in once it is ready.
                RetrainMode = RetrainMode.Background,
            });
        var policy = new PredictivePolicy("predictive", forecaster, options) { OptionsForApp = a => sync.Settings[a].Options };
        var context = new PolicyContext(topology, profiles, metrics, time, epoch, TargetUtilization)
        {
            AppRunsAt = (a, s) => config.Apps[a].SiteIndex(topology.Sites[s].Id) >= 0,
        };
        var reconcilerOptions = new ReconcilerOptions { ForApp = app => sync.SettingsOf(app)?.Overrides };
        JournaledReconciler? journaled = journal is null ? null : new JournaledReconciler(topology, profiles, recording, journal, reconcilerOptions);
        JournaledReconciler? journaledDryRun = journal is null ? null : new JournaledReconciler(topology, profiles, recording, journal, reconcilerOptions, dryRun: true);
        var loop = new ControlLoop(
            policy, context, recording, new DesiredPlacement(profiles.Length, topology.SiteCount),
            new ControlLoopOptions { Reconciler = reconcilerOptions }, journaled, journaledDryRun);
        return new ControllerEngine("kubernetes", loop, policy, forecaster, recording, new ClusterDriver(recording, time, epoch), owned)
        {
            Journal = journal is null ? null : new SqliteCommandJournal(journal),
            Leadership = leadership,
            Extension = new PolicyExtension(sync, profiles, forecaster, time),
            AppWarnings = traffic.Warnings,
        };
    }

    /// <summary>
    /// The sites of every app (in config order). Each is its own ingress (traffic is measured per site); without
    /// coordinates the sites are equidistant, so placement follows where demand enters.
    /// </summary>
    public static EdgeTopology Topology(KubernetesConfig config)
    {
        var ids = config.Apps.SelectMany(a => a.Sites).Distinct(StringComparer.Ordinal).ToList();
        var sites = ids.Select(id => new Site(id, 0, 0)).ToList();
        return new EdgeTopology(sites, [], ids.Select(id => new Source(id, 0, 0)).ToList(), Enumerable.Range(0, ids.Count).ToList(), new RttModel());
    }

    /// <summary>Keeps the last snapshot the loop observed, for the observations' utilization estimate.</summary>
    private sealed class RecordingOrchestrator(IOrchestrator inner) : IOrchestrator
    {
        public ClusterSnapshot? Last { get; private set; }

        public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken cancellationToken) => inner.SpinUpAsync(request, cancellationToken);

        public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken cancellationToken) =>
            inner.WaitUntilReadyAsync(id, timeout, cancellationToken);

        public ValueTask SetRouteAsync(Route route, CancellationToken cancellationToken) => inner.SetRouteAsync(route, cancellationToken);

        public ValueTask DrainAsync(InstanceId id, CancellationToken cancellationToken) => inner.DrainAsync(id, cancellationToken);

        public ValueTask StopAsync(InstanceId id, CancellationToken cancellationToken) => inner.StopAsync(id, cancellationToken);

        public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken cancellationToken) =>
            inner.SetFloorAsync(app, siteId, minReplicas, cancellationToken);

        public async ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken cancellationToken) =>
            Last = await inner.ObserveAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>One loop pass per tick on the wall clock; a replica that gains the lease first adopts what the cluster runs.</summary>
    private sealed class ClusterDriver(IOrchestrator orchestrator, TimeProvider time, DateTimeOffset epoch) : ILoopDriver
    {
        private bool _adopted;

        public double Now => (time.GetUtcNow() - epoch).TotalSeconds;

        public string? Message => null;

        public async ValueTask<IReadOnlyList<ControlTick>> AdvanceAsync(ControlLoop loop, TimeSpan elapsed, bool act, CancellationToken cancellationToken)
        {
            if (act && !_adopted)
            {
                loop.Adopt(await orchestrator.ObserveAsync(cancellationToken).ConfigureAwait(false));
                _adopted = true;
            }

            _adopted &= act;
            return [await loop.TickAsync(cancellationToken, act).ConfigureAwait(false)];
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>MigrationPolicies: re-read before a pass, and each one's status written by the leader after it.</summary>
    private sealed class PolicyExtension(PolicySync sync, AppProfile[] profiles, OnlineDemandForecaster forecaster, TimeProvider time) : IEngineExtension
    {
        private readonly DateTimeOffset?[] _lastMigration = new DateTimeOffset?[profiles.Length];

        public async ValueTask<string?> BeforeTickAsync(double now, bool leading, CancellationToken cancellationToken)
        {
            await sync.RefreshAsync(now, cancellationToken).ConfigureAwait(false);
            for (int a = 0; a < profiles.Length; a++)
            {
                profiles[a] = sync.Settings[a].Profile;

                // The policy's horizon, up to the one the models were built for (kubernetes.horizonSteps).
                int steps = sync.Settings[a].HorizonSeconds is double seconds
                    ? (int)Math.Ceiling((seconds / forecaster.StepSeconds) - 1e-9)
                    : forecaster.HorizonSteps;
                forecaster.SetHorizon(a, steps);
            }

            return sync.Error;
        }

        public async ValueTask<string?> AfterTickAsync(
            double now, bool leading, ClusterSnapshot cluster, IReadOnlyList<EngineCommand> commands, CancellationToken cancellationToken)
        {
            if (!leading)
            {
                return null;
            }

            for (int a = 0; a < profiles.Length; a++)
            {
                string app = profiles[a].Name;
                if (commands.Any(c => c.App == app && c.Outcome == "applied" && c.Kind is "spin-up" or "set-floor"))
                {
                    _lastMigration[a] = time.GetUtcNow();
                }
            }

            await sync.WriteStatusAsync(a => ActiveMigrations(cluster, profiles[a].Name), a => _lastMigration[a], cancellationToken).ConfigureAwait(false);
            return sync.Error;
        }

        /// <summary>Sites where capacity is on its way for the app: a raised floor, or instances not yet Ready.</summary>
        private static int ActiveMigrations(ClusterSnapshot cluster, string app) =>
            cluster.Autoscaled.Count(s => s.App == app && s.Floor > s.UserMinReplicas)
            + cluster.Instances
                .Where(i => i.App == app && i.State is InstanceState.Pending or InstanceState.Starting or InstanceState.Warming)
                .Select(i => i.SiteId)
                .Distinct(StringComparer.Ordinal)
                .Count(site => !cluster.Autoscaled.Any(s => s.App == app && s.SiteId == site));
    }
}
