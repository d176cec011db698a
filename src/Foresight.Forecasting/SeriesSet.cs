using Foresight.Core;

namespace Foresight.Forecasting;

/// <summary>
/// One observed series: values at a regular step, optionally with a timestamp for its first value and exogenous
/// (past-observed) covariates such as network latency or bandwidth.
/// </summary>
public sealed class Series
{
    /// <param name="name">Unique within its <see cref="SeriesSet"/> (e.g. a <c>TrafficKey</c> string).</param>
    /// <param name="values">Observations, oldest first. Must be finite.</param>
    /// <param name="start">Wall-clock time of <c>values[0]</c>, when known. Enables calendar features.</param>
    /// <param name="exogenous"><c>[feature][t]</c>, one row per <see cref="SeriesSet.ExogenousNames"/> entry, each as long as <paramref name="values"/>.</param>
    public Series(string name, double[] values, DateTimeOffset? start = null, IReadOnlyList<double[]>? exogenous = null)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(values);
        Name = name;
        Values = values;
        Start = start;
        Exogenous = exogenous ?? Array.Empty<double[]>();
    }

    public string Name { get; }

    public double[] Values { get; }

    public DateTimeOffset? Start { get; }

    /// <summary><c>[feature][t]</c> past-observed covariates.</summary>
    public IReadOnlyList<double[]> Exogenous { get; }

    public int Length => Values.Length;
}

/// <summary>
/// The history type of <see cref="IForecaster"/>: the named series of one application (a model is global across them),
/// all at the same <see cref="Step"/>. Series may have different lengths and starts (M4 series do). Series without a
/// start time are indexed from <see cref="DateTimeOffset.UnixEpoch"/>, and calendar features are then off.
/// </summary>
public sealed class SeriesSet
{
    /// <param name="step">The sampling interval of every series.</param>
    /// <param name="series">The series; names must be distinct.</param>
    /// <param name="exogenousNames">Names of the exogenous covariates each series carries (same order in every series).</param>
    /// <param name="seasonLength">Steps per season (24 for hourly data); null infers it from the step, see <see cref="InferSeasonLength"/>.</param>
    /// <param name="source">Where the data came from (a file path), used in error messages.</param>
    /// <param name="allowEmpty">Allow zero-length series (only sensible for <see cref="IForecaster.Update"/> batches).</param>
    /// <exception cref="InvalidInputException">A value is NaN or infinite, a series is empty, names repeat, or exogenous rows do not match.</exception>
    public SeriesSet(
        TimeSpan step,
        IReadOnlyList<Series> series,
        IReadOnlyList<string>? exogenousNames = null,
        int? seasonLength = null,
        string source = "series",
        bool allowEmpty = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (step <= TimeSpan.Zero)
        {
            throw new InvalidInputException(source, $"the step must be positive (got {step}).", field: "step");
        }

        if (seasonLength is < 1)
        {
            throw new InvalidInputException(source, $"the season length must be at least 1 (got {seasonLength}).", field: "seasonLength");
        }

        ExogenousNames = exogenousNames ?? Array.Empty<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (Series s in series)
        {
            if (!names.Add(s.Name))
            {
                throw new InvalidInputException(source, $"series '{s.Name}' appears twice.", field: s.Name);
            }

            if (s.Length == 0 && !allowEmpty)
            {
                throw new InvalidInputException(source, $"series '{s.Name}' is empty.", field: s.Name);
            }

            for (int t = 0; t < s.Values.Length; t++)
            {
                if (!double.IsFinite(s.Values[t]))
                {
                    throw new InvalidInputException(source, $"series '{s.Name}' has a non-finite value ({s.Values[t]}) at index {t}.", field: s.Name);
                }
            }

            if (s.Exogenous.Count != ExogenousNames.Count)
            {
                throw new InvalidInputException(source, $"series '{s.Name}' has {s.Exogenous.Count} exogenous rows, expected {ExogenousNames.Count}.", field: s.Name);
            }

            for (int f = 0; f < s.Exogenous.Count; f++)
            {
                double[] row = s.Exogenous[f];
                if (row.Length != s.Length)
                {
                    throw new InvalidInputException(source, $"exogenous '{ExogenousNames[f]}' of series '{s.Name}' has {row.Length} values, expected {s.Length}.", field: s.Name);
                }

                foreach (double v in row)
                {
                    if (!double.IsFinite(v))
                    {
                        throw new InvalidInputException(source, $"exogenous '{ExogenousNames[f]}' of series '{s.Name}' has a non-finite value.", field: s.Name);
                    }
                }
            }
        }

        Step = step;
        Series = series;
        SeasonLength = seasonLength ?? InferSeasonLength(step);
        Source = source;
    }

    public TimeSpan Step { get; }

    public IReadOnlyList<Series> Series { get; }

    public IReadOnlyList<string> ExogenousNames { get; }

    /// <summary>Steps per season (m), used by seasonal naive, ETS, MASE and the neural models' seasonal skip.</summary>
    public int SeasonLength { get; }

    public string Source { get; }

    public int Count => Series.Count;

    public Series this[int index] => Series[index];

    /// <summary>Whether every series has a start time (calendar features are used only then).</summary>
    public bool HasTimestamps => Series.Count > 0 && Series.All(s => s.Start is not null);

    /// <summary>
    /// The daily cycle in steps when the step divides a day into at most 1,440 steps (hourly: 24; 15 min: 96; daily: 7,
    /// the weekly cycle); otherwise 1 (no usable season, e.g. per-second data, whose daily cycle is 86,400 steps).
    /// </summary>
    public static int InferSeasonLength(TimeSpan step)
    {
        if (step >= TimeSpan.FromDays(1))
        {
            return step == TimeSpan.FromDays(1) ? 7 : 1;
        }

        long perDay = TimeSpan.FromDays(1).Ticks / step.Ticks;
        bool divides = TimeSpan.FromDays(1).Ticks % step.Ticks == 0;
        return divides && perDay <= 1440 ? (int)perDay : 1;
    }

    /// <summary>A set with the same step, season and covariate names, but other series.</summary>
    public SeriesSet With(IReadOnlyList<Series> series, bool allowEmpty = false) =>
        new(Step, series, ExogenousNames, SeasonLength, Source, allowEmpty);

    /// <summary>Each series cut to its first <c>length - drop</c> values (for holding out the end).</summary>
    public SeriesSet DropLast(int drop) =>
        With(Series.Select(s => Slice(s, 0, Math.Max(0, s.Length - drop))).ToArray(), allowEmpty: true);

    /// <summary>Values <c>[from, from + count)</c> of a series, with its covariates and a shifted start.</summary>
    public Series Slice(Series s, int from, int count)
    {
        ArgumentNullException.ThrowIfNull(s);
        DateTimeOffset? start = s.Start is { } t ? t + (Step * from) : null;
        return new Series(s.Name, s.Values.AsSpan(from, count).ToArray(), start, s.Exogenous.Select(r => r.AsSpan(from, count).ToArray()).ToArray());
    }
}
