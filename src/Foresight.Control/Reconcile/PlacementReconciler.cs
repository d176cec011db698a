using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Topology;
using Foresight.Orchestration;

namespace Foresight.Control.Reconcile;

public sealed record ReconcilerOptions
{
    /// <summary>Routing fills a site up to this utilization of its serving capacity before spilling to the next nearest.</summary>
    public double RoutingMaxUtilization { get; init; } = 0.85;

    /// <summary>A draining instance is stopped at the latest after this many drain periods, even with work in flight.</summary>
    public double MaxDrainPeriods { get; init; } = 6;
}

/// <summary>
/// Drives the actual placement towards the desired one, level-triggered and idempotent: each pass re-reads both
/// and emits only what is still missing. Order of safety: create first; route only to serving instances; drain an
/// instance only when enough fully warm capacity remains without it; stop only drained instances.
/// </summary>
public sealed class PlacementReconciler
{
    private readonly EdgeTopology _topology;
    private readonly IReadOnlyList<AppProfile> _apps;
    private readonly ReconcilerOptions _options;
    private readonly Dictionary<string, int> _appIndex = new(StringComparer.Ordinal);
    private readonly double[][] _weights;
    private long _requestCounter;

    public PlacementReconciler(EdgeTopology topology, IReadOnlyList<AppProfile> apps, ReconcilerOptions? options = null)
    {
        _topology = topology;
        _apps = apps;
        _options = options ?? new ReconcilerOptions();
        for (int a = 0; a < apps.Count; a++)
        {
            _appIndex.Add(apps[a].Name, a);
        }

        _weights = new double[topology.SiteCount][];
        for (int s = 0; s < topology.SiteCount; s++)
        {
            _weights[s] = new double[topology.SiteCount];
        }
    }

