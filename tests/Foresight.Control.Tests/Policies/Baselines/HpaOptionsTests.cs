using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class HpaOptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_upstream_defaults()
    {
        var options = new HpaOptions { MaxReplicas = 10 };

        Assert.Equal(0.7, options.TargetUtilization);
        Assert.Equal(70, options.TargetPercent);
        Assert.Equal(0.1, options.Tolerance);
        Assert.Equal(TimeSpan.FromSeconds(15), options.SyncPeriod);
        Assert.Equal(TimeSpan.FromMinutes(5), options.CpuInitializationPeriod);
        Assert.Equal(TimeSpan.FromSeconds(30), options.InitialReadinessDelay);
        Assert.Equal(1, options.MinReplicas);

        Assert.Equal(TimeSpan.Zero, options.ScaleUp.StabilizationWindow);
        Assert.Equal(HpaSelectPolicy.Max, options.ScaleUp.SelectPolicy);
        Assert.Equal(
            [
                new HpaScalingPolicy(HpaPolicyType.Pods, 4, TimeSpan.FromSeconds(15)),
                new HpaScalingPolicy(HpaPolicyType.Percent, 100, TimeSpan.FromSeconds(15)),
            ],
            options.ScaleUp.Policies);

        Assert.Equal(TimeSpan.FromSeconds(300), options.ScaleDown.StabilizationWindow);
        Assert.Equal(HpaSelectPolicy.Max, options.ScaleDown.SelectPolicy);
        Assert.Equal([new HpaScalingPolicy(HpaPolicyType.Percent, 100, TimeSpan.FromSeconds(15))], options.ScaleDown.Policies);

        Assert.Null(options.Validate());
    }

    [Fact]
    public void Scaling_rules_compare_by_value()
    {
        var copy = new HpaScalingRules(
            TimeSpan.Zero,
            HpaSelectPolicy.Max,
            [
                new HpaScalingPolicy(HpaPolicyType.Pods, 4, TimeSpan.FromSeconds(15)),
                new HpaScalingPolicy(HpaPolicyType.Percent, 100, TimeSpan.FromSeconds(15)),
            ]);

        Assert.Equal(HpaScalingRules.DefaultScaleUp, copy);
        Assert.Equal(HpaScalingRules.DefaultScaleUp.GetHashCode(), copy.GetHashCode());
        Assert.NotEqual(HpaScalingRules.DefaultScaleDown, copy);
    }

    public static TheoryData<HpaOptions, string> InvalidOptions()
    {
        var ok = new HpaOptions { MaxReplicas = 10 };
        var policy = new HpaScalingPolicy(HpaPolicyType.Pods, 1, TimeSpan.FromSeconds(15));
        return new TheoryData<HpaOptions, string>
        {
            { ok with { TargetUtilization = 0 }, "TargetUtilization" },
            { ok with { TargetUtilization = 0.705 }, "TargetUtilization" }, // upstream takes whole percents
            { ok with { TargetUtilization = double.NaN }, "TargetUtilization" },
            { ok with { Tolerance = -0.1 }, "Tolerance" },
            { ok with { SyncPeriod = TimeSpan.Zero }, "SyncPeriod" },
            { ok with { ScaleUp = ok.ScaleUp with { StabilizationWindow = TimeSpan.FromSeconds(3601) } }, "ScaleUp.StabilizationWindow" },
            { ok with { ScaleUp = ok.ScaleUp with { StabilizationWindow = TimeSpan.FromMilliseconds(1500) } }, "ScaleUp.StabilizationWindow" },
            { ok with { ScaleUp = ok.ScaleUp with { SelectPolicy = (HpaSelectPolicy)7 } }, "ScaleUp.SelectPolicy" },
            { ok with { ScaleUp = ok.ScaleUp with { Policies = [] } }, "ScaleUp.Policies" },
            { ok with { ScaleDown = ok.ScaleDown with { Policies = [policy with { Value = 0 }] } }, "ScaleDown.Policies[0].Value" },
            { ok with { ScaleDown = ok.ScaleDown with { Policies = [policy, policy with { Period = TimeSpan.FromSeconds(1801) }] } }, "ScaleDown.Policies[1].Period" },
            { ok with { ScaleDown = ok.ScaleDown with { Policies = [policy with { Period = TimeSpan.Zero }] } }, "ScaleDown.Policies[0].Period" },
            { ok with { ScaleDown = ok.ScaleDown with { StabilizationWindow = TimeSpan.FromSeconds(-1) } }, "ScaleDown.StabilizationWindow" },
            { ok with { CpuInitializationPeriod = TimeSpan.FromSeconds(-1) }, "CpuInitializationPeriod" },
            { ok with { InitialReadinessDelay = TimeSpan.FromSeconds(-1) }, "InitialReadinessDelay" },
            { ok with { MetricWindow = TimeSpan.Zero }, "MetricWindow" },
            { ok with { MinReplicas = 0 }, "MinReplicas" },
            { ok with { MinReplicas = 5, MaxReplicas = 4 }, "MaxReplicas" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_names_the_offending_field(HpaOptions options, string field)
    {
        Assert.Equal(field, options.Validate());
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new HpaAlgorithm(options));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.01, 1)]
    [InlineData(0.7, 70)]
    [InlineData(1.5, 150)]
    public void Target_is_a_whole_percentage(double target, int percent)
    {
        var options = new HpaOptions { MaxReplicas = 3, TargetUtilization = target };
        Assert.Null(options.Validate());
        Assert.Equal(percent, options.TargetPercent);
    }
}
