namespace Foresight.Simulation.Engine;

/// <summary>
/// M/M/c response-time model of one instance: c workers, each serving at rate mu (requests/s).
/// Response time T = W + S, where W is the Erlang C queueing delay and S ~ Exp(mu) the service time.
/// </summary>
public readonly record struct MmcState(int Workers, double Mu, double Lambda)
{
    public double Utilization => Lambda / (Workers * Mu);

    public bool IsStable => Lambda < Workers * Mu;

    /// <summary>Probability that an arrival waits (Erlang C).</summary>
    public double WaitProbability => QueueModel.ErlangC(Workers, Lambda / Mu);

    /// <summary>Rate of the exponential conditional wait: c·mu − lambda.</summary>
    public double WaitRate => (Workers * Mu) - Lambda;

    public double MeanResponseSeconds => (WaitProbability / WaitRate) + (1 / Mu);
}

public static class QueueModel
{
    /// <summary>Erlang C probability of waiting for c servers and offered load a = lambda/mu erlangs (a &lt; c).</summary>
    public static double ErlangC(int c, double offeredLoad)
    {
        if (offeredLoad <= 0)
        {
            return 0;
        }

        if (offeredLoad >= c)
        {
            return 1;
        }

        // Erlang B by its stable recurrence, then C from B.
        double b = 1;
        for (int k = 1; k <= c; k++)
        {
            b = offeredLoad * b / (k + (offeredLoad * b));
        }

        double rho = offeredLoad / c;
        return b / (1 - (rho * (1 - b)));
    }

    /// <summary>P(T &gt; t) for the response time of a stable M/M/c queue.</summary>
    public static double ResponseSurvival(in MmcState q, double t)
    {
        if (t <= 0)
        {
            return 1;
        }

        double mu = q.Mu;
        double pw = q.WaitProbability;
        double a = q.WaitRate;
        double serviceOnly = Math.Exp(-mu * t);

        // W' ~ Exp(a) plus S ~ Exp(mu): hypoexponential survival.
        double waitedAndServed = Math.Abs(a - mu) < 1e-9 * mu
            ? (1 + (mu * t)) * Math.Exp(-mu * t)
            : ((a * Math.Exp(-mu * t)) - (mu * Math.Exp(-a * t))) / (a - mu);
        return ((1 - pw) * serviceOnly) + (pw * waitedAndServed);
    }

    /// <summary>The response-time quantile of a stable M/M/c queue, by bisection on the survival function.</summary>
    public static double ResponseQuantile(in MmcState q, double p)
    {
        double lo = 0;
        double hi = 1 / q.Mu;
        while (ResponseSurvival(q, hi) > 1 - p)
        {
            hi *= 2;
        }

        for (int i = 0; i < 80; i++)
        {
            double mid = 0.5 * (lo + hi);
            if (ResponseSurvival(q, mid) > 1 - p)
            {
                lo = mid;
            }
            else
            {
                hi = mid;
            }
        }

        return 0.5 * (lo + hi);
    }
}
