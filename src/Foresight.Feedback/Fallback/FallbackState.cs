using System.Globalization;

namespace Foresight.Feedback.Fallback;

/// <summary>Settings of <see cref="FallbackState"/>.</summary>
/// <param name="EnterAtOrAbove">MASE at or above which forecasts count as no better than seasonal naive.</param>
/// <param name="ExitBelow">MASE below which they have recovered; lower than <paramref name="EnterAtOrAbove"/> (hysteresis).</param>
/// <param name="MinPoints">Consecutive updates that must agree before entering or leaving, so one bad window does not flap.</param>
public sealed record FallbackOptions(double EnterAtOrAbove = 1.0, double ExitBelow = 0.9, int MinPoints = 20)
{
    public string? Validate()
    {
        if (!(EnterAtOrAbove > 0) || double.IsInfinity(EnterAtOrAbove))
        {
            return nameof(EnterAtOrAbove);
        }

        if (!(ExitBelow > 0 && ExitBelow <= EnterAtOrAbove))
        {
            return nameof(ExitBelow);
        }

        return MinPoints < 1 ? nameof(MinPoints) : null;
    }
}

/// <summary>A change of fallback state.</summary>
/// <param name="Time">Seconds (the caller's clock).</param>
/// <param name="ReactiveOnly">The state entered.</param>
public sealed record FallbackTransition(double Time, bool ReactiveOnly, string Reason);

/// <summary>
/// Whether one app's decisions are reactive-only because its forecasts are worse than seasonal naive. It enters after
/// the rolling MASE has stayed at or above <c>EnterAtOrAbove</c> for <c>MinPoints</c> consecutive updates and leaves
/// after it has stayed below <c>ExitBelow</c> as long. <see cref="Reason"/> always says why it is in its state.
/// </summary>
public sealed class FallbackState
{
    private readonly FallbackOptions _options;
    private int _streak;
    private double _since;
    private double? _lastMase;
    private bool _justSwitched;
    private string _lastTransitionReason = "";

    public FallbackState(FallbackOptions? options = null)
    {
        _options = options ?? new FallbackOptions();
        string? invalid = _options.Validate();
        if (invalid is not null)
        {
            throw new ArgumentException($"Invalid fallback option: {invalid}.", nameof(options));
        }
    }

    /// <summary>True while decisions must be reactive-only.</summary>
    public bool ReactiveOnly { get; private set; }

    /// <summary>Human-readable explanation of the current state, for status and results (built when read).</summary>
    public string Reason
    {
        get
        {
            if (_justSwitched)
            {
                return _lastTransitionReason;
            }

            if (_lastMase is not double m)
            {
                return ReactiveOnly
                    ? Format($"reactive-only since t={_since:0.#} s: MASE undefined, waiting for scored points to confirm recovery")
                    : "predictive: MASE not defined yet (too few scored points with a seasonal naive value)";
            }

            if (!ReactiveOnly)
            {
                return _streak > 0
                    ? Format($"predictive: MASE {m:0.###} ≥ {_options.EnterAtOrAbove:0.###} for {_streak} of {_options.MinPoints} points needed to fall back")
                    : Format($"predictive: MASE {m:0.###} < {_options.EnterAtOrAbove:0.###}, forecasts beat seasonal naive");
            }

            return _streak > 0
                ? Format($"reactive-only since t={_since:0.#} s: MASE {m:0.###} < {_options.ExitBelow:0.###} for {_streak} of {_options.MinPoints} points needed to recover")
                : Format($"reactive-only since t={_since:0.#} s: MASE {m:0.###} not below {_options.ExitBelow:0.###}, forecasts still no better than seasonal naive");
        }
    }

    /// <summary>Feeds the latest rolling MASE; returns the transition when the state changed, else null.</summary>
    /// <param name="time">Seconds on the caller's clock.</param>
    /// <param name="mase">Rolling MASE against seasonal naive, or null while undefined (the state then holds).</param>
    public FallbackTransition? Update(double time, double? mase)
    {
        if (!double.IsFinite(time))
        {
            throw new ArgumentOutOfRangeException(nameof(time), time, "Time must be finite.");
        }

        _justSwitched = false;
        if (mase is not double m || !double.IsFinite(m))
        {
            _streak = 0;
            _lastMase = null;
            return null;
        }

        _lastMase = m;
        if (!ReactiveOnly)
        {
            _streak = m >= _options.EnterAtOrAbove ? _streak + 1 : 0;
            return _streak < _options.MinPoints ? null : Switch(time, true, Format(
                $"reactive-only since t={time:0.#} s: MASE {m:0.###} ≥ {_options.EnterAtOrAbove:0.###} for {_streak} consecutive points, forecasts no better than seasonal naive"));
        }

        _streak = m < _options.ExitBelow ? _streak + 1 : 0;
        return _streak < _options.MinPoints ? null : Switch(time, false, Format(
            $"predictive again since t={time:0.#} s: MASE {m:0.###} < {_options.ExitBelow:0.###} for {_streak} consecutive points"));
    }

    private FallbackTransition Switch(double time, bool reactiveOnly, string reason)
    {
        ReactiveOnly = reactiveOnly;
        _since = time;
        _streak = 0;
        _justSwitched = true;
        _lastTransitionReason = reason;
        return new FallbackTransition(time, reactiveOnly, reason);
    }

    private static string Format(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
