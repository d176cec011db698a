using Foresight.Feedback.Fallback;

namespace Foresight.Feedback.Tests;

public sealed class FallbackStateTests
{
    private static FallbackState Create() => new(new FallbackOptions(EnterAtOrAbove: 1.0, ExitBelow: 0.9, MinPoints: 3));

    [Fact]
    public void It_starts_predictive_and_says_why()
    {
        var f = Create();

        Assert.False(f.ReactiveOnly);
        Assert.Contains("not defined yet", f.Reason);
        Assert.Null(f.Update(0, 0.7));
        Assert.Equal("predictive: MASE 0.7 < 1, forecasts beat seasonal naive", f.Reason);
    }

    [Fact]
    public void It_falls_back_only_after_MASE_stays_at_or_above_one_for_the_minimum_points()
    {
        var f = Create();
        Assert.Null(f.Update(0, 1.0));
        Assert.Null(f.Update(5, 1.3));
        Assert.Equal("predictive: MASE 1.3 ≥ 1 for 2 of 3 points needed to fall back", f.Reason);

        FallbackTransition? t = f.Update(10, 1.2);

        Assert.NotNull(t);
        Assert.True(t.ReactiveOnly);
        Assert.Equal(10, t.Time);
        Assert.True(f.ReactiveOnly);
        Assert.Equal(t.Reason, f.Reason);
        Assert.StartsWith("reactive-only since t=10 s: MASE 1.2 ≥ 1 for 3 consecutive points", f.Reason);
    }

    [Fact]
    public void An_interrupted_streak_starts_again()
    {
        var f = Create();
        f.Update(0, 1.5);
        f.Update(1, 1.5);
        f.Update(2, 0.99);
        f.Update(3, 1.5);
        Assert.Null(f.Update(4, 1.5));
        Assert.NotNull(f.Update(5, 1.5));
    }

    [Fact]
    public void It_recovers_only_below_the_lower_bound_hysteresis()
    {
        var f = Create();
        for (int i = 0; i < 3; i++)
        {
            f.Update(i, 1.4);
        }

        Assert.True(f.ReactiveOnly);
        for (int i = 3; i < 10; i++)
        {
            Assert.Null(f.Update(i, 0.95)); // better than naive, but not below 0.9
        }

        Assert.True(f.ReactiveOnly);
        Assert.Equal("reactive-only since t=2 s: MASE 0.95 not below 0.9, forecasts still no better than seasonal naive", f.Reason);

        f.Update(10, 0.8);
        f.Update(11, 0.8);
        Assert.Equal("reactive-only since t=2 s: MASE 0.8 < 0.9 for 2 of 3 points needed to recover", f.Reason);
        FallbackTransition? back = f.Update(12, 0.8);

        Assert.NotNull(back);
        Assert.False(back.ReactiveOnly);
        Assert.False(f.ReactiveOnly);
        Assert.Equal("predictive again since t=12 s: MASE 0.8 < 0.9 for 3 consecutive points", f.Reason);
    }

    [Fact]
    public void An_undefined_MASE_holds_the_state_and_says_so()
    {
        var f = Create();
        for (int i = 0; i < 3; i++)
        {
            f.Update(i, 2);
        }

        Assert.Null(f.Update(3, null));
        Assert.True(f.ReactiveOnly);
        Assert.Contains("MASE undefined", f.Reason);
    }

    [Fact]
    public void Invalid_options_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new FallbackState(new FallbackOptions(EnterAtOrAbove: 1, ExitBelow: 1.1)));
        Assert.Throws<ArgumentException>(() => new FallbackState(new FallbackOptions(MinPoints: 0)));
    }
}
