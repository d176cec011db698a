using System.Text.RegularExpressions;
using Foresight.Control.Journal;
using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Reconcile;

/// <summary>Thrown by <see cref="KillSwitch"/>: the controller process "dies" here.</summary>
internal sealed class ControllerKilledException : Exception
{
}

/// <summary>
/// Kills the controller at its <c>killAt</c>-th mutating orchestrator call: before the call reaches the cluster,
/// or after the cluster applied it but before the controller learnt the outcome.
/// </summary>
internal sealed class KillSwitch(IOrchestrator inner, int killAt, bool afterIssue) : IOrchestrator
{
    public int Calls { get; private set; }

    public bool Fired { get; private set; }

    public ValueTask<InstanceInfo> SpinUpAsync(SpinUpRequest request, CancellationToken ct) => Mutate(() => inner.SpinUpAsync(request, ct));

    public ValueTask<InstanceInfo> WaitUntilReadyAsync(InstanceId id, TimeSpan timeout, CancellationToken ct) => inner.WaitUntilReadyAsync(id, timeout, ct);

    public ValueTask SetRouteAsync(Route route, CancellationToken ct) => Mutate(() => inner.SetRouteAsync(route, ct));

    public ValueTask DrainAsync(InstanceId id, CancellationToken ct) => Mutate(() => inner.DrainAsync(id, ct));

    public ValueTask StopAsync(InstanceId id, CancellationToken ct) => Mutate(() => inner.StopAsync(id, ct));

    public ValueTask<ClusterSnapshot> ObserveAsync(CancellationToken ct) => inner.ObserveAsync(ct);

    public ValueTask<int> SetFloorAsync(string app, string siteId, int minReplicas, CancellationToken ct) =>
        Mutate(() => inner.SetFloorAsync(app, siteId, minReplicas, ct));

    private async ValueTask Mutate(Func<ValueTask> call) => await Mutate(async () => { await call(); return 0; });

    private async ValueTask<T> Mutate<T>(Func<ValueTask<T>> call)
    {
        bool kill = ++Calls == killAt;
        if (kill && !afterIssue)
        {
            Fired = true;
            throw new ControllerKilledException();
        }

        T result = await call();
        if (kill)
        {
            Fired = true;
            throw new ControllerKilledException();
        }

        return result;
    }
}

/// <summary>
/// A three-site simulated cluster, a journal file, and a controller that can be killed and restarted from it.
/// Checks the safety invariants after every pass and every simulated second.
/// </summary>
internal sealed class ReconcileRig : IDisposable
{
    private static readonly Regex s_instanceInDetail = new(@"(?:instance|restart:) (\S+)", RegexOptions.CultureInvariant);
    private readonly HashSet<string> _initial = new(StringComparer.Ordinal);
    private ReconcileJournal? _journal;

    /// <param name="spareServerAtLastSite">Gives the last site a second server (to survive losing one).</param>
    public ReconcileRig(int[] initial, double ratePerSource = 20, AppProfile? app = null, bool spareServerAtLastSite = false)
    {
        App = app ?? TestClusters.App() with { DrainSeconds = 3 };
        EdgeTopology topology = TestClusters.Line(initial.Length);
        if (spareServerAtLastSite)
        {
            string last = topology.Sites[^1].Id;
            topology = new EdgeTopology(
                topology.Sites,
                [.. topology.Servers, new Server($"{last}/server-1", last, 64)],
                topology.Sources,
                Enumerable.Range(0, initial.Length).ToArray(),
                new RttModel());
        }

        Sim = new EdgeSimulator(TestClusters.Setup(topology, App, (_, _) => ratePerSource));
        for (int s = 0; s < initial.Length; s++)
        {
            for (int k = 0; k < initial[s]; k++)
            {
                _initial.Add(Sim.CreateReadyInstance(App.Name, $"site-{s}").Id.Value);
            }
        }

        DbPath = Path.Combine(Path.GetTempPath(), $"foresight-journal-{Guid.NewGuid():N}.db");
    }

    public AppProfile App { get; }

