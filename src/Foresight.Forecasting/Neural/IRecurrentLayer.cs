using System.Numerics;

namespace Foresight.Forecasting.Neural;

/// <summary>The recurrent cells we implement.</summary>
public enum CellKind
{
    Lstm,
    Gru,
}

/// <summary>
/// One recurrent layer: a single time step forward and its exact backward (one step of BPTT). Batch-major layouts:
/// input <c>[B, I]</c>; state <c>[S, B, H]</c> with the hidden output h as block 0 (LSTM: S = 2, h then c; GRU: S = 1);
/// per-step cache <c>[B, CacheWidth]</c>. Parameters are read only, so shards can run the same layer in parallel,
/// each with its own gradient buffers and scratch.
/// </summary>
public interface IRecurrentLayer<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    int InputSize { get; }

    int HiddenSize { get; }

    /// <summary>S: state blocks of <c>[B, H]</c> (LSTM 2, GRU 1).</summary>
    int StateBlocks { get; }

    /// <summary>Values cached per row per step for the backward pass.</summary>
    int CacheWidth { get; }

    /// <summary>Scratch values needed per row (forward without a cache, or backward).</summary>
    int ScratchWidth { get; }

    IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>One step: <paramref name="state"/> <c>[S, B, H]</c> and x <c>[B, I]</c> -> <paramref name="next"/> <c>[S, B, H]</c>.
    /// <paramref name="cache"/> <c>[B, CacheWidth]</c> may be empty (inference).</summary>
    void Forward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, Span<T> next, Span<T> cache, Span<T> scratch);

    /// <summary>
    /// Backward through one step. <paramref name="dNext"/> <c>[S, B, H]</c> is dL/d(next state); writes dL/d(state)
    /// into <paramref name="dState"/> (overwritten), adds dL/dx into <paramref name="dx"/> <c>[B, I]</c> (skipped when
    /// empty) and adds the parameter gradients into <paramref name="grads"/> (same order as <see cref="Parameters"/>).
    /// </summary>
    void Backward(int batch, ReadOnlySpan<T> x, ReadOnlySpan<T> state, ReadOnlySpan<T> cache, ReadOnlySpan<T> dNext,
        Span<T> dState, Span<T> dx, ReadOnlySpan<T[]> grads, Span<T> scratch);
}
