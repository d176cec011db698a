using System.Globalization;
using System.Text.Json.Serialization;

namespace Foresight.Core.Forecasts;

/// <summary>
/// A probabilistic forecast of one series over a horizon, stored as quantiles per step (in the style of GluonTS
/// <c>QuantileForecast</c>). It is an immutable value object: two forecasts with the same content are equal.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Quantile levels are sorted, distinct, strictly inside (0, 1), and always include <see cref="RequiredLevels"/>.</item>
/// <item>Values are <c>[level][step]</c>. Crossing quantiles are repaired on construction by sorting each step's values
/// (monotone rearrangement, Chernozhukov et al. 2010), which never makes any quantile loss worse.</item>
/// <item><see cref="Mean"/> is the point forecast. When a model does not give a mean (quantile models), it is the median,
/// as in GluonTS; <see cref="HasExplicitMean"/> tells which.</item>
/// <item><see cref="Quantile(double)"/> interpolates linearly between stored levels and clamps outside them.</item>
/// <item>It serialises with System.Text.Json as is (public properties, one constructor).</item>
/// </list>
/// </remarks>
public sealed class Forecast : IEquatable<Forecast>
{
    /// <summary>The levels every forecast carries (DESIGN.md §2).</summary>
    public static IReadOnlyList<double> RequiredLevels { get; } = Array.AsReadOnly(new[] { 0.05, 0.1, 0.5, 0.9, 0.95 });

    /// <summary>The levels our models produce: the required ones plus 0.025/0.975 (the 95% interval scored by MSIS) and the quartiles.</summary>
    public static IReadOnlyList<double> DefaultLevels { get; } =
        Array.AsReadOnly(new[] { 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.975 });

    private const double LevelTolerance = 1e-9;

    private readonly LevelSet _levels;

    // [level][step] at _offset (levels × horizon values), then the explicit mean's row if there is one. A ForecastBatch
    // shares one array between many forecasts; each owns its slice, and nothing writes it after construction.
    private readonly double[] _data;
    private readonly int _offset;
    private readonly int _horizon;
    private readonly bool _explicitMean;

    // Views built on first read, so a forecast that is only queried through Quantile and Cdf allocates nothing more.
    private IReadOnlyList<IReadOnlyList<double>>? _valuesView;
    private IReadOnlyList<double>? _meanView;

    /// <param name="seriesName">The series forecast (e.g. a <c>TrafficKey</c> string).</param>
    /// <param name="start">Time of the first forecast step.</param>
    /// <param name="step">Time between steps (must be positive).</param>
    /// <param name="levels">Quantile levels in (0, 1); sorted on construction.</param>
    /// <param name="values"><c>[level][step]</c>, one row per entry of <paramref name="levels"/>, all of the same length (the horizon, at least 1).</param>
    /// <param name="mean">The mean per step, or null to use the median.</param>
    [JsonConstructor]
    public Forecast(
        string seriesName,
        DateTimeOffset start,
        TimeSpan step,
        IReadOnlyList<double> levels,
        IReadOnlyList<IReadOnlyList<double>> values,
        IReadOnlyList<double>? mean = null)
    {
        ArgumentNullException.ThrowIfNull(seriesName);
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentNullException.ThrowIfNull(values);
        ValidateStep(step);
        if (levels.Count != values.Count)
        {
            throw new ArgumentException($"One value row is needed per level ({levels.Count} levels, {values.Count} rows).", nameof(values));
        }

        if (levels.Count == 0 || values[0] is null || values[0].Count == 0)
        {
            throw new ArgumentException("A forecast needs at least one level and one step.", nameof(values));
        }

        int horizon = values[0].Count;
        for (int i = 0; i < levels.Count; i++)
        {
            if (values[i] is null || values[i].Count != horizon)
            {
                throw new ArgumentException($"Every level needs {horizon} values (level {levels[i]}).", nameof(values));
            }
        }

        _levels = LevelSet.Create(levels, out int[] order);
        _data = new double[(_levels.Count + (mean is null ? 0 : 1)) * horizon];
        for (int i = 0; i < order.Length; i++)
        {
            IReadOnlyList<double> row = values[order[i]];
            for (int s = 0; s < horizon; s++)
            {
                _data[(i * horizon) + s] = row[s];
            }
        }

        _horizon = horizon;
        Freeze(_levels, _data.AsSpan(), horizon);
        if (mean is not null)
        {
            if (mean.Count != horizon)
            {
                throw new ArgumentException($"The mean needs {horizon} values.", nameof(mean));
            }

            Span<double> row = _data.AsSpan(_levels.Count * horizon, horizon);
            for (int s = 0; s < horizon; s++)
            {
                row[s] = mean[s];
            }

            FreezeMean(row);
            _explicitMean = true;
        }

        SeriesName = seriesName;
        Start = start;
        Step = step;
    }

