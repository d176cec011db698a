using System.Numerics;
using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// Dense multi-horizon quantile head (MQ-RNN style, Wen et al. 2017): <c>out = in·W + b</c>, <c>[B, D] x [D, K·Q] -> [B, K·Q]</c>,
/// output column <c>k·Q + q</c> is horizon step k+1 at quantile level q. The input is the top hidden state, optionally
/// concatenated with "highway" inputs (LSTNet's autoregressive component, Lai et al. 2018) that receive no gradient.
/// </summary>
public sealed class QuantileHead<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T> _w;
    private readonly Parameter<T> _b;

    public QuantileHead(int inputSize, int horizon, int quantiles, SplitMix64 rng, double initScale = 0.1)
    {
        InputSize = inputSize;
        Horizon = horizon;
        Quantiles = quantiles;
        _w = new Parameter<T>("head.W", inputSize, horizon * quantiles);
        _b = new Parameter<T>("head.b", 1, horizon * quantiles);
        Tensor.FillUniform<T>(_w.Value, T.CreateChecked(initScale / Math.Sqrt(inputSize)), rng);
        Parameters = [_w, _b];
    }

    public int InputSize { get; }

    public int Horizon { get; }

    public int Quantiles { get; }

    public int OutputSize => Horizon * Quantiles;

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary><c>[B, D] x [D, K·Q] + [K·Q] -> [B, K·Q]</c> (overwrites <paramref name="output"/>).</summary>
    public void Forward(int batch, ReadOnlySpan<T> input, Span<T> output)
    {
        Span<T> o = output[..(batch * OutputSize)];
        for (int b = 0; b < batch; b++)
        {
            _b.Value.CopyTo(o.Slice(b * OutputSize, OutputSize));
        }

        Tensor.MatMulAdd<T>(input, _w.Value, o, batch, InputSize, OutputSize); // [B, D] x [D, K·Q] -> [B, K·Q]
    }

    /// <summary>
    /// Adds dW, db into <paramref name="grads"/> (at <paramref name="gradOffset"/>) and the gradient of the first
    /// <paramref name="inputUsed"/> input columns into <paramref name="dInput"/> <c>[B, inputUsed]</c>.
    /// </summary>
    public void Backward(int batch, ReadOnlySpan<T> input, ReadOnlySpan<T> dOutput, Span<T> dInput, int inputUsed, Gradients<T> grads, int gradOffset)
    {
        Tensor.AccumulateOuter<T>(input, dOutput, grads[gradOffset], batch, InputSize, OutputSize); // [B, D]ᵀ x [B, K·Q] -> dW [D, K·Q]
        Tensor.SumRowsInto<T>(dOutput, grads[gradOffset + 1], batch, OutputSize); // [B, K·Q] -> db
        if (inputUsed > 0)
        {
            Tensor.MatMulTransposedAdd<T>(dOutput, _w.Value, dInput, batch, InputSize, OutputSize, inputUsed); // [B, K·Q] x [D, K·Q]ᵀ -> [B, used]
        }
    }
}

/// <summary>Pinball (quantile) loss and its subgradient.</summary>
public static class PinballLoss
{
    /// <summary>
    /// Adds <c>weight · ρ_τ(y - ŷ)</c> and writes <c>dLoss/dŷ</c> (scaled by weight) into <paramref name="dPrediction"/>:
    /// ρ_τ(u) = max(τu, (τ - 1)u), so dρ/dŷ = -τ when y &gt; ŷ, else 1 - τ.
    /// </summary>
    public static T Accumulate<T>(T prediction, T target, T level, T weight, out T dPrediction)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        T u = target - prediction;
        if (u > T.Zero)
        {
            dPrediction = -level * weight;
            return level * u * weight;
        }

        dPrediction = (T.One - level) * weight;
        return (level - T.One) * u * weight;
    }
}
