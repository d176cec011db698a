using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// Dense row-major matrix kernels on <see cref="TensorPrimitives"/> (SIMD). Every product is built from row axpys
/// (<c>y_row += a · w_row</c>) or row dot products, so the innermost loop always runs over a contiguous row.
/// </summary>
public static class Tensor
{
    private const int BlockRows = 4;
    private const int BlockVectors = 4;

    /// <summary>
    /// <c>y += x · w</c>: <c>[B, K] x [K, N] -> [B, N]</c>. Each y element is updated as <c>y + x[b, i] · w[i, n]</c>
    /// (a rounded product, then a rounded sum) for i = 0..K-1 in order, whatever the batch size, so a batch gives
    /// bit-for-bit the rows it would give one at a time.
    /// </summary>
    public static void MatMulAdd<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, int batch, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int blocked = 0;
        if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && n >= Vector512<T>.Count && batch >= BlockRows)
        {
            blocked = batch - (batch % BlockRows);
            ArgumentOutOfRangeException.ThrowIfLessThan(x.Length, blocked * k, nameof(x));
            ArgumentOutOfRangeException.ThrowIfLessThan(w.Length, k * n, nameof(w));
            ArgumentOutOfRangeException.ThrowIfLessThan(y.Length, blocked * n, nameof(y));
            MatMulAddBlocked(x, w, y, blocked, k, n);
        }

        for (int b = blocked; b < batch; b++)
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

    /// <summary>
    /// Register-blocked <c>y += x · w</c> for a multiple of 4 rows: each tile keeps 4 rows × 4 vectors of y in registers
    /// over the whole K loop, so one w load serves 4 rows and one x broadcast 4 vectors (the row axpy reloads and
    /// stores y for every i). Columns run outer, so a K × 4-vector panel of w stays in L1 while the rows stream past.
    /// A product with x = 0 adds ±0, which leaves y unchanged exactly as the skipped axpy does.
    /// </summary>
    private static void MatMulAddBlocked<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> w, Span<T> y, int batch, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int v = Vector512<T>.Count, panel = BlockVectors * v;
        ref T xRef = ref MemoryMarshal.GetReference(x);
        ref T wRef = ref MemoryMarshal.GetReference(w);
        ref T yRef = ref MemoryMarshal.GetReference(y);
        int c = 0;
        for (; c + panel <= n; c += panel)
        {
            for (int b = 0; b < batch; b += BlockRows)
            {
                Tile4x4(ref xRef, ref Unsafe.Add(ref wRef, c), ref Unsafe.Add(ref yRef, (b * n) + c), b * k, k, n);
            }
        }

        for (; c + v <= n; c += v)
        {
            for (int b = 0; b < batch; b += BlockRows)
            {
                Tile4x1(ref xRef, ref Unsafe.Add(ref wRef, c), ref Unsafe.Add(ref yRef, (b * n) + c), b * k, k, n, Vector512<T>.AllBitsSet);
            }
        }

        if (c < n)
        {
            // The last n - c columns: one vector ending at column n, written back only in its last n - c lanes (the
            // lanes before were finished above and are kept from memory).
            int first = n - v;
            Vector512<T> mask = Vector512.GreaterThanOrEqual(Vector512<T>.Indices, Vector512.Create(T.CreateTruncating(c - first)));
            for (int b = 0; b < batch; b += BlockRows)
            {
                Tile4x1(ref xRef, ref Unsafe.Add(ref wRef, first), ref Unsafe.Add(ref yRef, (b * n) + first), b * k, k, n, mask);
            }
        }
    }

    // [4, K] x [K, 4V] -> [4, 4V] added into y; x rows start at xRow, w and y at the tile's first column.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x4<T>(ref T x, ref T w, ref T y, int xRow, int k, int n)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint v = (nuint)Vector512<T>.Count, un = (nuint)n;
        ref T y1 = ref Unsafe.Add(ref y, un);
        ref T y2 = ref Unsafe.Add(ref y, 2 * un);
        ref T y3 = ref Unsafe.Add(ref y, 3 * un);
        Vector512<T> a00 = Vector512.LoadUnsafe(ref y), a01 = Vector512.LoadUnsafe(ref y, v), a02 = Vector512.LoadUnsafe(ref y, 2 * v), a03 = Vector512.LoadUnsafe(ref y, 3 * v);
        Vector512<T> a10 = Vector512.LoadUnsafe(ref y1), a11 = Vector512.LoadUnsafe(ref y1, v), a12 = Vector512.LoadUnsafe(ref y1, 2 * v), a13 = Vector512.LoadUnsafe(ref y1, 3 * v);
        Vector512<T> a20 = Vector512.LoadUnsafe(ref y2), a21 = Vector512.LoadUnsafe(ref y2, v), a22 = Vector512.LoadUnsafe(ref y2, 2 * v), a23 = Vector512.LoadUnsafe(ref y2, 3 * v);
        Vector512<T> a30 = Vector512.LoadUnsafe(ref y3), a31 = Vector512.LoadUnsafe(ref y3, v), a32 = Vector512.LoadUnsafe(ref y3, 2 * v), a33 = Vector512.LoadUnsafe(ref y3, 3 * v);
        ref T x0 = ref Unsafe.Add(ref x, xRow);
        ref T x1 = ref Unsafe.Add(ref x0, k);
        ref T x2 = ref Unsafe.Add(ref x0, 2 * k);
        ref T x3 = ref Unsafe.Add(ref x0, 3 * k);
        for (int i = 0; i < k; i++)
        {
            ref T wRow = ref Unsafe.Add(ref w, (nuint)i * un);
            Vector512<T> w0 = Vector512.LoadUnsafe(ref wRow), w1 = Vector512.LoadUnsafe(ref wRow, v), w2 = Vector512.LoadUnsafe(ref wRow, 2 * v), w3 = Vector512.LoadUnsafe(ref wRow, 3 * v);
            Vector512<T> s = Vector512.Create(Unsafe.Add(ref x0, i)); // broadcast x[b, i]
            a00 += s * w0; // separate multiply and add (never fused), as the row axpy does
            a01 += s * w1;
            a02 += s * w2;
            a03 += s * w3;
            s = Vector512.Create(Unsafe.Add(ref x1, i));
            a10 += s * w0;
            a11 += s * w1;
            a12 += s * w2;
            a13 += s * w3;
            s = Vector512.Create(Unsafe.Add(ref x2, i));
            a20 += s * w0;
            a21 += s * w1;
            a22 += s * w2;
            a23 += s * w3;
            s = Vector512.Create(Unsafe.Add(ref x3, i));
            a30 += s * w0;
            a31 += s * w1;
            a32 += s * w2;
            a33 += s * w3;
        }

        a00.StoreUnsafe(ref y);
        a01.StoreUnsafe(ref y, v);
        a02.StoreUnsafe(ref y, 2 * v);
        a03.StoreUnsafe(ref y, 3 * v);
        a10.StoreUnsafe(ref y1);
        a11.StoreUnsafe(ref y1, v);
        a12.StoreUnsafe(ref y1, 2 * v);
        a13.StoreUnsafe(ref y1, 3 * v);
        a20.StoreUnsafe(ref y2);
        a21.StoreUnsafe(ref y2, v);
        a22.StoreUnsafe(ref y2, 2 * v);
        a23.StoreUnsafe(ref y2, 3 * v);
        a30.StoreUnsafe(ref y3);
        a31.StoreUnsafe(ref y3, v);
        a32.StoreUnsafe(ref y3, 2 * v);
        a33.StoreUnsafe(ref y3, 3 * v);
    }

    // [4, K] x [K, V] -> [4, V] added into y, written back only in the lanes set in mask.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Tile4x1<T>(ref T x, ref T w, ref T y, int xRow, int k, int n, Vector512<T> mask)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        nuint un = (nuint)n;
        ref T y1 = ref Unsafe.Add(ref y, un);
        ref T y2 = ref Unsafe.Add(ref y, 2 * un);
        ref T y3 = ref Unsafe.Add(ref y, 3 * un);
        Vector512<T> a0 = Vector512.LoadUnsafe(ref y), a1 = Vector512.LoadUnsafe(ref y1), a2 = Vector512.LoadUnsafe(ref y2), a3 = Vector512.LoadUnsafe(ref y3);
        ref T x0 = ref Unsafe.Add(ref x, xRow);
        ref T x1 = ref Unsafe.Add(ref x0, k);
        ref T x2 = ref Unsafe.Add(ref x0, 2 * k);
        ref T x3 = ref Unsafe.Add(ref x0, 3 * k);
        for (int i = 0; i < k; i++)
        {
            Vector512<T> wv = Vector512.LoadUnsafe(ref w, (nuint)i * un);
            a0 += Vector512.Create(Unsafe.Add(ref x0, i)) * wv;
            a1 += Vector512.Create(Unsafe.Add(ref x1, i)) * wv;
            a2 += Vector512.Create(Unsafe.Add(ref x2, i)) * wv;
            a3 += Vector512.Create(Unsafe.Add(ref x3, i)) * wv;
        }

        Vector512.ConditionalSelect(mask, a0, Vector512.LoadUnsafe(ref y)).StoreUnsafe(ref y);
        Vector512.ConditionalSelect(mask, a1, Vector512.LoadUnsafe(ref y1)).StoreUnsafe(ref y1);
        Vector512.ConditionalSelect(mask, a2, Vector512.LoadUnsafe(ref y2)).StoreUnsafe(ref y2);
        Vector512.ConditionalSelect(mask, a3, Vector512.LoadUnsafe(ref y3)).StoreUnsafe(ref y3);
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
