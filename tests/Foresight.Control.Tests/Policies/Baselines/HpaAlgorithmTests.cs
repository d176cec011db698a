using FsCheck;
using FsCheck.Xunit;
using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class HpaAlgorithmTests
{
    // Syncs start at 10 min so the pods below (started at 0) are past the 5 min CPU initialization period.
    private static readonly TimeSpan T0 = TimeSpan.FromMinutes(10);

    private static readonly TimeSpan Sync = TimeSpan.FromSeconds(15);

    private static TimeSpan At(int syncs) => T0 + (Sync * syncs);

    private static PodMetric[] Pods(int count, double utilization) =>
        Enumerable.Repeat(PodMetric.Serving(TimeSpan.Zero, utilization), count).ToArray();

    private static HpaAlgorithm Hpa(int min = 1, int max = 100, Func<HpaOptions, HpaOptions>? tweak = null)
    {
        var options = new HpaOptions { MinReplicas = min, MaxReplicas = max };
        return new HpaAlgorithm(tweak is null ? options : tweak(options));
    }

    [Fact]
    public void Scales_up_to_ceil_of_current_times_utilization_over_target()
    {
        HpaAlgorithm hpa = Hpa();

        // ceil(3 × 90/70) = ceil(3.857) = 4; within the scale-up limit max(3 + 4, 2 × 3) = 7.
        Assert.Equal(4, hpa.Reconcile(T0, 3, Pods(3, 0.9)));
        Assert.Equal(4, hpa.LastRecommendation);
        Assert.Equal(90, hpa.LastUtilizationPercent);
        Assert.Contains("above target", hpa.LastReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Within_tolerance_nothing_changes()
    {
        HpaAlgorithm hpa = Hpa();

        // 75/70 = 1.071: |1 − ratio| ≤ 0.1.
        Assert.Equal(3, hpa.Reconcile(T0, 3, Pods(3, 0.75)));
        Assert.Equal(3, hpa.LastRecommendation);
    }

    [Fact]
    public void Scale_down_is_held_by_the_300s_stabilization_window_then_released()
    {
        HpaAlgorithm hpa = Hpa();

        // t = 0: 4 pods at 70% → ratio 1 → recommendation 4 (plus the initial recommendation 4).
        Assert.Equal(4, hpa.Reconcile(At(0), 4, Pods(4, 0.7)));

        // t = 15 … 285 s: 35% → raw ceil(4 × 0.5) = 2, but the max over the last 300 s is still 4.
        for (int i = 1; i < 20; i++)
        {
            Assert.Equal(4, hpa.Reconcile(At(i), 4, Pods(4, 0.35)));
            Assert.Equal(2, hpa.LastRecommendation);
            Assert.Contains("ScaleDownStabilized", hpa.LastReason, StringComparison.Ordinal);
        }

        // t = 300 s: the recommendations from t = 0 are exactly 300 s old and no longer count (strict "after cutoff");
        // the scale-down policy (100% per 15 s) allows 4 → 0, so min(…) is 2.
        Assert.Equal(2, hpa.Reconcile(At(20), 4, Pods(4, 0.35)));
    }

    [Fact]
    public void A_fresh_hpa_does_not_scale_below_its_initial_scale_for_one_window()
    {
        HpaAlgorithm hpa = Hpa();

        // The first sync seeds the history with the current 4 (recordInitialRecommendation).
        Assert.Equal(4, hpa.Reconcile(At(0), 4, Pods(4, 0.35)));
        Assert.Equal(2, hpa.LastRecommendation);
        Assert.Equal(4, hpa.Reconcile(At(19), 4, Pods(4, 0.35)));
        Assert.Equal(2, hpa.Reconcile(At(20), 4, Pods(4, 0.35)));
    }

    [Fact]
    public void Scale_up_is_rate_limited_by_the_default_policies_and_the_event_history()
    {
        HpaAlgorithm hpa = Hpa();

        // 1 pod at 1000%: raw ceil(1000/70) = 15. Limit = max(Pods: 1 + 4, Percent: ceil(1 × 2)) = 5.
        Assert.Equal(5, hpa.Reconcile(At(0), 1, Pods(1, 10.0)));
        Assert.Equal(15, hpa.LastRecommendation);
        Assert.Contains("ScaleUpLimit", hpa.LastReason, StringComparison.Ordinal);

        // 5 s later, same period: the +4 event is inside the 15 s period, so it started at 5 − 4 = 1 pod and the
        // limit is still max(1 + 4, 2) = 5: no further growth. (Same load on 5 pods: 200% each, raw 15.)
        Assert.Equal(5, hpa.Reconcile(At(0) + TimeSpan.FromSeconds(5), 5, Pods(5, 2.0)));

        // t = 15 s: the event is exactly one period old and no longer counts: max(5 + 4, ceil(5 × 2)) = 10.
        Assert.Equal(10, hpa.Reconcile(At(1), 5, Pods(5, 2.0)));

        // t = 30 s: 10 pods at 100%: raw ceil(10 × 100/70) = ceil(14.29) = 15 ≤ max(14, 20).
        Assert.Equal(15, hpa.Reconcile(At(2), 10, Pods(10, 1.0)));
    }

    [Theory]
    [InlineData(HpaSelectPolicy.Max, 5)] // max(1 + 4, ceil(1 × 2))
    [InlineData(HpaSelectPolicy.Min, 2)] // min(1 + 4, ceil(1 × 2))
    [InlineData(HpaSelectPolicy.Disabled, 1)]
    public void Scale_up_select_policy(HpaSelectPolicy select, int expected)
    {
        HpaAlgorithm hpa = Hpa(tweak: o => o with { ScaleUp = o.ScaleUp with { SelectPolicy = select } });

        Assert.Equal(expected, hpa.Reconcile(T0, 1, Pods(1, 10.0)));
    }

    [Fact]
    public void Scale_down_policy_uses_the_scale_down_event_history()
    {
        // At most 1 pod per 60 s, no stabilization window.
        HpaAlgorithm hpa = Hpa(tweak: o => o with
        {
            ScaleDown = new HpaScalingRules(TimeSpan.Zero, HpaSelectPolicy.Max, [new HpaScalingPolicy(HpaPolicyType.Pods, 1, TimeSpan.FromSeconds(60))]),
        });

        // 7% on 10 pods: raw ceil(10 × 0.1) = 1; limit = 10 − 1 = 9.
        Assert.Equal(9, hpa.Reconcile(At(0), 10, Pods(10, 0.07)));
        Assert.Contains("ScaleDownLimit", hpa.LastReason, StringComparison.Ordinal);

        // Within the 60 s period the period started at 9 + 1 = 10 pods: limit 9, no change.
        Assert.Equal(9, hpa.Reconcile(At(1), 9, Pods(9, 0.07)));
        Assert.Equal(9, hpa.Reconcile(At(3), 9, Pods(9, 0.07)));

        // t = 60 s: the event is one period old: 9 − 1 = 8.
        Assert.Equal(8, hpa.Reconcile(At(4), 9, Pods(9, 0.07)));
    }

    [Fact]
    public void Scale_up_stabilization_window_takes_the_minimum_recommendation()
    {
        HpaAlgorithm hpa = Hpa(tweak: o => o with { ScaleUp = o.ScaleUp with { StabilizationWindow = TimeSpan.FromSeconds(60) } });

        Assert.Equal(3, hpa.Reconcile(At(0), 3, Pods(3, 0.7)));

        // Raw 4, but the minimum over the last 60 s includes the 3 from t = 0.
        for (int i = 1; i < 4; i++)
        {
            Assert.Equal(3, hpa.Reconcile(At(i), 3, Pods(3, 0.9)));
            Assert.Contains("ScaleUpStabilized", hpa.LastReason, StringComparison.Ordinal);
        }

        // t = 60 s: only the 4s from t = 15 … 45 remain.
        Assert.Equal(4, hpa.Reconcile(At(4), 3, Pods(3, 0.9)));
    }

    [Fact]
    public void Missing_metrics_count_as_full_request_on_scale_down()
    {
        HpaAlgorithm hpa = Hpa();
        PodMetric[] pods = [PodMetric.Serving(TimeSpan.Zero, 0.0), PodMetric.Serving(TimeSpan.Zero, null)];

        // (0 + 1000 m) / 2000 m = 50%; 50/70 = 0.714; ceil(2 × 0.714) = 2: no scale-down.
        Assert.Equal(2, hpa.Reconcile(T0, 2, pods));
        Assert.Equal(2, hpa.LastRecommendation);
    }

    [Fact]
    public void Unready_pods_count_as_idle_on_scale_up()
    {
        HpaAlgorithm hpa = Hpa();

        // Two warm pods at 150% and two that became ready 5 s ago (within the CPU initialization period and less
        // than one 15 s metric window since the transition): 150% → (2 × 1500 + 2 × 0) / 4000 = 75%, within tolerance.
        TimeSpan justReady = T0 - TimeSpan.FromSeconds(5);
        PodMetric[] pods =
        [
            .. Pods(2, 1.5),
            new PodMetric(justReady - TimeSpan.FromSeconds(10), true, justReady, 1.8),
            new PodMetric(justReady - TimeSpan.FromSeconds(10), true, justReady, 1.8),
        ];

        Assert.Equal(4, hpa.Reconcile(T0, 4, pods));
    }

    [Fact]
    public void Failed_metrics_leave_the_scale_alone()
    {
        HpaAlgorithm hpa = Hpa();
        PodMetric pending = new(null, false, TimeSpan.Zero, null) { Phase = PodPhase.Pending };

        Assert.Equal(3, hpa.Reconcile(T0, 3, [pending, pending, pending]));
        Assert.Null(hpa.LastRecommendation);
        Assert.StartsWith("FailedGetResourceMetric", hpa.LastReason, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2, 4, 5, 1.0, 4)] // above max: straight to max, metrics not read
    [InlineData(2, 4, 1, 1.0, 2)] // below min: straight to min
    [InlineData(1, 3, 1, 10.0, 3)] // raw 15, limit 5, max 3
    [InlineData(2, 10, 4, 0.07, 2)] // raw ceil(4 × 0.1) = 1, min 2 (no scale-down window here)
    public void Min_and_max_replicas_bound_the_result(int min, int max, int current, double utilization, int expected)
    {
        HpaAlgorithm hpa = Hpa(min, max, o => o with { ScaleDown = o.ScaleDown with { StabilizationWindow = TimeSpan.Zero } });

        Assert.Equal(expected, hpa.Reconcile(T0, current, Pods(current, utilization)));
    }

    [Fact]
    public void Zero_replicas_disables_scaling()
    {
        HpaAlgorithm hpa = Hpa();

        Assert.Equal(0, hpa.Reconcile(T0, 0, []));
        Assert.StartsWith("ScalingDisabled", hpa.LastReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Same_inputs_give_the_same_decisions()
    {
        int[] Run()
        {
            HpaAlgorithm hpa = Hpa(1, 20);
            int replicas = 2;
            var decisions = new List<int>();
            double[] load = [0.5, 3.0, 6.0, 6.0, 2.0, 0.5, 0.5, 0.1];
            for (int i = 0; i < 40; i++)
            {
                double cores = load[i % load.Length];
                replicas = hpa.Reconcile(At(i), replicas, Pods(replicas, cores / replicas));
                decisions.Add(replicas);
            }

            return [.. decisions];
        }

        Assert.Equal(Run(), Run());
    }

    [Property(MaxTest = 300)]
    public bool Output_is_always_within_min_and_max(byte minSeed, byte spanSeed, NonEmptyArray<byte> currents, NonEmptyArray<byte> loads)
    {
        int min = 1 + (minSeed % 5);
        int max = min + (spanSeed % 20);
        HpaAlgorithm hpa = Hpa(min, max);
        byte[] loadSeq = loads.Get;
        byte[] currentSeq = currents.Get;

        for (int i = 0; i < Math.Max(loadSeq.Length, currentSeq.Length); i++)
        {
            int current = 1 + (currentSeq[i % currentSeq.Length] % 40);

            // Per-pod utilization 0 … 5.1, with every fourth pod missing its sample.
            double utilization = loadSeq[i % loadSeq.Length] / 50.0;
            PodMetric[] pods = Enumerable.Range(0, current)
                .Select(p => PodMetric.Serving(TimeSpan.Zero, p % 4 == 3 ? null : utilization))
                .ToArray();

            int desired = hpa.Reconcile(At(i), current, pods);
            if (desired < min || desired > max)
            {
                return false;
            }
        }

        return true;
    }
}
