namespace Foresight.Forecasting;

/// <summary>The one lookup every streaming <see cref="IForecaster.Update"/> makes: a series must have been fitted.</summary>
internal static class FittedSeries
{
    /// <summary>The fitted state of <paramref name="series"/>; an error naming it when the model never saw it.</summary>
    public static T Of<T>(IReadOnlyDictionary<string, T> fitted, Series series, string paramName) =>
        fitted.TryGetValue(series.Name, out T? state)
            ? state
            : throw new ArgumentException($"Series '{series.Name}' was not fitted.", paramName);
}
