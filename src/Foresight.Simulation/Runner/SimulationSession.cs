using Foresight.Control.Placement;
using Foresight.Control.Reconcile;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Policies;

namespace Foresight.Simulation.Runner;

/// <summary>
/// One policy driving one simulated cluster, advanced a step at a time: observe, decide on the policy's period,
/// reconcile through the orchestrator port. The batch runner and the live controller loop share it, so a live run
/// behaves exactly like the same policy in <c>simulate</c>.
/// </summary>
public sealed class SimulationSession
{
    private readonly RunSettings _settings;
    private readonly IScalingPolicy _policy;
    private readonly PolicyContext _context;
    private readonly PlacementReconciler _reconciler;
    private readonly double[][] _routingDemand;
    private readonly List<TimelineSample> _timeline = [];
    private double _nextDecision;
    private double _nextReconcile;
    private double _nextTimeline;

    public SimulationSession(EngineSetup setup, RunSettings settings, IScalingPolicy policy)
    {
        _settings = settings;
        _policy = policy;
        Simulator = new EdgeSimulator(setup);
        _context = new PolicyContext(Simulator, settings.TargetUtilization);
        int apps = setup.Apps.Count;
        int sites = setup.Topology.SiteCount;

        Desired = InitialPlacement.Compute(setup, settings.TargetUtilization);
        for (int a = 0; a < apps; a++)
        {
            for (int s = 0; s < sites; s++)
            {
                for (int k = 0; k < Desired[a, s]; k++)
                {
                    Simulator.CreateReadyInstance(setup.Apps[a].Name, setup.Topology.Sites[s].Id);
                }
            }
        }

        _reconciler = new PlacementReconciler(setup.Topology, setup.Apps);
        _routingDemand = new double[apps][];
        for (int a = 0; a < apps; a++)
        {
            _routingDemand[a] = new double[sites];
        }
    }

    public EdgeSimulator Simulator { get; }

    public IScalingPolicy Policy => _policy;

    /// <summary>The policy's latest desired placement (updated in place).</summary>
    public DesiredPlacement Desired { get; }

    public int Migrations { get; private set; }

    public int ScaleEvents { get; private set; }

    public IReadOnlyList<TimelineSample> Timeline => _timeline;

    /// <summary>When set, reconcile passes are planned but not applied (the controller's dry-run).</summary>
    public bool DryRun { get; set; }

    /// <summary>Advances one simulated step. Returns the reconcile plan when a reconcile pass ran in this step.</summary>
    public ReconcilePlan? Step()
    {
        EdgeSimulator sim = Simulator;
        double now = sim.Now;
        _policy.OnStep(_context);
        bool decided = false;
        if (now >= _nextDecision - 1e-9)
        {
            DesiredPlacement before = Desired.Clone();
            _policy.Decide(_context, Desired);
            (int moved, int scaled) = PlacementDiff.Count(before, Desired);
            Migrations += moved;
            ScaleEvents += scaled;
            _nextDecision = now + _policy.DecisionPeriodSeconds;
            decided = true;
        }

        ReconcilePlan? plan = null;
        if (decided || now >= _nextReconcile - 1e-9)
        {
            for (int a = 0; a < _routingDemand.Length; a++)
            {
                sim.ObservedIngressRates(a, _settings.RoutingWindowSeconds, _routingDemand[a]);
            }

            plan = _reconciler.Plan(Desired, sim.Snapshot(), _routingDemand);
            if (!DryRun)
            {
                PlacementReconciler.ApplyAsync(plan, sim, CancellationToken.None).AsTask().GetAwaiter().GetResult();
            }

            _nextReconcile = now + _settings.ReconcilePeriodSeconds;
        }

        if (now >= _nextTimeline - 1e-9)
        {
            _timeline.Add(SimulationRunner.Sample(sim, now));
            _nextTimeline = now + sim.Metrics.TimelineBucketSeconds;
        }

        sim.Step();
        return plan;
    }
}
