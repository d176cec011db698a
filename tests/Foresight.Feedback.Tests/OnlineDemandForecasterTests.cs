using Foresight.Simulation.Oracle;
using Foresight.Control.Decision;
using Foresight.Control.Placement;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Core.Topology;
using Foresight.Forecasting.Baselines;
using Foresight.Simulation.Engine;
using Foresight.Control.Policies;
using Foresight.Control.Policies.Predictive;

namespace Foresight.Feedback.Tests;

public sealed class OnlineDemandForecasterTests
{
    private static OnlineDemandForecaster Create(int sites, double warmup = 100) => new(
        1,
        sites,
        () => new SeasonalNaiveForecaster(),
        new OnlineForecasterOptions { HorizonSteps = 6, WarmupSeconds = warmup, RefitEverySeconds = 1000, SeasonLength = 12 });

    [Fact]
    public void There_is_no_forecast_before_the_warm_up_so_the_controller_stays_reactive()
    {
        OnlineDemandForecaster f = Create(2);
        for (int t = 1; t <= 95; t++)
        {
            f.Observe(0, t, [10, 20]);
        }

        Assert.Null(f.Predict(0, 0, 95));
        Assert.Equal(0, f.Fits);
    }

    [Fact]
    public void After_the_warm_up_a_periodic_demand_is_forecast_one_season_ahead()
    {
        OnlineDemandForecaster f = Create(1, warmup: 300);
        // Period of 60 s = 12 buckets of 5 s: 100 req/s for 30 s, then 20 req/s for 30 s.
        static double Rate(double t) => (t % 60) < 30 ? 100 : 20;
        for (int t = 1; t <= 600; t++)
        {
            f.Observe(0, t, [Rate(t - 0.5)]);
        }

        Forecast forecast = Assert.IsType<Forecast>(f.Predict(0, 0, 600));
        Assert.Equal(6, forecast.Horizon);
        for (int k = 0; k < 6; k++)
        {
            Assert.Equal(Rate(600 + (k * 5) + 2.5), forecast.Median[k], 6);
        }
    }

    [Fact]
    public void Predictive_decisions_do_not_depend_on_the_future_while_the_oracles_do()
    {
        // Identical demand until t = 900 s; afterwards one world's demand at site 1 jumps tenfold.
        IReadOnlyList<int[]> Decisions(bool jump, bool oracle)
        {
            var sites = new List<Site> { new("a", 0, 0), new("b", 10, 0) };
            var topology = new EdgeTopology(
                sites, sites.Select(s => new Server($"{s.Id}/0", s.Id, 256)).ToList(),
                sites.Select(s => new Source($"src-{s.Id}", s.XKm, s.YKm)).ToList(), [0, 1], new RttModel());
            var app = new AppProfile { Name = "api", ColdStartSeconds = 5, WarmupSeconds = 10, MaxInstances = 60 };
            var demand = new ConstantDemand(1, 2, (_, t, s) => s == 1 && jump && t >= 900 ? 600 : 60 + (20 * Math.Sin(t / 60)));
            var sim = new EdgeSimulator(new EngineSetup(topology, [app], demand, 1, 9, DateTimeOffset.UnixEpoch));
            IDemandForecaster forecaster = oracle
                ? new OracleForecaster(demand, topology, DateTimeOffset.UnixEpoch, 5, 12)
                : new OnlineDemandForecaster(1, 2, () => new SeasonalNaiveForecaster(),
                    new OnlineForecasterOptions { HorizonSteps = 12, WarmupSeconds = 300, RefitEverySeconds = 300, SeasonLength = 76 });
            var policy = new PredictivePolicy("p", forecaster);
            var context = SimulatorPolicyContext.For(sim, 0.7);
            var desired = new DesiredPlacement(1, 2);
            desired[0, 0] = 1;
            desired[0, 1] = 1;
            sim.CreateReadyInstance("api", "a");
            sim.CreateReadyInstance("api", "b");
            var decisions = new List<int[]>();
            for (int step = 0; step < 900; step++)
            {
                policy.OnStep(context);
                if (step % 5 == 0)
                {
                    policy.Decide(context, sim.Snapshot(), desired);
                    decisions.Add(desired.ForApp(0).ToArray());
                }

                sim.Step();
            }

            return decisions;
        }

        Assert.Equal(Decisions(jump: false, oracle: false), Decisions(jump: true, oracle: false));
        Assert.NotEqual(Decisions(jump: false, oracle: true), Decisions(jump: true, oracle: true));
    }

