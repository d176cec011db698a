namespace Foresight.Core.Forecasts;

/// <summary>
/// Builds many forecasts of one shape (levels, horizon) over one shared value array, so a model that forecasts
/// thousands of series per tick allocates one array and the <see cref="Forecast"/> objects, not a dozen arrays per
/// forecast. The forecasts are ordinary, immutable <see cref="Forecast"/> values.
/// </summary>
/// <remarks>
/// Fill <see cref="Next"/> (<c>[level][step]</c>, levels in the order of <see cref="Levels"/>) and, for a batch with
/// explicit means, <see cref="NextMean"/>; then call <see cref="Add"/>, which validates and repairs the values exactly
/// as the <see cref="Forecast"/> constructor does and moves on. A slot is never handed out again, so a built forecast
/// cannot change.
/// </remarks>
public sealed class ForecastBatch
{
    private readonly Forecast.LevelSet _levels;
    private readonly double[] _data;
    private readonly int _width;
    private readonly int _stride;

    /// <param name="levels">Quantile levels in (0, 1), distinct, with the required ones (any order; <see cref="Levels"/> is sorted).</param>
    /// <param name="horizon">Steps per forecast (at least 1).</param>
    /// <param name="capacity">Forecasts the batch can hold.</param>
    /// <param name="explicitMean">Whether each forecast carries a mean (<see cref="NextMean"/>) rather than using its median.</param>
    public ForecastBatch(IReadOnlyList<double> levels, int horizon, int capacity, bool explicitMean = false)
    {
        ArgumentNullException.ThrowIfNull(levels);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        _levels = Forecast.LevelSet.Create(levels, out _);
        Horizon = horizon;
        Capacity = capacity;
        HasExplicitMean = explicitMean;
        _width = _levels.Count * horizon;
        _stride = _width + (explicitMean ? horizon : 0);
        _data = new double[checked(_stride * capacity)];
    }

    /// <summary>Sorted quantile levels: the row order of <see cref="Next"/>.</summary>
    public IReadOnlyList<double> Levels => _levels.View;

    public int Horizon { get; }

    public int Capacity { get; }

    public bool HasExplicitMean { get; }

    /// <summary>Forecasts built so far.</summary>
    public int Count { get; private set; }

    /// <summary>The values of the next forecast, <c>[level][step]</c>: fill every one, then call <see cref="Add"/>.</summary>
    public Span<double> Next
    {
        get
        {
            EnsureRoom();
            return _data.AsSpan(Count * _stride, _width);
        }
    }

    /// <summary>The mean of the next forecast, <c>[step]</c> (only in a batch with explicit means).</summary>
    public Span<double> NextMean
    {
        get
        {
            if (!HasExplicitMean)
            {
                throw new InvalidOperationException("This batch's forecasts use their median as the mean.");
            }

            EnsureRoom();
            return _data.AsSpan((Count * _stride) + _width, Horizon);
        }
    }

    /// <summary>The row of <paramref name="level"/> in <see cref="Next"/> (its index in <see cref="Levels"/>), or -1.</summary>
    public int RowOf(double level) => _levels.IndexOf(level);

    /// <summary>Builds the forecast from the values in <see cref="Next"/>: they must be finite; crossing quantiles are sorted per step.</summary>
    public Forecast Add(string seriesName, DateTimeOffset start, TimeSpan step)
    {
        ArgumentNullException.ThrowIfNull(seriesName);
        Forecast.ValidateStep(step);
        EnsureRoom();
        int offset = Count * _stride;
        Forecast.Freeze(_levels, _data.AsSpan(offset, _width), Horizon);
        if (HasExplicitMean)
        {
            Forecast.FreezeMean(_data.AsSpan(offset + _width, Horizon));
        }

        Count++;
        return new Forecast(seriesName, start, step, _levels, _data, offset, Horizon, HasExplicitMean);
    }

    private void EnsureRoom()
    {
        if (Count == Capacity)
        {
            throw new InvalidOperationException($"The batch is full ({Capacity} forecasts).");
        }
    }
}