    /// <summary>A forecast over a slice of a <see cref="ForecastBatch"/>'s array, already validated and repaired.</summary>
    internal Forecast(string seriesName, DateTimeOffset start, TimeSpan step, LevelSet levels, double[] data, int offset, int horizon, bool explicitMean)
    {
        _levels = levels;
        _data = data;
        _offset = offset;
        _horizon = horizon;
        _explicitMean = explicitMean;
        SeriesName = seriesName;
        Start = start;
        Step = step;
    }

    public string SeriesName { get; }

    /// <summary>Time of the first forecast step.</summary>
    public DateTimeOffset Start { get; }

    public TimeSpan Step { get; }

    /// <summary>Sorted quantile levels.</summary>
    public IReadOnlyList<double> Levels => _levels.View;

    /// <summary><c>[level][step]</c> quantile values, non-crossing.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Values => _valuesView ??= BuildValuesView();

    /// <summary>The point forecast per step: the mean, or the median when the model gave no mean.</summary>
    public IReadOnlyList<double> Mean => _meanView ??= _explicitMean ? new ReadOnlySlice(_data, MeanAt, _horizon) : Values[_levels.Median];

    [JsonIgnore]
    public bool HasExplicitMean => _explicitMean;

    /// <summary>Number of steps.</summary>
    [JsonIgnore]
    public int Horizon => _horizon;

    /// <summary>The median per step.</summary>
    [JsonIgnore]
    public IReadOnlyList<double> Median => Values[_levels.Median];