    public EdgeSimulator Sim { get; }

    public string DbPath { get; }

    public ReconcileJournal Journal => _journal ?? throw new InvalidOperationException("No controller running.");

    public int Restarts { get; private set; }

    public static DesiredPlacement Desired(params int[] bySite)
    {
        var d = new DesiredPlacement(1, bySite.Length);
        d.SetApp(0, bySite);
        return d;
    }

    /// <summary>Starts a controller on the journal file (a restart if one ran before: the old one is simply dropped).</summary>
    public JournaledReconciler Start(IOrchestrator? via = null, ReconcilerOptions? options = null, bool dryRun = false)
    {
        if (_journal is not null)
        {
            // No graceful shutdown: the dead controller's connection is abandoned, as a killed process's would be.
            _journal.Dispose();
            Restarts++;
        }

        _journal = ReconcileJournal.Open(DbPath, Sim.Clock);
        return new JournaledReconciler(Sim.Topology, Sim.Apps, via ?? Sim, _journal, options ?? new ReconcilerOptions(), dryRun);
    }

    public double[][] Demand()
    {
        var d = new double[1][];
        d[0] = new double[Sim.Topology.SiteCount];
        Sim.ObservedIngressRates(0, 10, d[0]);
        return d;
    }

    /// <summary>Holds at every instant, including the moment right after a kill.</summary>
    public void AssertSafe()
    {
        ClusterSnapshot snap = Sim.Snapshot();
        int ready = snap.Instances.Count(i => i.State == InstanceState.Ready);
        Assert.True(ready >= 1, $"t={Sim.Now}: no ready instance of {App.Name}: {Describe(snap)}");
        foreach (Route r in snap.Routes)
        {
            foreach (SiteWeight w in r.Weights.Where(w => w.Weight > 0))
            {
                Assert.True(
                    snap.Instances.Any(i => i.SiteId == w.SiteId && i.State.IsRoutable()),
                    $"t={Sim.Now}: route {r.IngressSiteId} sends {w.Weight} to {w.SiteId}, which has no routable instance: {Describe(snap)}");
            }
        }
    }

    /// <summary>Holds whenever a controller has finished a pass: every live instance is accounted for in the journal.</summary>
    public void AssertNoLeak()
    {
        var known = new HashSet<string>(_initial, StringComparer.Ordinal);
        foreach (JournalEntry e in Journal.ForApp(App.Name).Where(e => e.Kind == JournalKinds.SpinUp && e.Status == JournalStatus.Done))
        {
            foreach (Match m in s_instanceInDetail.Matches(e.Detail))
            {
                known.Add(m.Groups[1].Value);
            }
        }

        foreach (InstanceInfo inst in Sim.Snapshot().Instances)
        {
            Assert.True(known.Contains(inst.Id.Value), $"t={Sim.Now}: instance {inst.Id} ({inst.State}) is not in the journal");
        }

        Assert.Empty(Journal.Unresolved());
    }

    public bool Converged(DesiredPlacement desired)
    {
        ClusterSnapshot snap = Sim.Snapshot();
        for (int s = 0; s < desired.SiteCount; s++)
        {
            string site = Sim.Topology.Sites[s].Id;
            if (snap.Instances.Count(i => i.SiteId == site) != desired[0, s]
                || snap.Instances.Any(i => i.SiteId == site && i.State != InstanceState.Ready))
            {
                return false;
            }
        }

        return snap.Routes.All(r => r.Weights.All(w => w.Weight <= 0 || desired[0, Sim.Topology.SiteIndex(w.SiteId)] > 0));
    }

    public static string Describe(ClusterSnapshot snap) =>
        string.Join("; ", snap.Instances.Select(i => $"{i.Id}@{i.SiteId}:{i.State}"))
        + " | " + string.Join("; ", snap.Routes.Select(r => $"{r.IngressSiteId}->" + string.Join(",", r.Weights.Select(w => $"{w.SiteId}={w.Weight}"))));

    public void Dispose()
    {
        _journal?.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(DbPath + suffix);
        }
    }
}
