using Foresight.Control.Decision;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Baselines;
using Foresight.Control.Policies.Predictive;
using Foresight.Control.Policies.Reactive;
using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Runner;
using Foresight.Simulation.Scenarios;
using Foresight.Simulation.Tests.Engine;

namespace Foresight.Simulation.Tests.Runner;

/// <summary>The predictive policy's safety net: HPA's or KPA's algorithm per app, with the baselines' own defaults.</summary>
public sealed class SafetyNetTests
{
    private static readonly RunSettings s_settings = new() { DurationSeconds = 312, TargetUtilization = 0.7 };

    /// <summary>One site; 20 req/s, then a step to 300 req/s at t = 300 s.</summary>
    private static EngineSetup StepBurst() =>
        TestClusters.Setup(TestClusters.Line(1), TestClusters.App(), (t, _) => t < 300 ? 20 : 300);

    private static PredictivePolicy Blind(ReactiveAlgorithm? net = null) =>
        new("predictive", new NoForecast()) { ReactiveOverride = net };

    [Fact]
    public void A_kpa_net_panics_and_scales_within_the_panic_window_of_a_step_burst()
    {
        PredictivePolicy kpaNet = Blind(ReactiveAlgorithm.Kpa);
        PredictivePolicy hpaNet = Blind();

        PolicyResult withKpa = SimulationRunner.Run(StepBurst(), s_settings, kpaNet);
        PolicyResult withHpa = SimulationRunner.Run(StepBurst(), s_settings, hpaNet);

        KpaAlgorithm kpa = Assert.IsType<KpaScaler>(kpaNet.SafetyNet(0)).Algorithm!;
        Assert.True(kpa.InPanic);
        Assert.Equal(2, kpaNet.DecisionPeriodSeconds);
        Assert.Equal(5, hpaNet.DecisionPeriodSeconds);

        // 12 s after the step (two panic windows), the KPA net has scaled up; HPA's next sync is still to come.
        Assert.True(withKpa.ScaleEvents > withHpa.ScaleEvents, $"kpa net {withKpa.ScaleEvents} scale events, hpa net {withHpa.ScaleEvents}");
    }

    [Fact]
    public void The_nets_run_the_baselines_documented_defaults()
    {
        PredictivePolicy kpaNet = Blind(ReactiveAlgorithm.Kpa);
        PredictivePolicy hpaNet = Blind();
        SimulationRunner.Run(StepBurst(), s_settings, kpaNet);
        SimulationRunner.Run(StepBurst(), s_settings, hpaNet);

        KpaOptions kpa = Assert.IsType<KpaScaler>(kpaNet.SafetyNet(0)).Algorithm!.Options;
        Assert.Equal(new KpaOptions { TargetPerPod = KpaOptions.ParityTarget(2, 0.7), MinScale = 1, MaxScale = 20 }, kpa);
        Assert.Equal((60, 6, 2.0, 2), (kpa.StableWindow.TotalSeconds, kpa.PanicWindow.TotalSeconds, kpa.PanicThreshold, kpa.TickInterval.TotalSeconds));

        HpaOptions hpa = Assert.IsType<HpaScaler>(hpaNet.SafetyNet(0)).Algorithm.Options;
        Assert.Equal(new HpaOptions { TargetUtilization = 0.7, MinReplicas = 1, MaxReplicas = 20 }, hpa);
        Assert.Equal((15, 0.1, 300), (hpa.SyncPeriod.TotalSeconds, hpa.Tolerance, hpa.ScaleDown.StabilizationWindow.TotalSeconds));
    }

    [Fact]
    public void An_apps_own_choice_holds_unless_overridden()
    {
        AppProfile app = TestClusters.App() with { Reactive = ReactiveAlgorithm.Kpa };

        Assert.Equal(ReactiveAlgorithm.Kpa, Blind().NetFor(app));
        Assert.Equal(ReactiveAlgorithm.Hpa, Blind(ReactiveAlgorithm.Hpa).NetFor(app));
        Assert.Equal(ReactiveAlgorithm.Hpa, Blind().NetFor(TestClusters.App()));
    }

    [Fact]
    public void A_scenario_app_reads_reactive_and_rejects_an_unknown_one_naming_the_field()
    {
        ScenarioSpec spec = ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n    reactive: kpa\n", "n.yaml", "");
        var error = Assert.Throws<InvalidInputException>(() =>
            ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n    reactive: vpa\n", "n.yaml", ""));

        Assert.Equal(ReactiveAlgorithm.Kpa, spec.Apps[0].Profile.Reactive);
        Assert.Contains("reactive", error.Message, StringComparison.Ordinal);
        Assert.Contains("n.yaml", error.Message, StringComparison.Ordinal);
        Assert.Contains("hpa or kpa", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scenario_app_reads_its_miss_cost_and_rejects_a_negative_one_naming_the_field()
    {
        ScenarioSpec spec = ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n    missCost: 0.02\n", "n.yaml", "");
        var error = Assert.Throws<InvalidInputException>(() =>
            ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n    missCost: -1\n", "n.yaml", ""));

        Assert.Equal(0.02, spec.Apps[0].Profile.MissCost);
        Assert.Null(ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n", "n.yaml", "").Apps[0].Profile.MissCost);
        Assert.Contains("missCost", error.Message, StringComparison.Ordinal);
        Assert.Contains("n.yaml", error.Message, StringComparison.Ordinal);
    }

    private sealed class NoForecast : IDemandForecaster
    {
        public double StepSeconds => 5;

        public int HorizonSteps => 12;

        public void Observe(int app, double time, ReadOnlySpan<double> ratesBySite)
        {
        }

        public Forecast? Predict(int app, int site, double now) => null;
    }
}
