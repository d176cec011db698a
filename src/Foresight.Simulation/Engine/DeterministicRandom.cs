namespace Foresight.Simulation.Engine;

/// <summary>
/// Small, fast, seedable RNG (xoshiro256**), plus counter-based seeding so that every policy replays
/// the identical arrival process: the arrivals of (step, app, site) depend only on the seed and those indices.
/// </summary>
public struct DeterministicRandom
{
    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    public DeterministicRandom(ulong seed)
    {
        ulong x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    /// <summary>An RNG whose stream depends only on the seed and the given coordinates.</summary>
    public static DeterministicRandom For(long seed, long a, long b = 0, long c = 0)
    {
        ulong h = (ulong)seed * 0x9E3779B97F4A7C15UL;
        h = Mix(h ^ (ulong)a);
        h = Mix(h ^ ((ulong)b * 0xC2B2AE3D27D4EB4FUL));
        h = Mix(h ^ ((ulong)c * 0x165667B19E3779F9UL));
        return new DeterministicRandom(h);
    }

    public ulong NextULong()
    {
        ulong result = RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform in (0, 1], safe for logarithms.</summary>
    public double NextOpenDouble() => ((NextULong() >> 11) + 1) * (1.0 / (1UL << 53));

    public double NextExponential(double rate) => -Math.Log(NextOpenDouble()) / rate;

    public double NextGaussian()
    {
        double u1 = NextOpenDouble();
        double u2 = NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>A Poisson variate: inversion for small means, Hörmann's PTRS transformed rejection for large ones.</summary>
    public long NextPoisson(double mean)
    {
        if (!(mean > 0))
        {
            return 0;
        }

        if (mean < 12)
        {
            double limit = Math.Exp(-mean);
            double p = NextDouble();
            long k = 0;
            double term = limit;
            double cumulative = term;
            while (p > cumulative && k < 1000)
            {
                k++;
                term *= mean / k;
                cumulative += term;
            }

            return k;
        }

        // PTRS (Hörmann 1993, "The transformed rejection method for generating Poisson random variables").
        double slam = Math.Sqrt(mean);
        double loglam = Math.Log(mean);
        double b = 0.931 + (2.53 * slam);
        double a = -0.059 + (0.02483 * b);
        double invalpha = 1.1239 + (1.1328 / (b - 3.4));
        double vr = 0.9277 - (3.6224 / (b - 2));
        while (true)
        {
            double u = NextDouble() - 0.5;
            double v = NextDouble();
            double us = 0.5 - Math.Abs(u);
            long k = (long)Math.Floor((((2 * a) / us) + b) * u + mean + 0.43);
            if (us >= 0.07 && v <= vr)
            {
                return k;
            }

            if (k < 0 || (us < 0.013 && v > us))
            {
                continue;
            }

            if ((Math.Log(v) + Math.Log(invalpha) - Math.Log((a / (us * us)) + b)) <= (-mean + (k * loglam) - LogFactorial(k)))
            {
                return k;
            }
        }
    }

    private static double LogFactorial(long k)
    {
        if (k < 2)
        {
            return 0;
        }

        // Stirling series; exact enough for k >= 2 in rejection tests.
        double x = k + 1.0;
        return ((x - 0.5) * Math.Log(x)) - x + (0.5 * Math.Log(2 * Math.PI)) + (1.0 / (12 * x)) - (1.0 / (360 * x * x * x));
    }

    private static ulong SplitMix(ref ulong x)
    {
        x += 0x9E3779B97F4A7C15UL;
        return Mix(x);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static ulong RotateLeft(ulong x, int k) => (x << k) | (x >> (64 - k));
}
