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

    private readonly double[] _levels;
    private readonly double[][] _values;
    private readonly double[] _mean;

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
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(step), step, "The step must be positive.");
        }

        if (levels.Count != values.Count)
        {
            throw new ArgumentException($"One value row is needed per level ({levels.Count} levels, {values.Count} rows).", nameof(values));
        }

        if (levels.Count == 0 || values[0] is null || values[0].Count == 0)
        {
            throw new ArgumentException("A forecast needs at least one level and one step.", nameof(values));
        }

        int horizon = values[0].Count;
        var order = new int[levels.Count];
        for (int i = 0; i < order.Length; i++)
        {
            order[i] = i;
            double l = levels[i];
            if (!(l > 0 && l < 1))
            {
                throw new ArgumentOutOfRangeException(nameof(levels), l, "Quantile levels must lie strictly between 0 and 1.");
            }

            if (values[i] is null || values[i].Count != horizon)
            {
                throw new ArgumentException($"Every level needs {horizon} values (level {l}).", nameof(values));
            }
        }

        Array.Sort(order, (a, b) => levels[a].CompareTo(levels[b]));
        _levels = new double[levels.Count];
        _values = new double[levels.Count][];
        for (int i = 0; i < order.Length; i++)
        {
            _levels[i] = levels[order[i]];
            if (i > 0 && _levels[i] - _levels[i - 1] < LevelTolerance)
            {
                throw new ArgumentException($"Quantile level {_levels[i]} is given twice.", nameof(levels));
            }

            IReadOnlyList<double> row = values[order[i]];
            var copy = new double[horizon];
            for (int s = 0; s < horizon; s++)
            {
                double v = row[s];
                if (!double.IsFinite(v))
                {
                    throw new ArgumentException($"Quantile {_levels[i]} at step {s} is not finite.", nameof(values));
                }

                copy[s] = v;
            }

            _values[i] = copy;
        }

        foreach (double required in RequiredLevels)
        {
            if (IndexOfLevel(_levels, required) < 0)
            {
                throw new ArgumentException($"Quantile level {required} is required (levels given: {string.Join(", ", _levels)}).", nameof(levels));
            }
        }

        // Repair crossing quantiles: sort each step's column. [L] per step.
        var column = new double[_levels.Length];
        for (int s = 0; s < horizon; s++)
        {
            bool crossed = false;
            for (int i = 0; i < column.Length; i++)
            {
                column[i] = _values[i][s];
                crossed |= i > 0 && column[i] < column[i - 1];
            }

            if (crossed)
            {
                Array.Sort(column);
                for (int i = 0; i < column.Length; i++)
                {
                    _values[i][s] = column[i];
                }
            }
        }

        if (mean is not null)
        {
            if (mean.Count != horizon)
            {
                throw new ArgumentException($"The mean needs {horizon} values.", nameof(mean));
            }

            _mean = new double[horizon];
            for (int s = 0; s < horizon; s++)
            {
                if (!double.IsFinite(mean[s]))
                {
                    throw new ArgumentException($"The mean at step {s} is not finite.", nameof(mean));
                }

                _mean[s] = mean[s];
            }

            HasExplicitMean = true;
        }
        else
        {
            _mean = (double[])_values[IndexOfLevel(_levels, 0.5)].Clone();
        }

        SeriesName = seriesName;
        Start = start;
        Step = step;
        Levels = Array.AsReadOnly(_levels);
        Values = Array.AsReadOnly(Array.ConvertAll(_values, r => (IReadOnlyList<double>)Array.AsReadOnly(r)));
        Mean = Array.AsReadOnly(_mean);
    }

    public string SeriesName { get; }

    /// <summary>Time of the first forecast step.</summary>
    public DateTimeOffset Start { get; }

    public TimeSpan Step { get; }

    /// <summary>Sorted quantile levels.</summary>
    public IReadOnlyList<double> Levels { get; }

    /// <summary><c>[level][step]</c> quantile values, non-crossing.</summary>
    public IReadOnlyList<IReadOnlyList<double>> Values { get; }

    /// <summary>The point forecast per step: the mean, or the median when the model gave no mean.</summary>
    public IReadOnlyList<double> Mean { get; }

    [JsonIgnore]
    public bool HasExplicitMean { get; }

    /// <summary>Number of steps.</summary>
    [JsonIgnore]
    public int Horizon => _values[0].Length;

    /// <summary>The median per step.</summary>
    [JsonIgnore]
    public IReadOnlyList<double> Median => Values[IndexOfLevel(_levels, 0.5)];

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

        if (q <= _levels[0])
        {
            return _values[0][step];
        }

        int last = _levels.Length - 1;
        if (q >= _levels[last])
        {
            return _values[last][step];
        }

        int hi = 1;
        while (_levels[hi] < q)
        {
            hi++;
        }

        double l0 = _levels[hi - 1], l1 = _levels[hi];
        double w = (q - l0) / (l1 - l0);
        return _values[hi - 1][step] + (w * (_values[hi][step] - _values[hi - 1][step]));
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

        int last = _levels.Length - 1;
        if (x < _values[0][step])
        {
            return _levels[0];
        }

        if (x >= _values[last][step])
        {
            return _levels[last];
        }

        int hi = 1;
        while (_values[hi][step] <= x)
        {
            hi++;
        }

        double v0 = _values[hi - 1][step], v1 = _values[hi][step];
        double w = v1 > v0 ? (x - v0) / (v1 - v0) : 1;
        return _levels[hi - 1] + (w * (_levels[hi] - _levels[hi - 1]));
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
        var columns = new Dictionary<string, double[]>(StringComparer.Ordinal) { ["mean"] = (double[])_mean.Clone() };
        foreach (double level in intervalLevels ?? new[] { 0.8, 0.9, 0.95 })
        {
            (string loName, string hiName) = IntervalNames(level);
            (double[] lo, double[] hi) = Interval(level);
            columns[loName] = lo;
            columns[hiName] = hi;
        }

        for (int i = 0; i < _levels.Length; i++)
        {
            columns["q" + _levels[i].ToString("0.###", CultureInfo.InvariantCulture)] = (double[])_values[i].Clone();
        }

        return columns;
    }

    /// <summary>The same forecast with every value mapped (e.g. clamped at zero). Crossing is repaired again.</summary>
    public Forecast Map(Func<double, double> transform)
    {
        ArgumentNullException.ThrowIfNull(transform);
        var values = Array.ConvertAll(_values, r => (IReadOnlyList<double>)Array.ConvertAll(r, v => transform(v)));
        return new Forecast(SeriesName, Start, Step, _levels, values, HasExplicitMean ? Array.ConvertAll(_mean, v => transform(v)) : null);
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

        if (SeriesName != other.SeriesName || Start != other.Start || Step != other.Step
            || HasExplicitMean != other.HasExplicitMean || !_levels.AsSpan().SequenceEqual(other._levels)
            || !_mean.AsSpan().SequenceEqual(other._mean) || _values.Length != other._values.Length)
        {
            return false;
        }

        for (int i = 0; i < _values.Length; i++)
        {
            if (!_values[i].AsSpan().SequenceEqual(other._values[i]))
            {
                return false;
            }
        }

        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as Forecast);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        hash.Add(SeriesName);
        hash.Add(Start);
        hash.Add(Step);
        hash.Add(_levels.Length);
        hash.Add(Horizon);
        hash.Add(_mean[0]);
        return hash.ToHashCode();
    }

    public override string ToString() =>
        $"Forecast({SeriesName}, start {Start:O}, step {Step}, horizon {Horizon}, levels [{string.Join(", ", _levels)}])";

    private static int IndexOfLevel(double[] levels, double level)
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
