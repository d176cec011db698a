using FsCheck;
using FsCheck.Xunit;
using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class KpaAlgorithmTests
{
    // containerConcurrency 10 × 70% target utilization.
    private const double Target = 7;

    private static TimeSpan S(int seconds) => TimeSpan.FromSeconds(seconds);

    private static KpaAlgorithm Kpa(int readyAtCreation = 1, Func<KpaOptions, KpaOptions>? tweak = null)
    {
        var options = new KpaOptions { TargetPerPod = Target, MaxScale = 100 };
        return new KpaAlgorithm(tweak is null ? options : tweak(options), TimeSpan.Zero, readyAtCreation);
    }

    // The collector scrapes once a second.
    private static void Load(KpaAlgorithm kpa, int from, int to, double concurrency)
    {
        for (int t = from; t <= to; t++)
        {
            kpa.Record(S(t), concurrency);
        }
    }

    // The simulator's order: record each second's concurrency, and decide every 2 s tick after recording.
    private static Dictionary<int, (int Pods, bool Panic)> Run(KpaAlgorithm kpa, int from, int to, double load, int ready)
    {
        var decisions = new Dictionary<int, (int Pods, bool Panic)>();
        for (int t = from; t <= to; t++)
        {
            kpa.Record(S(t), load);
            if (t % 2 == 0)
            {
                decisions[t] = (kpa.Scale(S(t), ready), kpa.InPanic);
            }
        }

        return decisions;
    }

    [Fact]
    public void Steady_load_at_target_is_stable()
    {
        // Created with 3 ready pods: it starts in panic holding 3, which ends after 60 s.
        KpaAlgorithm kpa = Kpa(readyAtCreation: 3);

        // 21 in flight on 3 pods = 7 per pod: ceil(21 / 7) = 3 at every tick.
        Dictionary<int, (int Pods, bool Panic)> decisions = Run(kpa, 0, 120, 21, 3);

        Assert.All(decisions.Values, d => Assert.Equal(3, d.Pods));
        Assert.False(decisions[120].Panic);
        Assert.Equal(21, kpa.ObservedStableConcurrency);
    }

    [Fact]
    public void A_3x_burst_panics_within_the_panic_window_and_scales_to_the_panic_count()
    {
        KpaAlgorithm kpa = Kpa();
        Assert.All(Run(kpa, 0, 119, 21, 3).Values, d => Assert.Equal((3, false), d));

        // t = 120: panic window 115 … 120 = (5 × 21 + 63) / 6 = 28 → ceil(28 / 7) = 4 → 4 / 3 < 2: no panic.
        // Stable window 61 … 120 = (59 × 21 + 63) / 60 = 21.7 → ceil(3.1) = 4.
        Assert.Equal((4, false), Run(kpa, 120, 120, 63, 3)[120]);

        // t = 122: panic window 117 … 122 = (3 × 21 + 3 × 63) / 6 = 42 → 6 pods → 6 / 3 = 2 ≥ 200%: panic.
        // Stable (57 × 21 + 3 × 63) / 60 = 23.1 → 4; in panic the larger, 6, wins.
        Assert.Equal((6, true), Run(kpa, 121, 122, 63, 3)[122]);
        Assert.Equal(42, kpa.ObservedPanicConcurrency);

        // t = 124: (21 + 5 × 63) / 6 = 56 → 8.
        Assert.Equal((8, true), Run(kpa, 123, 124, 63, 3)[124]);

        // t = 126: the panic window is all burst: 63 / 7 = 9 = 3 × the steady count, while the stable window alone
        // would still say ceil((53 × 21 + 7 × 63) / 60 / 7) = ceil(3.7) = 4.
        Assert.Equal((9, true), Run(kpa, 125, 126, 63, 3)[126]);
    }

    [Fact]
    public void No_scale_down_in_panic_and_panic_ends_a_stable_window_after_the_last_trigger()
    {
        KpaAlgorithm kpa = Kpa();
        Run(kpa, 0, 119, 21, 3);
        Assert.Equal((9, true), Run(kpa, 120, 126, 63, 3)[126]); // last time over the threshold: panicTime = 126 s

        // The burst ends and 9 pods are ready. Panic demand falls (t = 128: (4 × 63 + 2 × 21) / 6 = 49 → 7, and
        // 7 / 9 < 2) but the count never decreases while panicking; t = 186 is not yet after 126 + 60.
        Dictionary<int, (int Pods, bool Panic)> held = Run(kpa, 127, 186, 21, 9);
        Assert.All(held.Values, d => Assert.Equal((9, true), d));

        // t = 188: 126 + 60 < 188, panic ends. Stable 21 → 3 pods, but at most halving per decision:
        // max(3, floor(9 / 2)) = 4.
        Assert.Equal((4, false), Run(kpa, 187, 188, 21, 9)[188]);
    }

    [Fact]
    public void Max_scale_down_rate_halves_per_decision()
    {
        KpaAlgorithm kpa = Kpa();

        // ceil(0.5 / 7) = 1, but never below floor(ready / 2): 10 → 5 → 2 → 1.
        Assert.Equal((5, false), Run(kpa, 0, 10, 0.5, 10)[10]);
        Assert.Equal((2, false), Run(kpa, 11, 12, 0.5, 5)[12]);
        Assert.Equal((1, false), Run(kpa, 13, 14, 0.5, 2)[14]);
    }

    [Fact]
    public void Starts_in_panic_holding_the_ready_count_when_created_with_more_than_one_pod()
    {
        // Created with 10 ready pods: panicTime = 0, maxPanicPods = 10 (the metric history is empty).
        KpaAlgorithm kpa = Kpa(readyAtCreation: 10);

        Assert.All(Run(kpa, 0, 60, 0.5, 10).Values, d => Assert.Equal((10, true), d));

        // t = 62: 0 + 60 < 62, panic ends; from 10 pods at near-zero load: max(1, floor(10 / 2)) = 5.
        Assert.Equal((5, false), Run(kpa, 61, 62, 0.5, 10)[62]);
    }

    [Fact]
    public void Scale_down_delay_takes_the_maximum_over_its_window()
    {
        // Stable window 6 s (panic 1 s) to keep the arithmetic short; delay 10 s = 5 ticks of 2 s.
        static KpaAlgorithm Make(TimeSpan delay) => Kpa(tweak: o => o with { StableWindow = S(6), ScaleDownDelay = delay });

        KpaAlgorithm plain = Make(TimeSpan.Zero);
        KpaAlgorithm delayed = Make(S(10));
        int[] plainCounts = [.. Drive(plain)];
        int[] delayedCounts = [.. Drive(delayed)];

        // Ticks 20 … 32 s. Stable averages: t 20 = (5 × 70 + 7) / 6 = 59.5 → 9; t 22 = (3 × 70 + 3 × 7) / 6 = 38.5 → 6;
        // t 24 = (70 + 5 × 7) / 6 = 17.5 → 3 → max(3, floor(10 / 2)) = 5; then 5.
        Assert.Equal([9, 6, 5, 5, 5, 5, 5], plainCounts);

        // With the delay each tick reports the max of the last 5 ticks (t − 8 … t): 10 until t 18 leaves at t 28.
        Assert.Equal([10, 10, 10, 10, 9, 6, 5], delayedCounts);

        static IEnumerable<int> Drive(KpaAlgorithm kpa)
        {
            for (int t = 0; t <= 32; t++)
            {
                kpa.Record(S(t), t < 20 ? 70 : 7);
                if (t % 2 == 0)
                {
                    int desired = kpa.Scale(S(t), 10);
                    if (t >= 20)
                    {
                        yield return desired;
                    }
                }
            }
        }
    }

    [Fact]
    public void Activation_scale_is_the_smallest_non_zero_count()
    {
        KpaAlgorithm kpa = Kpa(tweak: o => o with { ActivationScale = 3 });
        Load(kpa, 0, 10, 0.5);

        // ceil(0.5 / 7) = 1 > 0, raised to the activation scale 3.
        Assert.Equal(3, kpa.Scale(S(10), 1));
    }

    [Theory]
    [InlineData(1, 100, 4, 1000, 100)] // ceil(1000 / 7) = 143 → max scale 100
    [InlineData(3, 100, 4, 0.5, 3)] // floor(4 / 2) = 2 → min scale 3
    [InlineData(1, 0, 4, 1000, 143)] // max scale 0: unbounded
    public void Min_and_max_scale_bound_the_result(int min, int max, int ready, double load, int expected)
    {
        KpaAlgorithm kpa = Kpa(tweak: o => o with { MinScale = min, MaxScale = max });
        Load(kpa, 0, 70, load);

        Assert.Equal(expected, kpa.Scale(S(70), ready));
    }

    [Fact]
    public void Without_data_the_scale_is_left_alone()
    {
        KpaAlgorithm kpa = Kpa();

        Assert.Equal(4, kpa.Scale(S(0), 4));
        Load(kpa, 0, 10, 70);
        Assert.Equal(10, kpa.Scale(S(10), 4));

        // More than a stable window without records: no data, keep the last decision.
        Assert.Equal(10, kpa.Scale(S(100), 10));
        Assert.Equal("no data to scale on yet", kpa.LastReason);
    }

    [Fact]
    public void Zero_ready_pods_count_as_one()
    {
        KpaAlgorithm kpa = Kpa();
        Load(kpa, 0, 5, 70);

        // ready = max(1, 0): scale-up limit ceil(1000 × 1); ceil(70 / 7) = 10 → 10 / 1 ≥ 2: panic.
        Assert.Equal(10, kpa.Scale(S(5), 0));
        Assert.True(kpa.InPanic);
    }

    [Property(MaxTest = 200)]
    public bool Output_is_always_within_min_and_max(byte minSeed, byte spanSeed, NonEmptyArray<byte> loads, NonEmptyArray<byte> readies)
    {
        int min = 1 + (minSeed % 5);
        int max = min + (spanSeed % 30);
        var kpa = new KpaAlgorithm(new KpaOptions { TargetPerPod = Target, MinScale = min, MaxScale = max }, TimeSpan.Zero, readies.Get[0] % 50);
        byte[] loadSeq = loads.Get;
        byte[] readySeq = readies.Get;

        for (int t = 0; t < 3 * Math.Max(loadSeq.Length, readySeq.Length); t++)
        {
            kpa.Record(S(t), loadSeq[t % loadSeq.Length] * 2.0);
            int desired = kpa.Scale(S(t), readySeq[t % readySeq.Length] % 50);
            if (desired < min || desired > max)
            {
                return false;
            }
        }

        return true;
    }
}
