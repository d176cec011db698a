using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class HpaReplicaCalculatorTests
{
    // Target 70%, tolerance 0.1, CPU initialization 300 s, initial readiness delay 30 s, metric window 15 s.
    private static readonly HpaOptions Defaults = new() { MaxReplicas = 100 };

    private static readonly TimeSpan Now = TimeSpan.FromSeconds(1000);

    private static TimeSpan S(double seconds) => TimeSpan.FromSeconds(seconds);

    // Long-running ready pods (started at 0, past the 300 s CPU initialization period at Now); null = no sample.
    private static PodMetric[] Serving(params double?[] utilization) =>
        utilization.Select(u => PodMetric.Serving(TimeSpan.Zero, u)).ToArray();

    private static PodMetric PendingPod => new(null, false, TimeSpan.Zero, null) { Phase = PodPhase.Pending };

    public static TheoryData<string, PodMetric, HpaPodGroup> Classifications() => new()
    {
        { "deleting pod", PodMetric.Serving(S(0), 0.5) with { Phase = PodPhase.Terminating }, HpaPodGroup.Ignored },
        { "pending pod, even with a sample", new PodMetric(null, false, S(0), 0.5) { Phase = PodPhase.Pending }, HpaPodGroup.Unready },
        { "running pod without a sample", PodMetric.Serving(S(0), null), HpaPodGroup.Missing },
        { "no start time", new PodMetric(null, true, S(0), 0.5), HpaPodGroup.Unready },

        // Started at 900 s: 900 + 300 > 1000, inside the CPU initialization period.
        { "init period, ready for 100 s (> one 15 s window)", new PodMetric(S(900), true, S(900), 0.5), HpaPodGroup.Ready },
        { "init period, ready only 10 s ago (1000 < 990 + 15)", new PodMetric(S(900), true, S(990), 0.5), HpaPodGroup.Unready },
        { "init period, ready 20 s ago (1000 >= 980 + 15)", new PodMetric(S(900), true, S(980), 0.5), HpaPodGroup.Ready },
        { "init period, sample taken 990 < 980 + 15", new PodMetric(S(900), true, S(980), 0.5) { MetricTimestamp = S(990) }, HpaPodGroup.Unready },
        { "init period, not ready", new PodMetric(S(900), false, S(900), 0.5), HpaPodGroup.Unready },

        // Started at 0: past the initialization period.
        { "past init, unready and never ready (10 < 0 + 30)", new PodMetric(S(0), false, S(10), 0.5), HpaPodGroup.Unready },
        { "past init, unready but was ready before (100 >= 0 + 30)", new PodMetric(S(0), false, S(100), 0.5), HpaPodGroup.Ready },
        { "past init, ready since just now", new PodMetric(S(0), true, S(995), 0.5), HpaPodGroup.Ready },
    };

    [Theory]
    [MemberData(nameof(Classifications))]
    public void Pods_are_grouped_like_upstream_groupPods(string because, PodMetric pod, HpaPodGroup expected)
    {
        Assert.True(expected == HpaReplicaCalculator.Classify(pod, Now, Defaults), because);
    }

    public static TheoryData<string, int, PodMetric[], int> Proposals() => new()
    {
        // utilization% = floor(100 × Σusage / Σrequest); ratio = utilization / 70.
        { "90/70 = 1.2857; ceil(3 × 1.2857) = ceil(3.857) = 4", 3, Serving(0.9, 0.9, 0.9), 4 },
        { "75/70 = 1.071, within 0.1: unchanged", 3, Serving(0.75, 0.75, 0.75), 3 },
        { "77/70 = 1.1, on the tolerance edge: unchanged", 3, Serving(0.77, 0.77, 0.77), 3 },
        { "78/70 = 1.114; ceil(3 × 1.114) = ceil(3.343) = 4", 3, Serving(0.78, 0.78, 0.78), 4 },
        { "63/70 = 0.9, on the lower edge: unchanged", 3, Serving(0.63, 0.63, 0.63), 3 },
        { "35/70 = 0.5; ceil(4 × 0.5) = 2", 4, Serving(0.35, 0.35, 0.35, 0.35), 2 },
        { "(90 + 50)/2 = 70: ratio 1", 2, Serving(0.9, 0.5), 2 },
        { "1000/70 = 14.29; ceil(14.29) = 15 (rate limits come later)", 1, Serving(10.0), 15 },
        { "77.9% truncates to 77 → within tolerance (77.9/70 would not be)", 3, Serving(0.779, 0.779, 0.779), 3 },

        // Missing samples.
        {
            "scale-down, missing at 100% of request: (0 + 1000)/2000 = 50%; 50/70 = 0.714; ceil(2 × 0.714) = 2 "
            + "(\"100% of target\" would give 35% → 1)",
            2, Serving(0.0, null), 2
        },
        { "scale-down: (3×350 + 1000)/4000 = 51.25 → 51%; 51/70 = 0.729; ceil(4 × 0.729) = ceil(2.91) = 3", 4, Serving(0.35, 0.35, 0.35, null), 3 },
        { "scale-up, missing at 0%: 100% → 3000/4000 = 75%; 75/70 = 1.071 within: unchanged (not ceil(3 × 1.43) = 5)", 4, Serving(1.0, 1.0, 1.0, null), 4 },
        { "scale-down flips: 60% → (600 + 2000)/3000 = 86%; 86/70 = 1.23 > 1: unchanged", 1, Serving(0.6, null, null), 1 },
        { "scale-down would add pods: 10% → (300 + 1000)/4000 = 32%; ceil(4 × 0.457) = 2 > 1: unchanged", 1, Serving(0.1, 0.1, 0.1, null), 1 },

        // Unready pods.
        { "scale-up, unready at 0%: 150% → 3000/4000 = 75%, within: unchanged (not ceil(2 × 2.14) = 5)", 4, [.. Serving(1.5, 1.5), PendingPod, PendingPod], 4 },
        { "scale-up, unready at 0%: 210% → 4200/4000 = 105%; 105/70 = 1.5; ceil(4 × 1.5) = 6", 4, [.. Serving(2.1, 2.1), PendingPod, PendingPod], 6 },
        { "scale-down ignores unready pods: 35/70 = 0.5; ceil(0.5 × 2 ready) = 1", 4, [.. Serving(0.35, 0.35), PendingPod, PendingPod], 1 },
        { "deleting pods do not count: 90/70; ceil(1 × 1.286) = 2", 2, [.. Serving(0.9), PodMetric.Serving(TimeSpan.Zero, 0.0) with { Phase = PodPhase.Terminating }], 2 },
    };

    [Theory]
    [MemberData(nameof(Proposals))]
    public void Proposal_matches_hand_computation(string arithmetic, int current, PodMetric[] pods, int expected)
    {
        HpaReplicaProposal proposal = HpaReplicaCalculator.GetResourceReplicas(current, pods, Now, Defaults);

        Assert.Null(proposal.Error);
        Assert.True(expected == proposal.Replicas, $"{arithmetic}: got {proposal.Replicas}");
    }

    [Fact]
    public void Utilization_is_reported_in_whole_percent()
    {
        HpaReplicaProposal proposal = HpaReplicaCalculator.GetResourceReplicas(3, Serving(0.9, 0.9, 0.8), Now, Defaults);

        // (900 + 900 + 800) × 100 / 3000 = 86.67 → 86.
        Assert.Equal(86, proposal.UtilizationPercent);
    }

    [Fact]
    public void No_pods_is_an_error()
    {
        HpaReplicaProposal proposal = HpaReplicaCalculator.GetResourceReplicas(3, [], Now, Defaults);
        Assert.Equal("no pods returned by selector while calculating replica count", proposal.Error);
    }

    [Fact]
    public void No_ready_pod_with_a_sample_is_an_error()
    {
        HpaReplicaProposal proposal = HpaReplicaCalculator.GetResourceReplicas(3, [PendingPod, .. Serving(null, null)], Now, Defaults);
        Assert.Equal("did not receive metrics for targeted pods (pods might be unready)", proposal.Error);
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Invalid_utilization_is_rejected(double utilization)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => HpaReplicaCalculator.GetResourceReplicas(1, Serving(utilization), Now, Defaults));
    }

    [Theory]
    [InlineData(0.9, true)]
    [InlineData(1.1, true)]
    [InlineData(0.8999, false)]
    [InlineData(1.1001, false)]
    public void Tolerance_band_is_inclusive(double ratio, bool within)
    {
        Assert.Equal(within, HpaReplicaCalculator.IsWithinTolerance(ratio, 0.1));
    }
}
