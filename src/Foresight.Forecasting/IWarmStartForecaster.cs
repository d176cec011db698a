namespace Foresight.Forecasting;

/// <summary>
/// A forecaster whose next fit can start from its current parameters instead of from scratch (fine-tuning).
/// </summary>
public interface IWarmStartForecaster : IForecaster
{
    /// <summary>Whether this model's own fit started from another model's parameters.</summary>
    bool WarmStarted { get; }

    /// <summary>
    /// A new, unfitted model whose <see cref="IForecaster.Fit"/> starts from a copy of this model's parameters. This model
    /// is not changed, so it may keep serving (Update, Predict) while the new one fits on another thread.
    /// </summary>
    IWarmStartForecaster WarmStart();
}
