using System.Numerics;
using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// Dense row-major matrix kernels on <see cref="TensorPrimitives"/> (SIMD). Every product is built from row axpys
/// (<c>y_row += a · w_row</c>) or row dot products, so the innermost loop always runs over a contiguous row.
/// </summary>
public static class Tensor
{
    /// <summary><c>y += x · w</c>: <c>[B, K] x [K, N] -> [B, N]</c>.</summary>
    public static void MatMulAdd<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, int batch, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> xRow = x.Slice(b * k, k);
            Span<T> yRow = y.Slice(b * n, n);
            for (int i = 0; i < k; i++)
            {
                T a = xRow[i];
                if (a != T.Zero)
                {
                    // [N] += a · [N]
                    TensorPrimitives.MultiplyAdd(w.Slice(i * n, n), a, yRow, yRow);
                }
            }
        }
    }

    /// <summary><c>dw += xᵀ · dy</c>: <c>[B, K]ᵀ x [B, N] -> [K, N]</c>.</summary>
    public static void AccumulateOuter<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> dy, Span<T> dw, int batch, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> xRow = x.Slice(b * k, k);
            ReadOnlySpan<T> dyRow = dy.Slice(b * n, n);
            for (int i = 0; i < k; i++)
            {
                T a = xRow[i];
                if (a != T.Zero)
                {
                    Span<T> dwRow = dw.Slice(i * n, n);
                    // [N] += a · [N]
                    TensorPrimitives.MultiplyAdd(dyRow, a, dwRow, dwRow);
                }
            }
        }
    }

    /// <summary><c>dx += dy · wᵀ</c>: <c>[B, N] x [K, N]ᵀ -> [B, K]</c>; only the first <paramref name="kUsed"/> columns of dx.</summary>
    public static void MatMulTransposedAdd<T>(ReadOnlySpan<T> dy, ReadOnlySpan<T> w, Span<T> dx, int batch, int k, int n, int kUsed)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<T> dyRow = dy.Slice(b * n, n);
            Span<T> dxRow = dx.Slice(b * kUsed, kUsed);
            for (int i = 0; i < kUsed; i++)
            {
                // [N] · [N] -> scalar
                dxRow[i] += TensorPrimitives.Dot(dyRow, w.Slice(i * n, n));
            }
        }
    }

    /// <summary><c>y[b, :] += bias</c>: <c>[B, N] + [N]</c>.</summary>
    public static void AddRowVector<T>(Span<T> y, ReadOnlySpan<T> bias, int batch, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            Span<T> row = y.Slice(b * n, n);
            // [N] + [N] -> [N]
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary><c>db += Σ_b dy[b, :]</c>: <c>[B, N] -> [N]</c>.</summary>
    public static void SumRowsInto<T>(ReadOnlySpan<T> dy, Span<T> db, int batch, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int b = 0; b < batch; b++)
        {
            // [N] + [N] -> [N]
            TensorPrimitives.Add(db, dy.Slice(b * n, n), db);
        }
    }

    /// <summary><c>d ← d · s · (1 - s)</c> for s = σ(z): the sigmoid derivative applied in place. <c>[N]</c>.</summary>
    public static void SigmoidBackward<T>(ReadOnlySpan<T> s, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] *= s[i] * (T.One - s[i]);
        }
    }

    /// <summary><c>d ← d · (1 - t²)</c> for t = tanh(z), in place. <c>[N]</c>.</summary>
    public static void TanhBackward<T>(ReadOnlySpan<T> t, Span<T> d)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < d.Length; i++)
        {
            d[i] *= T.One - (t[i] * t[i]);
        }
    }

    /// <summary>Fills with uniform values in [-limit, limit).</summary>
    public static void FillUniform<T>(Span<T> values, T limit, SplitMix64 rng)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = limit * T.CreateChecked((2 * rng.NextDouble()) - 1);
        }
    }
}
