using Foresight.Control.Policies.Baselines;

namespace Foresight.Control.Tests.Policies.Baselines;

public sealed class KpaOptionsTests
{
    [Fact]
    public void Defaults_are_the_knative_config_autoscaler_defaults()
    {
        var options = new KpaOptions { TargetPerPod = 7, MaxScale = 10 };

        Assert.Equal(TimeSpan.FromSeconds(60), options.StableWindow);
        Assert.Equal(10.0, options.PanicWindowPercentage);
        Assert.Equal(TimeSpan.FromSeconds(6), options.PanicWindow);
        Assert.Equal(200.0, options.PanicThresholdPercentage);
        Assert.Equal(2.0, options.PanicThreshold);
        Assert.Equal(1000.0, options.MaxScaleUpRate);
        Assert.Equal(2.0, options.MaxScaleDownRate);
        Assert.Equal(TimeSpan.Zero, options.ScaleDownDelay);
        Assert.Equal(TimeSpan.FromSeconds(2), options.TickInterval);
        Assert.Equal(1, options.ActivationScale);
        Assert.Equal(1, options.MinScale);
        Assert.Null(options.Validate());
    }

    [Theory]
    [InlineData(10, 0.7, 7)] // containerConcurrency 10 at the shared 70% target
    [InlineData(1, 0.7, 0.7)]
    [InlineData(0.01, 0.5, 0.01)] // floored at TargetMin
    public void Parity_target_is_concurrency_capacity_times_utilization(double capacity, double utilization, double expected)
    {
        Assert.Equal(expected, KpaOptions.ParityTarget(capacity, utilization), 12);
    }

    [Theory]
    [InlineData(60, 10, 6)]
    [InlineData(60, 1, 1)] // 0.6 s rounds to 1 s
    [InlineData(6, 5, 1)] // 0.3 s rounds to 0, raised to one 1 s bucket
    [InlineData(25, 10, 3)] // 2.5 s rounds half away from zero
    public void Panic_window_is_rounded_to_whole_seconds(int stableSeconds, double percentage, int expectedSeconds)
    {
        var options = new KpaOptions { TargetPerPod = 1, MaxScale = 0, StableWindow = TimeSpan.FromSeconds(stableSeconds), PanicWindowPercentage = percentage };
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), options.PanicWindow);
    }

    public static TheoryData<KpaOptions, string> InvalidOptions()
    {
        var ok = new KpaOptions { TargetPerPod = 7, MaxScale = 10 };
        return new TheoryData<KpaOptions, string>
        {
            { ok with { StableWindow = TimeSpan.FromSeconds(5) }, "StableWindow" },
            { ok with { StableWindow = TimeSpan.FromSeconds(3601) }, "StableWindow" },
            { ok with { StableWindow = TimeSpan.FromMilliseconds(6500) }, "StableWindow" },
            { ok with { PanicWindowPercentage = 0.5 }, "PanicWindowPercentage" },
            { ok with { PanicWindowPercentage = 101 }, "PanicWindowPercentage" },
            { ok with { PanicThresholdPercentage = 100 }, "PanicThresholdPercentage" },
            { ok with { PanicThresholdPercentage = 1001 }, "PanicThresholdPercentage" },
            { ok with { TargetPerPod = 0.001 }, "TargetPerPod" },
            { ok with { TargetPerPod = double.NaN }, "TargetPerPod" },
            { ok with { MaxScaleUpRate = 1 }, "MaxScaleUpRate" },
            { ok with { MaxScaleDownRate = 1 }, "MaxScaleDownRate" },
            { ok with { ScaleDownDelay = TimeSpan.FromSeconds(-1) }, "ScaleDownDelay" },
            { ok with { ScaleDownDelay = TimeSpan.FromMilliseconds(500) }, "ScaleDownDelay" },
            { ok with { TickInterval = TimeSpan.FromMilliseconds(500) }, "TickInterval" },
            { ok with { ActivationScale = 0 }, "ActivationScale" },
            { ok with { MinScale = 0 }, "MinScale" },
            { ok with { MinScale = 5, MaxScale = 4 }, "MaxScale" },
            { ok with { MaxScale = -1 }, "MaxScale" },
        };
    }

    [Theory]
    [MemberData(nameof(InvalidOptions))]
    public void Validate_names_the_offending_field(KpaOptions options, string field)
    {
        Assert.Equal(field, options.Validate());
        ArgumentException ex = Assert.Throws<ArgumentException>(() => new KpaAlgorithm(options, TimeSpan.Zero, 1));
        Assert.Contains(field, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Max_scale_zero_means_unbounded()
    {
        Assert.Null(new KpaOptions { TargetPerPod = 1, MaxScale = 0, MinScale = 3 }.Validate());
    }
}