    [Fact]
    public void The_forecaster_scores_its_own_forecasts_against_what_it_later_observes()
    {
        OnlineDemandForecaster f = Create(1, warmup: 300);
        var noise = new Random(4);
        for (int t = 1; t <= 2400; t++)
        {
            f.Observe(0, t, [((t % 60) < 30 ? 100 : 20) + (noise.NextDouble() * 10)]);
            if (t % 5 == 0)
            {
                f.Predict(0, 0, t);
            }
        }

        ForecastAccuracy accuracy = f.Accuracy;
        Assert.True(accuracy.ScoredPoints > 1000, $"{accuracy.ScoredPoints} points scored");

        // Seasonal naive against itself: within a season its forecast is the seasonal naive value, so MASE is 1.
        Assert.InRange(accuracy.Mase!.Value, 0.99, 1.01);
        Assert.InRange(accuracy.Coverage90!.Value, 0.75, 1.0);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Forecasts_worse_than_naive_switch_the_app_to_reactive_only_unless_feedback_is_off(bool feedback)
    {
        // The model assumes a 7-bucket season on a 12-bucket cycle: clearly worse than seasonal naive at 12.
        var f = new OnlineDemandForecaster(
            1,
            1,
            () => new SeasonalNaiveForecaster(new SeasonalNaiveOptions { SeasonLength = 7 }),
            new OnlineForecasterOptions { HorizonSteps = 6, WarmupSeconds = 300, RefitEverySeconds = 1000, SeasonLength = 12, Feedback = feedback });
        var noise = new Random(2);
        Forecast? last = null;
        for (int t = 1; t <= 3000; t++)
        {
            f.Observe(0, t, [((t % 60) < 30 ? 100 : 20) + (noise.NextDouble() * 5)]);
            if (t % 5 == 0)
            {
                last = f.Predict(0, 0, t);
            }
        }

        Assert.True(f.Accuracy.Mase > 1.1, $"MASE {f.Accuracy.Mase}");
        if (feedback)
        {
            Assert.Null(last);
            Assert.Contains("reactive", f.FallbackReasons[0]);
            Assert.True(f.FallbackTransitions >= 1);
        }
        else
        {
            Assert.NotNull(last);
            Assert.Equal(0, f.FallbackTransitions);
        }
    }

    [Fact]
    public void One_apps_horizon_can_be_shortened_up_to_the_models_horizon_without_refitting()
    {
        var f = new OnlineDemandForecaster(
            2,
            1,
            () => new SeasonalNaiveForecaster(new SeasonalNaiveOptions { SeasonLength = 12 }),
            new OnlineForecasterOptions { HorizonSteps = 8, WarmupSeconds = 300, RefitEverySeconds = 100_000, SeasonLength = 12 });
        for (int t = 1; t <= 600; t++)
        {
            f.Observe(0, t, [50 + (t % 60)]);
            f.Observe(1, t, [20 + (t % 60)]);
        }

        Assert.Equal(8, f.Predict(0, 0, 600)!.Horizon);
        int fits = f.Fits;

        Assert.Equal(3, f.SetHorizon(0, 3));
        Assert.Equal(3, f.Predict(0, 0, 600)!.Horizon);
        Assert.Equal(8, f.Predict(1, 0, 600)!.Horizon); // the other app keeps its horizon
        Assert.Equal(8, f.SetHorizon(0, 50)); // never beyond what the models were built for
        Assert.Equal(8, f.HorizonOf(0));
        Assert.Equal(fits, f.Fits);
    }
}