    /// <summary>The values of level <c>Levels[level]</c> over the horizon, read without allocating.</summary>
    public ReadOnlySpan<double> LevelValues(int level)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(level);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(level, _levels.Count);
        return Row(level);
    }

    /// <summary><see cref="Mean"/> read without allocating.</summary>
    public ReadOnlySpan<double> MeanValues() => MeanSpan;

    /// <summary>Time of step <paramref name="step"/> (0-based).</summary>
    public DateTimeOffset TimeAt(int step) => Start + (Step * step);

    /// <summary>The q-quantile per step: linear between stored levels, clamped to the outermost levels outside them.</summary>
    public double[] Quantile(double q)
    {
        var result = new double[Horizon];
        for (int s = 0; s < result.Length; s++)
        {
            result[s] = Quantile(q, s);
        }

        return result;
    }

    /// <summary>The q-quantile at one step.</summary>
    public double Quantile(double q, int step)
    {
        if (double.IsNaN(q) || q < 0 || q > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(q), q, "A quantile level must lie in [0, 1].");
        }

        if ((uint)step >= (uint)Horizon)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The horizon is {Horizon}.");
        }

        double[] levels = _levels.Sorted;
        if (q <= levels[0])
        {
            return Value(0, step);
        }

        int last = levels.Length - 1;
        if (q >= levels[last])
        {
            return Value(last, step);
        }

        int hi = 1;
        while (levels[hi] < q)
        {
            hi++;
        }

        if (levels[hi] == q)
        {
            return Value(hi, step); // a stored level exactly (interpolating to it can be off by rounding)
        }

        double l0 = levels[hi - 1], l1 = levels[hi];
        double w = (q - l0) / (l1 - l0);
        double v0 = Value(hi - 1, step);
        return v0 + (w * (Value(hi, step) - v0));
    }

    /// <summary>The central interval at <paramref name="level"/> (e.g. 0.9 gives the 0.05 and 0.95 quantiles).</summary>
    public (double[] Lo, double[] Hi) Interval(double level)
    {
        if (!(level > 0 && level < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(level), level, "An interval level must lie strictly between 0 and 1.");
        }

        return (Quantile((1 - level) / 2), Quantile((1 + level) / 2));
    }

    /// <summary>
    /// P(Y ≤ x) at one step, inverting the piecewise-linear quantile function. The tails beyond the stored levels are
    /// unknown, so below the lowest stored value it returns the lowest level and above the highest the highest level.
    /// The Control stage uses <c>1 - Cdf</c> as the confidence that demand exceeds a threshold.
    /// </summary>
    public double Cdf(int step, double x)
    {
        if ((uint)step >= (uint)Horizon)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, $"The horizon is {Horizon}.");
        }

        double[] levels = _levels.Sorted;
        int last = levels.Length - 1;
        if (x < Value(0, step))
        {
            return levels[0];
        }

        if (x >= Value(last, step))
        {
            return levels[last];
        }

        int hi = 1;
        while (Value(hi, step) <= x)
        {
            hi++;
        }

        double v0 = Value(hi - 1, step), v1 = Value(hi, step);
        double w = v1 > v0 ? (x - v0) / (v1 - v0) : 1;
        return levels[hi - 1] + (w * (levels[hi] - levels[hi - 1]));
    }

    /// <summary>The lower/upper column names of an interval, Nixtla style: 0.9 gives ("lo-90", "hi-90").</summary>
    public static (string Lo, string Hi) IntervalNames(double level)
    {
        string pct = (level * 100).ToString("0.##", CultureInfo.InvariantCulture);
        return ($"lo-{pct}", $"hi-{pct}");
    }

    /// <summary>
    /// Columns by name: "mean", then "lo-X"/"hi-X" for each interval level given (default 80, 90, 95), then "q0.5" style
    /// names for every stored level.
    /// </summary>
    public IReadOnlyDictionary<string, double[]> ToColumns(IEnumerable<double>? intervalLevels = null)
    {
        var columns = new Dictionary<string, double[]>(StringComparer.Ordinal) { ["mean"] = MeanSpan.ToArray() };
        foreach (double level in intervalLevels ?? new[] { 0.8, 0.9, 0.95 })
        {
            (string loName, string hiName) = IntervalNames(level);
            (double[] lo, double[] hi) = Interval(level);
            columns[loName] = lo;
            columns[hiName] = hi;
        }

        double[] levels = _levels.Sorted;
        for (int i = 0; i < levels.Length; i++)
        {
            columns["q" + levels[i].ToString("0.###", CultureInfo.InvariantCulture)] = Row(i).ToArray();
        }

        return columns;
    }

    /// <summary>The same forecast with every value mapped (e.g. clamped at zero). Crossing is repaired again.</summary>
    public Forecast Map(Func<double, double> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var values = new IReadOnlyList<double>[_levels.Count];
        for (int i = 0; i < values.Length; i++)
        {
            double[] row = Row(i).ToArray();
            for (int s = 0; s < row.Length; s++)
            {
                row[s] = transform(row[s]);
            }

            values[i] = row;
        }

        return new Forecast(SeriesName, Start, Step, _levels.Sorted, values, _explicitMean ? Array.ConvertAll(MeanSpan.ToArray(), v => transform(v)) : null);
    }

    public bool Equals(Forecast? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        return SeriesName == other.SeriesName && Start == other.Start && Step == other.Step
            && HasExplicitMean == other.HasExplicitMean && _levels.Sorted.AsSpan().SequenceEqual(other._levels.Sorted)
            && _horizon == other._horizon && MeanSpan.SequenceEqual(other.MeanSpan) && AllValues.SequenceEqual(other.AllValues);
    }

    public override bool Equals(object? obj) => Equals(obj as Forecast);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(SeriesName);
        hash.Add(Start);
        hash.Add(Step);
        hash.Add(_levels.Count);
        hash.Add(Horizon);
        hash.Add(MeanSpan[0]);
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"Forecast({SeriesName}, start {Start:O}, step {Step}, horizon {Horizon}, levels [{string.Join(", ", _levels.Sorted)}])";

    private ReadOnlySpan<double> AllValues => _data.AsSpan(_offset, _levels.Count * _horizon);

    private ReadOnlySpan<double> MeanSpan => _data.AsSpan(MeanAt, _horizon);

    /// <summary>Where the mean row starts: after the quantile rows when explicit, else the median's row.</summary>
    private int MeanAt => _offset + ((_explicitMean ? _levels.Count : _levels.Median) * _horizon);

    private ReadOnlySpan<double> Row(int level) => _data.AsSpan(_offset + (level * _horizon), _horizon);

    private double Value(int level, int step) => _data[_offset + (level * _horizon) + step];

    private IReadOnlyList<IReadOnlyList<double>> BuildValuesView()
    {
        var rows = new IReadOnlyList<double>[_levels.Count];
        for (int i = 0; i < rows.Length; i++)
        {
            rows[i] = new ReadOnlySlice(_data, _offset + (i * _horizon), _horizon);
        }

        return Array.AsReadOnly(rows);
    }

    internal static void ValidateStep(TimeSpan step)
    {
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be positive.");
        }
    }

    /// <summary>
    /// Checks that <paramref name="values"/> (<c>[level][step]</c>, levels sorted) are finite and repairs crossing
    /// quantiles by sorting each step's column (monotone rearrangement).
    /// </summary>
    internal static void Freeze(LevelSet levels, Span<double> values, int horizon)
    {
        int count = levels.Count;
        for (int i = 0; i < count; i++)
        {
            for (int s = 0; s < horizon; s++)
            {
                if (!double.IsFinite(values[(i * horizon) + s]))
                {
                    throw new ArgumentException($"Quantile {levels.Sorted[i]} at step {s} is not finite.", nameof(values));
                }
            }
        }

        Span<double> column = count <= 64 ? stackalloc double[count] : new double[count]; // [L] per step
        for (int s = 0; s < horizon; s++)
        {
            bool crossed = false;
            for (int i = 1; i < count && !crossed; i++)
            {
                crossed = values[(i * horizon) + s] < values[((i - 1) * horizon) + s];
            }

            if (!crossed)
            {
                continue;
            }

            for (int i = 0; i < count; i++)
            {
                column[i] = values[(i * horizon) + s];
            }

            column.Sort();
            for (int i = 0; i < count; i++)
            {
                values[(i * horizon) + s] = column[i];
            }
        }
    }

    internal static void FreezeMean(ReadOnlySpan<double> mean)
    {
        for (int s = 0; s < mean.Length; s++)
        {
            if (!double.IsFinite(mean[s]))
            {
                throw new ArgumentException($"The mean at step {s} is not finite.", nameof(mean));
            }
        }
    }

    /// <summary>Sorted, validated quantile levels, shared by every forecast built over them.</summary>
    internal sealed class LevelSet
    {
        private LevelSet(double[] sorted)
        {
            Sorted = sorted;
            View = Array.AsReadOnly(sorted);
            Median = IndexOf(sorted, 0.5);
        }

        /// <summary>Ascending; never written.</summary>
        public double[] Sorted { get; }

        public IReadOnlyList<double> View { get; }

        public int Count => Sorted.Length;

        /// <summary>Index of level 0.5 (always present: it is required).</summary>
        public int Median { get; }

        /// <summary>Validates <paramref name="levels"/>; <paramref name="order"/>[i] is the input index of the i-th smallest.</summary>
        public static LevelSet Create(IReadOnlyList<double> levels, out int[] order)
        {
            order = new int[levels.Count];
            for (int i = 0; i < order.Length; i++)
            {
                order[i] = i;
                double l = levels[i];
                if (!(l > 0 && l < 1))
                {
                    throw new ArgumentOutOfRangeException(nameof(levels), l, "Quantile levels must lie strictly between 0 and 1.");
                }
            }

            Array.Sort(order, (a, b) => levels[a].CompareTo(levels[b]));
            var sorted = new double[levels.Count];
            for (int i = 0; i < order.Length; i++)
            {
                sorted[i] = levels[order[i]];
                if (i > 0 && sorted[i] - sorted[i - 1] < LevelTolerance)
                {
                    throw new ArgumentException($"Quantile level {sorted[i]} is given twice.", nameof(levels));
                }
            }

            foreach (double required in RequiredLevels)
            {
                if (IndexOf(sorted, required) < 0)
                {
                    throw new ArgumentException($"Quantile level {required} is required (levels given: {string.Join(", ", sorted)}).", nameof(levels));
                }
            }

            return new LevelSet(sorted);
        }

        public int IndexOf(double level) => IndexOf(Sorted, level);

        private static int IndexOf(double[] levels, double level)
        {
            for (int i = 0; i < levels.Length; i++)
            {
                if (Math.Abs(levels[i] - level) < LevelTolerance)
                {
                    return i;
                }
            }

            return -1;
        }
    }

    /// <summary>A read-only row over part of an array the forecast owns (no copy).</summary>
    private sealed class ReadOnlySlice(double[] array, int offset, int count) : IReadOnlyList<double>
    {
        public int Count => count;

        public double this[int index] => (uint)index < (uint)count
            ? array[offset + index]
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"The row has {count} values.");

        public IEnumerator<double> GetEnumerator()
        {
            for (int i = 0; i < count; i++)
            {
                yield return array[offset + i];
            }
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
