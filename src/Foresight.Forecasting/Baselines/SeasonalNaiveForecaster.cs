using Foresight.Core;
using Foresight.Core.Forecasts;

namespace Foresight.Forecasting.Baselines;

/// <summary>Options of <see cref="SeasonalNaiveForecaster"/>.</summary>
public sealed record SeasonalNaiveOptions
{
    /// <summary>Season length m; null takes <see cref="SeriesSet.SeasonLength"/>. 1 gives the plain naive forecast.</summary>
    public int? SeasonLength { get; init; }

    /// <summary>How many seasons of history feed the empirical residual quantiles.</summary>
    public int ResidualSeasons { get; init; } = 20;

    /// <summary>At least this many residual values are used (for short seasons such as m = 1).</summary>
    public int MinResiduals { get; init; } = 200;

    /// <summary>
    /// Recompute the residual quantiles after this fraction of the residual window has been replaced by new
    /// observations (0 recomputes on every prediction). The window holds many seasons, so its quantiles move slowly,
    /// and re-sorting it on every streaming step would dominate the cost.
    /// </summary>
    public double ResidualRefreshFraction { get; init; } = 0.02;

    public IReadOnlyList<double> Levels { get; init; } = Forecast.DefaultLevels;
}

/// <summary>
/// Seasonal naive: <c>ŷ[n+h] = y[n+h-m·⌈h/m⌉]</c>. Intervals are empirical: the quantiles of the in-sample
/// k-season differences <c>y[t] - y[t-k·m]</c> (k = ⌈h/m⌉, exactly the error the forecast makes k seasons ahead) over
/// the recent history, added to the point forecast. The mean is the plain seasonal naive value (so M4 sNaive is
/// reproduced exactly). Forecasts are clamped at zero when the fitted series had no negative value.
/// </summary>
public sealed class SeasonalNaiveForecaster : IForecaster
{
    public const string ModelName = "seasonal-naive";
    private readonly Dictionary<SeriesHistory, (long Observed, double[][] Offsets)> _offsetCache = new(ReferenceEqualityComparer.Instance);
    private const int PayloadVersion = 1;

