using System.Numerics;
using FsCheck;
using FsCheck.Xunit;
using Foresight.Forecasting.Neural;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace Foresight.Forecasting.Tests;

/// <summary>
/// The batched tick (issue 12) must give the same numbers as streaming each series on its own: the blocked matrix
/// kernel against the row axpy it replaced, a stack step over B rows against B one-row steps, and the forecaster's
/// batched Update/Predict against one series at a time. All compare bit for bit.
/// </summary>
public sealed class BatchedInferenceTests
{
    [Property(MaxTest = 200)]
    public bool Blocked_matmul_matches_the_row_axpy_exactly(byte batch, byte k, byte n, int seed)
    {
        int b = batch % 14, kk = 1 + (k % 40), nn = 1 + (n % 90);
        return SameAsAxpy<float>(b, kk, nn, seed) && SameAsAxpy<double>(b, kk, nn, seed);
    }

    [Property(MaxTest = 30)]
    public bool A_stack_step_over_a_batch_equals_one_row_at_a_time(bool lstm, byte hidden, byte batch, int seed)
    {
        CellKind cell = lstm ? CellKind.Lstm : CellKind.Gru;
        int h = 1 + (hidden % 70), b = 1 + (batch % 11), inputs = 7;
        var stack = new RecurrentStack<float>(cell, inputs, h, 2, new SplitMix64((ulong)seed));
        var rng = new SplitMix64((ulong)seed + 1);
        var x = new float[b * inputs];
        Tensor.FillUniform<float>(x, 1f, rng);
        x[0] = 0; // a zero input: the axpy skips it, the blocked kernel adds ±0
        var state = new float[b * stack.StatePerRow];
        Tensor.FillUniform<float>(state, 0.5f, rng);
        float[][] rows = Enumerable.Range(0, b).Select(r => RowState(stack, state, b, r)).ToArray();

        stack.Step(b, x, state, new float[stack.ScratchLength(b)]); // [B, I] -> one step for the batch
        var scratch = new float[stack.ScratchLength(1)];
        for (int r = 0; r < b; r++)
        {
            stack.Step(1, x.AsSpan(r * inputs, inputs), rows[r], scratch); // [1, I] -> the same row alone
            if (!RowState(stack, state, b, r).AsSpan().SequenceEqual(rows[r]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool SameAsAxpy<T>(int batch, int k, int n, int seed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rng = new SplitMix64((ulong)(uint)seed);
        var x = new T[batch * k];
        var w = new T[k * n];
        var y = new T[batch * n];
        Tensor.FillUniform<T>(x, T.One, rng);
        Tensor.FillUniform<T>(w, T.One, rng);
        Tensor.FillUniform<T>(y, T.One, rng);
        for (int i = 0; i < x.Length; i += 3)
        {
            x[i] = T.Zero; // zeros, which the axpy skips
        }

        T[] expected = (T[])y.Clone();
        for (int b = 0; b < batch; b++)
        {
            Span<T> row = expected.AsSpan(b * n, n);
            for (int i = 0; i < k; i++)
            {
                if (x[(b * k) + i] != T.Zero)
                {
                    TensorPrimitives.MultiplyAdd(w.AsSpan(i * n, n), x[(b * k) + i], row, row); // the previous kernel
                }
            }
        }

        Tensor.MatMulAdd<T>(x, w, y, batch, k, n);
        return y.AsSpan().SequenceEqual(expected);
    }

    /// <summary>Row r of a <c>[L][S, B, H]</c> state as a one-row state <c>[L][S, 1, H]</c>.</summary>
    private static float[] RowState(RecurrentStack<float> stack, float[] state, int batch, int r)
    {
        int h = stack.HiddenSize, blocks = stack.Layers.Count * stack.StateBlocks;
        var row = new float[blocks * h];
        for (int s = 0; s < blocks; s++)
        {
            state.AsSpan(((s * batch) + r) * h, h).CopyTo(row.AsSpan(s * h, h));
        }

        return row;
    }
}
