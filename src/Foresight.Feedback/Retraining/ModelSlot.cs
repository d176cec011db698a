using Foresight.Forecasting;

namespace Foresight.Feedback.Retraining;

/// <summary>A fitted model as published to the prediction path. Immutable: a new fit is a new holder.</summary>
/// <param name="Version">1 for the first fit, then one more per swap.</param>
/// <param name="FittedAt">Seconds on the caller's clock when the training data ended.</param>
public sealed record PublishedModel(IForecaster Model, int Version, double FittedAt);

/// <summary>
/// Where the prediction path finds the current model. Retraining builds a whole new model elsewhere and publishes it
/// with one reference exchange, so a reader gets either the old holder or the new one, never a half-trained model and
/// never a mix. Readers take <see cref="Current"/> once per prediction and use only that holder.
/// </summary>
public sealed class ModelSlot
{
    private PublishedModel? _current;

    /// <summary>The published model, or null before the first fit.</summary>
    public PublishedModel? Current => Volatile.Read(ref _current);

    /// <summary>Publishes <paramref name="model"/> atomically; returns the holder it replaced.</summary>
    public PublishedModel? Publish(PublishedModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Interlocked.Exchange(ref _current, model);
    }
}
