using System.Numerics;
using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// LSTM layer (Hochreiter and Schmidhuber 1997; gate order i, f, g, o as in PyTorch):
/// <code>
/// z  = x·Wx + h·Wh + b            // [B, I] x [I, 4H] + [B, H] x [H, 4H] + [4H] -> [B, 4H]
/// i, f, o = σ(z_i), σ(z_f), σ(z_o);  g = tanh(z_g)
/// c' = f ⊙ c + i ⊙ g;  h' = o ⊙ tanh(c')
/// </code>
/// Forget-gate bias starts at 1 (Jozefowicz et al. 2015). Cache per row: i, f, g, o, tanh(c') (5H).
/// </summary>
public sealed class LstmLayer<T> : IRecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly Parameter<T> _wx;
    private readonly Parameter<T> _wh;
    private readonly Parameter<T> _b;

    public LstmLayer(int inputSize, int hiddenSize, SplitMix64 rng, string name = "lstm")
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        int g = 4 * hiddenSize;
        _wx = new Parameter<T>($"{name}.Wx", inputSize, g);
        _wh = new Parameter<T>($"{name}.Wh", hiddenSize, g);
        _b = new Parameter<T>($"{name}.b", 1, g);
        T limit = T.One / T.Sqrt(T.CreateChecked(hiddenSize));
        Tensor.FillUniform<T>(_wx.Value, limit, rng);
        Tensor.FillUniform<T>(_wh.Value, limit, rng);
        _b.Value.AsSpan(hiddenSize, hiddenSize).Fill(T.One);
        Parameters = [_wx, _wh, _b];
    }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public int StateBlocks => 2;

    public int CacheWidth => 5 * HiddenSize;

    public int ScratchWidth => 9 * HiddenSize; // z [4H] + activations [5H] when there is no cache

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    public void Forward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, Span<T> next, Span<T> cache, Span<T> scratch)
    {
        int h = HiddenSize, g4 = 4 * h, bh = batch * h;
        Span<T> z = scratch[..(batch * g4)];
        z.Clear();
        Tensor.MatMulAdd<T>(x, _wx.Value, z, batch, InputSize, g4); // [B, I] x [I, 4H] -> [B, 4H]
        Tensor.MatMulAdd<T>(state[..bh], _wh.Value, z, batch, h, g4); // [B, H] x [H, 4H] -> [B, 4H]
        Tensor.AddRowVector<T>(z, _b.Value, batch, g4); // [B, 4H] + [4H]
        Span<T> act = cache.IsEmpty ? scratch.Slice(batch * g4, batch * 5 * h) : cache;
        ReadOnlySpan<T> c = state.Slice(bh, bh);
        Span<T> hNext = next[..bh], cNext = next.Slice(bh, bh);
        for (int b = 0; b < batch; b++)
        {
            Span<T> zRow = z.Slice(b * g4, g4);
            Span<T> a = act.Slice(b * 5 * h, 5 * h);
            TensorPrimitives.Sigmoid<T>(zRow[..(2 * h)], a[..(2 * h)]); // [2H] -> i, f
            TensorPrimitives.Tanh<T>(zRow.Slice(2 * h, h), a.Slice(2 * h, h)); // [H] -> g
            TensorPrimitives.Sigmoid<T>(zRow.Slice(3 * h, h), a.Slice(3 * h, h)); // [H] -> o
            ReadOnlySpan<T> i = a[..h], f = a.Slice(h, h), gg = a.Slice(2 * h, h), o = a.Slice(3 * h, h);
            Span<T> cRow = cNext.Slice(b * h, h);
            TensorPrimitives.Multiply<T>(f, c.Slice(b * h, h), cRow); // [H] ⊙ [H] -> c' = f ⊙ c
            TensorPrimitives.MultiplyAdd<T>(i, gg, cRow, cRow); // c' += i ⊙ g
            Span<T> tc = a.Slice(4 * h, h);
            TensorPrimitives.Tanh<T>(cRow, tc); // [H] -> tanh(c')
            TensorPrimitives.Multiply<T>(o, tc, hNext.Slice(b * h, h)); // h' = o ⊙ tanh(c')
        }
    }

    public void Backward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, ReadOnlySpan<T> cache, ReadOnlySpan<T> dNext,
        Span<T> dState, Span<T> dx, ReadOnlySpan<T[]> grads, Span<T> scratch)
    {
        int h = HiddenSize, g4 = 4 * h, bh = batch * h;
        Span<T> dz = scratch[..(batch * g4)];
        Span<T> dc = scratch.Slice(batch * g4, h);
        ReadOnlySpan<T> dh = dNext[..bh], dcNext = dNext.Slice(bh, bh), cPrev = state.Slice(bh, bh);
        Span<T> dcPrev = dState.Slice(bh, bh);
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> a = cache.Slice(b * 5 * h, 5 * h);
            ReadOnlySpan<T> i = a[..h], f = a.Slice(h, h), gg = a.Slice(2 * h, h), o = a.Slice(3 * h, h), tc = a.Slice(4 * h, h);
            ReadOnlySpan<T> dhRow = dh.Slice(b * h, h);
            Span<T> dzRow = dz.Slice(b * g4, g4);
            Span<T> di = dzRow[..h], df = dzRow.Slice(h, h), dg = dzRow.Slice(2 * h, h), dO = dzRow.Slice(3 * h, h);
            TensorPrimitives.Multiply<T>(dhRow, tc, dO); // do = dh ⊙ tanh(c')
            TensorPrimitives.Multiply<T>(dhRow, o, dc); // dc = dh ⊙ o
            Tensor.TanhBackward<T>(tc, dc); //    ⊙ (1 - tanh²(c'))
            TensorPrimitives.Add<T>(dc, dcNext.Slice(b * h, h), dc); //    + dc' from t+1
            TensorPrimitives.Multiply<T>(dc, gg, di); // di = dc ⊙ g
            TensorPrimitives.Multiply<T>(dc, cPrev.Slice(b * h, h), df); // df = dc ⊙ c
            TensorPrimitives.Multiply<T>(dc, i, dg); // dg = dc ⊙ i
            TensorPrimitives.Multiply<T>(dc, f, dcPrev.Slice(b * h, h)); // dc_prev = dc ⊙ f
            Tensor.SigmoidBackward<T>(i, di); // through σ
            Tensor.SigmoidBackward<T>(f, df);
            Tensor.TanhBackward<T>(gg, dg); // through tanh
            Tensor.SigmoidBackward<T>(o, dO);
        }

        Tensor.AccumulateOuter<T>(x, dz, grads[0], batch, InputSize, g4); // [B, I]ᵀ x [B, 4H] -> dWx [I, 4H]
        Tensor.AccumulateOuter<T>(state[..bh], dz, grads[1], batch, h, g4); // [B, H]ᵀ x [B, 4H] -> dWh [H, 4H]
        Tensor.SumRowsInto<T>(dz, grads[2], batch, g4); // [B, 4H] -> db [4H]
        Span<T> dhPrev = dState[..bh];
        dhPrev.Clear();
        Tensor.MatMulTransposedAdd<T>(dz, _wh.Value, dhPrev, batch, h, g4, h); // [B, 4H] x [H, 4H]ᵀ -> dh_prev [B, H]
        if (!dx.IsEmpty)
        {
            Tensor.MatMulTransposedAdd<T>(dz, _wx.Value, dx, batch, InputSize, g4, InputSize); // [B, 4H] x [I, 4H]ᵀ -> dx [B, I]
        }
    }
}