    /// <summary>
    /// Computes the commands that move <paramref name="snapshot"/> towards <paramref name="desired"/>.
    /// <paramref name="demandByAppIngress"/>[app][site] is the demand estimate used for routing.
    /// </summary>
    public ReconcilePlan Plan(DesiredPlacement desired, ClusterSnapshot snapshot, IReadOnlyList<double[]> demandByAppIngress)
    {
        var commands = new List<ReconcileCommand>();
        var byApp = new List<InstanceInfo>[_apps.Count];
        for (int a = 0; a < _apps.Count; a++)
        {
            byApp[a] = [];
        }

        foreach (InstanceInfo inst in snapshot.Instances)
        {
            if (!_appIndex.TryGetValue(inst.App, out int a))
            {
                continue;
            }

            if (inst.State == InstanceState.Failed)
            {
                // Clean up; the missing capacity is re-created below because failed instances do not count.
                commands.Add(new ReconcileCommand.Stop(inst.App, inst.Id, StopReason.Failed, inst.FailureReason ?? ""));
            }
            else if (inst.State.IsLive())
            {
                byApp[a].Add(inst);
            }
        }

        var existingRoutes = new Dictionary<(string, string), Route>();
        foreach (Route r in snapshot.Routes)
        {
            existingRoutes[(r.App, r.IngressSiteId)] = r;
        }

        for (int a = 0; a < _apps.Count; a++)
        {
            // Order matters for safety: create, shift traffic off what will drain, drain, then stop.
            var appCommands = new List<ReconcileCommand>();
            PlanApp(a, desired, byApp[a], snapshot.Time, appCommands);
            var draining = appCommands.OfType<ReconcileCommand.Drain>().Select(d => d.Instance).ToHashSet();
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.SpinUp));
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Stop { Reason: StopReason.NotServing }));
            PlanRoutes(a, byApp[a].Where(i => !draining.Contains(i.Id)), demandByAppIngress[a], existingRoutes, commands);
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Drain));
            commands.AddRange(appCommands.Where(c => c is ReconcileCommand.Stop { Reason: not StopReason.NotServing }));
        }

        return new ReconcilePlan(commands);
    }

    /// <summary>Issues the plan's commands in order. A failing command stops the pass; the next pass re-plans.</summary>
    public static async ValueTask ApplyAsync(ReconcilePlan plan, IOrchestrator orchestrator, CancellationToken cancellationToken)
    {
        foreach (ReconcileCommand command in plan.Commands)
        {
            switch (command)
            {
                case ReconcileCommand.SpinUp s:
                    await orchestrator.SpinUpAsync(s.Request, cancellationToken).ConfigureAwait(false);
                    break;
                case ReconcileCommand.Drain d:
                    await orchestrator.DrainAsync(d.Instance, cancellationToken).ConfigureAwait(false);
                    break;
                case ReconcileCommand.Stop s:
                    await orchestrator.StopAsync(s.Instance, cancellationToken).ConfigureAwait(false);
                    break;
                case ReconcileCommand.SetRoute r:
                    await orchestrator.SetRouteAsync(r.Route, cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    private void PlanApp(int a, DesiredPlacement desired, List<InstanceInfo> instances, DateTimeOffset now, List<ReconcileCommand> commands)
    {
        AppProfile app = _apps[a];
        string name = app.Name;
        int keep = desired.Total(a);
        int ready = 0;
        int routable = 0;
        var active = new List<InstanceInfo>[_topology.SiteCount];
        for (int s = 0; s < active.Length; s++)
        {
            active[s] = [];
        }

        foreach (InstanceInfo inst in instances)
        {
            if (inst.State == InstanceState.Draining)
            {
                double drainedFor = (now - inst.StateSince).TotalSeconds;
                bool drained = inst.InFlight < 0.5 && drainedFor >= app.DrainSeconds;
                if (drained || drainedFor >= app.DrainSeconds * _options.MaxDrainPeriods)
                {
                    commands.Add(new ReconcileCommand.Stop(name, inst.Id, drained ? StopReason.Drained : StopReason.DrainTimeout));
                }

                continue;
            }

            if (_topology.TryGetSiteIndex(inst.SiteId, out int site))
            {
                active[site].Add(inst);
            }

            ready += inst.State == InstanceState.Ready ? 1 : 0;
            routable += inst.State.IsRoutable() ? 1 : 0;
        }

        // Create first.
        for (int s = 0; s < active.Length; s++)
        {
            int missing = desired[a, s] - active[s].Count;
            for (int k = 0; k < missing; k++)
            {
                string requestId = $"{name}@{_topology.Sites[s].Id}#{++_requestCounter}";
                commands.Add(new ReconcileCommand.SpinUp(new SpinUpRequest(requestId, name, _topology.Sites[s].Id)));
            }
        }

        // Then remove surplus, cheapest first: not yet serving, then warming, then the newest ready ones.
        var surplus = new List<InstanceInfo>();
        for (int s = 0; s < active.Length; s++)
        {
            int extra = active[s].Count - desired[a, s];
            if (extra > 0)
            {
                surplus.AddRange(active[s]
                    .OrderBy(i => RemovalRank(i.State))
                    .ThenByDescending(i => i.CreatedAt)
                    .ThenBy(i => i.Id.Value, StringComparer.Ordinal)
                    .Take(extra));
            }
        }

        foreach (InstanceInfo inst in surplus.OrderBy(i => RemovalRank(i.State)).ThenByDescending(i => i.CreatedAt))
        {
            switch (inst.State)
            {
                case InstanceState.Pending or InstanceState.Starting:
                    commands.Add(new ReconcileCommand.Stop(name, inst.Id, StopReason.NotServing));
                    break;
                case InstanceState.Warming when routable - 1 >= keep && ready >= Math.Min(keep, 1):
                    commands.Add(new ReconcileCommand.Drain(name, inst.Id, "surplus"));
                    routable--;
                    break;
                case InstanceState.Ready when ready - 1 >= keep:
                    commands.Add(new ReconcileCommand.Drain(name, inst.Id, "surplus"));
                    ready--;
                    routable--;
                    break;
            }
        }
    }

    private static int RemovalRank(InstanceState state) => state switch
    {
        InstanceState.Pending => 0,
        InstanceState.Starting => 1,
        InstanceState.Warming => 2,
        _ => 3,
    };

    private void PlanRoutes(
        int a,
        IEnumerable<InstanceInfo> instances,
        double[] demand,
        Dictionary<(string, string), Route> existing,
        List<ReconcileCommand> commands)
    {
        AppProfile app = _apps[a];
        int sites = _topology.SiteCount;
        var capacity = new double[sites];
        foreach (InstanceInfo inst in instances)
        {
            if (inst.State.IsRoutable() && _topology.TryGetSiteIndex(inst.SiteId, out int s))
            {
                capacity[s] += inst.CapacityFraction * app.InstanceCapacityRps;
            }
        }

        RoutePlanner.Plan(_topology, demand, capacity, _options.RoutingMaxUtilization, _weights);
        for (int i = 0; i < sites; i++)
        {
            double total = _weights[i].Sum();
            if (total <= 0)
            {
                continue;
            }

            var route = new List<SiteWeight>();
            for (int j = 0; j < sites; j++)
            {
                // Integer percent-like weights (as HTTPRoute backendRefs use) keep routes stable against noise.
                double w = Math.Round(_weights[i][j] / total * 1000);
                if (w > 0)
                {
                    route.Add(new SiteWeight(_topology.Sites[j].Id, w));
                }
            }

            string ingress = _topology.Sites[i].Id;
            if (existing.TryGetValue((app.Name, ingress), out Route? current) && current.Weights.SequenceEqual(route))
            {
                continue;
            }

            commands.Add(new ReconcileCommand.SetRoute(new Route(app.Name, ingress, route)));
        }
    }
}
