using Foresight.Simulation.Engine;

namespace Foresight.Simulation.Tests.Engine;

public sealed class QueueModelTests
{
    [Theory]
    [InlineData(1, 0.5, 0.5)] // M/M/1: P(wait) = rho
    [InlineData(2, 1.0, 1.0 / 3)] // B(2,1) = 0.2; C = 0.2 / (1 - 0.5 * 0.8) = 1/3
    [InlineData(3, 0.0, 0.0)]
    [InlineData(2, 2.0, 1.0)] // saturated
    public void ErlangC_matches_hand_computed_values(int c, double load, double expected)
    {
        Assert.Equal(expected, QueueModel.ErlangC(c, load), 9);
    }

    [Theory]
    [InlineData(0.001)]
    [InlineData(0.02)]
    [InlineData(0.1)]
    public void MM1_response_time_is_exponential_with_rate_mu_minus_lambda(double t)
    {
        var q = new MmcState(1, 50, 30);
        Assert.Equal(Math.Exp(-20 * t), QueueModel.ResponseSurvival(q, t), 9);
    }

    [Fact]
    public void Mean_response_time_matches_little_law_form()
    {
        // M/M/2, mu = 10, lambda = 10: C = 1/3, E[W] = C / (2*10 - 10) = 1/30, E[T] = 1/30 + 1/10.
        var q = new MmcState(2, 10, 10);
        Assert.Equal((1.0 / 30) + 0.1, q.MeanResponseSeconds, 9);
    }

    [Theory]
    [InlineData(1, 50, 30, 0.95)]
    [InlineData(4, 50, 150, 0.5)]
    [InlineData(4, 50, 190, 0.99)]
    public void Quantile_inverts_the_survival_function(int c, double mu, double lambda, double p)
    {
        var q = new MmcState(c, mu, lambda);
        double x = QueueModel.ResponseQuantile(q, p);
        Assert.Equal(1 - p, QueueModel.ResponseSurvival(q, x), 6);
    }

    [Fact]
    public void Histogram_quantiles_are_within_one_percent()
    {
        var h = new LatencyHistogram();
        for (int i = 1; i <= 1000; i++)
        {
            h.Add(i, 1);
        }

        Assert.InRange(h.Quantile(0.5), 495, 506);
        Assert.InRange(h.Quantile(0.95), 945, 960);
        Assert.Equal(500.5, h.MeanMs, 6);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(5)]
    [InlineData(40)]
    [InlineData(400)]
    public void Poisson_sampler_has_the_right_mean_and_variance(double mean)
    {
        var rng = new DeterministicRandom(42);
        const int n = 40_000;
        double sum = 0;
        double sumSq = 0;
        for (int i = 0; i < n; i++)
        {
            double k = rng.NextPoisson(mean);
            sum += k;
            sumSq += k * k;
        }

        double m = sum / n;
        double v = (sumSq / n) - (m * m);
        Assert.InRange(m, mean * 0.97 - 0.02, mean * 1.03 + 0.02);
        Assert.InRange(v, mean * 0.92 - 0.05, mean * 1.08 + 0.05);
    }
}
