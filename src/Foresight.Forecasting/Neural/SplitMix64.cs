namespace Foresight.Forecasting.Neural;

/// <summary>
/// A tiny seeded generator (SplitMix64, Steele, Lea and Flood 2014): the same seed gives the same stream on every
/// platform and runtime, unlike <see cref="Random"/> whose algorithm is not a contract. Not thread-safe.
/// </summary>
public sealed class SplitMix64
{
    private ulong _state;
    private double? _spare;

    public SplitMix64(ulong seed)
    {
        _state = seed;
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform integer in [0, maxExclusive).</summary>
    public int NextInt(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxExclusive, 1);
        return (int)(NextDouble() * maxExclusive);
    }

    /// <summary>Standard normal (Box–Muller, both values used).</summary>
    public double NextGaussian()
    {
        if (_spare is { } s)
        {
            _spare = null;
            return s;
        }

        double u1 = 1 - NextDouble(), u2 = NextDouble();
        double r = Math.Sqrt(-2 * Math.Log(u1));
        _spare = r * Math.Sin(2 * Math.PI * u2);
        return r * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Fisher–Yates shuffle in place.</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>A derived, independent seed (for per-shard or per-layer streams).</summary>
    public ulong Fork() => NextUInt64() ^ 0xD1B54A32D192ED03UL;
}