    private readonly SeasonalNaiveOptions _options;
    private readonly List<SeriesHistory> _series = new();
    private readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);
    private TimeSpan _step;
    private int _m;
    private bool _nonNegative;

    public SeasonalNaiveForecaster(SeasonalNaiveOptions? options = null)
    {
        _options = options ?? new SeasonalNaiveOptions();
    }

    public string Name => ModelName;

    public bool IsFitted { get; private set; }

    public int SeasonLength => _m;

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);
        _step = history.Step;
        _m = _options.SeasonLength ?? history.SeasonLength;
        _nonNegative = history.Series.All(s => s.Values.All(v => v >= 0));
        _series.Clear();
        _index.Clear();
        int capacity = 2 * Math.Max(_m * (_options.ResidualSeasons + 2), _options.MinResiduals + (2 * _m));
        foreach (Series s in history.Series)
        {
            var h = new SeriesHistory(s.Name, s.Start, capacity);
            h.Append(s.Values);
            _index[s.Name] = _series.Count;
            _series.Add(h);
        }

        IsFitted = true;
    }

    public void Update(SeriesSet newObservations)
    {
        ArgumentNullException.ThrowIfNull(newObservations);
        EnsureFitted();
        foreach (Series s in newObservations.Series)
        {
            int i = FittedSeries.Of(_index, s, nameof(newObservations));

            _series[i].Append(s.Values);
        }
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        EnsureFitted();
        // One shared array for all the forecasts' values (ForecastBatch), not a dozen arrays per series.
        var batch = new ForecastBatch(_options.Levels, horizon, _series.Count, explicitMean: true);
        int[] rowOf = _options.Levels.Select(batch.RowOf).ToArray();

        var result = new Forecast[_series.Count];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = PredictOne(_series[i], horizon, batch, rowOf);
        }

        return result;
    }

    public void Save(Stream stream)
    {
        EnsureFitted();
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, ModelName);
        w.Write(PayloadVersion);
        w.Write(_options.SeasonLength ?? 0);
        w.Write(_options.ResidualSeasons);
        w.Write(_options.MinResiduals);
        ForecasterFile.WriteDoubles(w, _options.Levels.ToArray());
        w.Write(_step.Ticks);
        w.Write(_m);
        w.Write(_nonNegative);
        w.Write(_series.Count);
        foreach (SeriesHistory h in _series)
        {
            h.Write(w);
        }
    }

    internal static SeasonalNaiveForecaster ReadPayload(BinaryReader r)
    {
        int version = r.ReadInt32();
        if (version != PayloadVersion)
        {
            throw new InvalidDataException($"Seasonal naive payload version {version} is not supported.");
        }

        int m = r.ReadInt32();
        var options = new SeasonalNaiveOptions
        {
            SeasonLength = m == 0 ? null : m,
            ResidualSeasons = r.ReadInt32(),
            MinResiduals = r.ReadInt32(),
            Levels = ForecasterFile.ReadDoubles(r),
        };
        var model = new SeasonalNaiveForecaster(options)
        {
            _step = TimeSpan.FromTicks(r.ReadInt64()),
            _m = r.ReadInt32(),
            _nonNegative = r.ReadBoolean(),
        };
        int count = r.ReadInt32();
        for (int i = 0; i < count; i++)
        {
            SeriesHistory h = SeriesHistory.Read(r);
            model._index[h.Name] = i;
            model._series.Add(h);
        }

        model.IsFitted = true;
        return model;
    }

    /// <param name="rowOf">For each of the options' levels, its row in the batch's sorted levels.</param>
    private Forecast PredictOne(SeriesHistory history, int horizon, ForecastBatch batch, int[] rowOf)
    {
        ReadOnlySpan<double> y = history.Values;
        int n = y.Length;
        int m = Math.Min(_m, n);
        Span<double> point = batch.NextMean;
        for (int h = 1; h <= horizon; h++)
        {
            int k = (h + m - 1) / m;
            point[h - 1] = y[n - 1 + h - (k * m)];
        }

        IReadOnlyList<double> levels = _options.Levels;
        Span<double> values = batch.Next; // [level][step], levels sorted
        int maxK = (horizon + m - 1) / m;
        double[][] offsets = Offsets(history, y, m, maxK, levels);
        for (int k = 1; k <= maxK; k++)
        {
            int hFrom = ((k - 1) * m) + 1, hTo = Math.Min(k * m, horizon);
            for (int l = 0; l < levels.Count; l++)
            {
                double offset = offsets[k - 1][l];
                Span<double> row = values.Slice(rowOf[l] * horizon, horizon);
                for (int h = hFrom; h <= hTo; h++)
                {
                    row[h - 1] = point[h - 1] + offset;
                }
            }
        }

        if (_nonNegative)
        {
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = Math.Max(0, values[i]);
            }
        }

        return batch.Add(history.Name, history.NextTime(_step), _step);
    }

    /// <summary>
    /// Interval offsets [k-1][level] from the residual quantiles, cached per series between refreshes. Refreshes fall on
    /// fixed multiples of the refresh interval and use the history as of that point, so the offsets depend only on the
    /// data: a model saved and loaded (or fed in other batch sizes) predicts exactly what the original does.
    /// </summary>
    private double[][] Offsets(SeriesHistory history, ReadOnlySpan<double> y, int m, int maxK, IReadOnlyList<double> levels)
    {
        int window = Math.Max(_options.ResidualSeasons * m, _options.MinResiduals);
        long refresh = Math.Max(1, (long)(window * _options.ResidualRefreshFraction));
        long boundary = history.Observed < refresh ? history.Observed : history.Observed - (history.Observed % refresh);
        if (_offsetCache.TryGetValue(history, out var cached)
            && cached.Offsets.Length >= maxK
            && cached.Observed == boundary)
        {
            return cached.Offsets;
        }

        // The values as of the boundary (the newest few since then wait for the next refresh).
        int since = (int)Math.Min(history.Observed - boundary, y.Length - 1);
        y = y[..(y.Length - since)];

        var offsets = new double[maxK][];
        double[]? oneSeason = null;
        for (int k = 1; k <= maxK; k++)
        {
            double[] residuals = Residuals(y, k * m, window);
            double scale = 1;
            if (residuals.Length < 10)
            {
                // Too little history k seasons back: widen the one-season residuals by sqrt(k) (random-walk growth).
                oneSeason ??= Residuals(y, m, window);
                residuals = oneSeason;
                scale = Math.Sqrt(k);
            }

            offsets[k - 1] = new double[levels.Count];
            for (int l = 0; l < levels.Count; l++)
            {
                offsets[k - 1][l] = residuals.Length == 0 ? 0 : scale * EmpiricalQuantile.OfSorted(residuals, levels[l]);
            }
        }

        _offsetCache[history] = (boundary, offsets);
        return offsets;
    }

    /// <summary>Sorted <c>y[t] - y[t-lag]</c> over the last <paramref name="window"/> positions.</summary>
    private static double[] Residuals(ReadOnlySpan<double> y, int lag, int window)
    {
        int from = Math.Max(lag, y.Length - window);
        if (from >= y.Length)
        {
            return Array.Empty<double>();
        }

        var r = new double[y.Length - from];
        for (int t = from; t < y.Length; t++)
        {
            r[t - from] = y[t] - y[t - lag];
        }

        Array.Sort(r);
        return r;
    }

    private void EnsureFitted()
    {
        if (!IsFitted)
        {
            throw new InvalidOperationException("Fit the model first.");
        }
    }
}
