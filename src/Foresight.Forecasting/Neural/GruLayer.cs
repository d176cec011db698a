using System.Numerics;
using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// GRU layer (Cho et al. 2014, PyTorch's formulation with the reset gate applied after the recurrent product):
/// <code>
/// ax = x·Wx + bx;  ah = h·Wh + bh     // [B, I] x [I, 3H] -> [B, 3H];  [B, H] x [H, 3H] -> [B, 3H]
/// r = σ(ax_r + ah_r);  z = σ(ax_z + ah_z);  n = tanh(ax_n + r ⊙ ah_n)
/// h' = (1 - z) ⊙ n + z ⊙ h
/// </code>
/// Cache per row: r, z, n, ah_n (4H).
/// </summary>
public sealed class GruLayer<T> : IRecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T> _wx;
    private readonly Parameter<T> _wh;
    private readonly Parameter<T> _bx;
    private readonly Parameter<T> _bh;

    public GruLayer(int inputSize, int hiddenSize, SplitMix64 rng, string name = "gru")
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        int g = 3 * hiddenSize;
        _wx = new Parameter<T>($"{name}.Wx", inputSize, g);
        _wh = new Parameter<T>($"{name}.Wh", hiddenSize, g);
        _bx = new Parameter<T>($"{name}.bx", 1, g);
        _bh = new Parameter<T>($"{name}.bh", 1, g);
        T limit = T.One / T.Sqrt(T.CreateChecked(hiddenSize));
        Tensor.FillUniform<T>(_wx.Value, limit, rng);
        Tensor.FillUniform<T>(_wh.Value, limit, rng);
        Tensor.FillUniform<T>(_bx.Value, limit, rng);
        Tensor.FillUniform<T>(_bh.Value, limit, rng);
        Parameters = [_wx, _wh, _bx, _bh];
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public int StateBlocks => 1;

    public int CacheWidth => 4 * HiddenSize;

    public int ScratchWidth => 10 * HiddenSize; // ax [3H] + ah [3H] + activations [4H] when there is no cache

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    public void Forward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, Span<T> next, Span<T> cache, Span<T> scratch)
    {
        int h = HiddenSize, g3 = 3 * h;
        Span<T> ax = scratch[..(batch * g3)];
        Span<T> ah = scratch.Slice(batch * g3, batch * g3);
        ax.Clear();
        ah.Clear();
        Tensor.MatMulAdd<T>(x, _wx.Value, ax, batch, InputSize, g3); // [B, I] x [I, 3H] -> [B, 3H]
        Tensor.AddRowVector<T>(ax, _bx.Value, batch, g3); // + [3H]
        Tensor.MatMulAdd<T>(state, _wh.Value, ah, batch, h, g3); // [B, H] x [H, 3H] -> [B, 3H]
        Tensor.AddRowVector<T>(ah, _bh.Value, batch, g3); // + [3H]
        Span<T> act = cache.IsEmpty ? scratch.Slice(2 * batch * g3, batch * 4 * h) : cache;
        for (int b = 0; b < batch; b++)
        {
            Span<T> axRow = ax.Slice(b * g3, g3), ahRow = ah.Slice(b * g3, g3);
            Span<T> a = act.Slice(b * 4 * h, 4 * h);
            Span<T> r = a[..h], z = a.Slice(h, h), n = a.Slice(2 * h, h), ahn = a.Slice(3 * h, h);
            TensorPrimitives.Add<T>(axRow[..(2 * h)], ahRow[..(2 * h)], a[..(2 * h)]); // [2H] + [2H]
            TensorPrimitives.Sigmoid<T>(a[..(2 * h)], a[..(2 * h)]); // r, z = σ(.)
            ahRow.Slice(2 * h, h).CopyTo(ahn); // keep ah_n for backward
            TensorPrimitives.MultiplyAdd<T>(r, ahn, axRow.Slice(2 * h, h), n); // ax_n + r ⊙ ah_n
            TensorPrimitives.Tanh<T>(n, n); // n = tanh(.)
            Span<T> hNext = next.Slice(b * h, h);
            TensorPrimitives.Subtract<T>(state.Slice(b * h, h), n, hNext); // h - n
            TensorPrimitives.MultiplyAdd<T>(z, hNext, n, hNext); // h' = n + z ⊙ (h - n)
        }
    }

    public void Backward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, ReadOnlySpan<T> cache, ReadOnlySpan<T> dNext,
        Span<T> dState, Span<T> dx, ReadOnlySpan<T[]> grads, Span<T> scratch)
    {
        int h = HiddenSize, g3 = 3 * h;
        Span<T> dax = scratch[..(batch * g3)];
        Span<T> dah = scratch.Slice(batch * g3, batch * g3);
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> a = cache.Slice(b * 4 * h, 4 * h);
            ReadOnlySpan<T> r = a[..h], z = a.Slice(h, h), n = a.Slice(2 * h, h), ahn = a.Slice(3 * h, h);
            ReadOnlySpan<T> dh = dNext.Slice(b * h, h), hPrev = state.Slice(b * h, h);
            Span<T> daxRow = dax.Slice(b * g3, g3), dahRow = dah.Slice(b * g3, g3);
            Span<T> dr = daxRow[..h], dz = daxRow.Slice(h, h), dn = daxRow.Slice(2 * h, h);
            TensorPrimitives.Multiply<T>(dh, z, dState.Slice(b * h, h)); // dh_prev (direct) = dh ⊙ z
            TensorPrimitives.Subtract<T>(hPrev, n, dz); // dz = dh ⊙ (h - n)
            TensorPrimitives.Multiply<T>(dz, dh, dz);
            TensorPrimitives.Subtract<T>(dh, dState.Slice(b * h, h), dn); // dn = dh ⊙ (1 - z) = dh - dh ⊙ z
            Tensor.TanhBackward<T>(n, dn); // through tanh: d(pre-n)
            TensorPrimitives.Multiply<T>(dn, ahn, dr); // dr = d(pre-n) ⊙ ah_n
            Tensor.SigmoidBackward<T>(r, dr); // through σ
            Tensor.SigmoidBackward<T>(z, dz);
            daxRow[..(2 * h)].CopyTo(dahRow[..(2 * h)]); // r and z gates: same gradient for ax and ah
            TensorPrimitives.Multiply<T>(dn, r, dahRow.Slice(2 * h, h)); // d ah_n = d(pre-n) ⊙ r
        }

        Tensor.AccumulateOuter<T>(x, dax, grads[0], batch, InputSize, g3); // [B, I]ᵀ x [B, 3H] -> dWx [I, 3H]
        Tensor.AccumulateOuter<T>(state, dah, grads[1], batch, h, g3); // [B, H]ᵀ x [B, 3H] -> dWh [H, 3H]
        Tensor.SumRowsInto<T>(dax, grads[2], batch, g3); // [B, 3H] -> dbx
        Tensor.SumRowsInto<T>(dah, grads[3], batch, g3); // [B, 3H] -> dbh
        Tensor.MatMulTransposedAdd<T>(dah, _wh.Value, dState, batch, h, g3, h); // [B, 3H] x [H, 3H]ᵀ -> dh_prev [B, H]
        if (!dx.IsEmpty)
        {
            Tensor.MatMulTransposedAdd<T>(dax, _wx.Value, dx, batch, InputSize, g3, InputSize); // [B, 3H] x [I, 3H]ᵀ -> dx [B, I]
        }
    }
}
