using System.Numerics;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// Stacked recurrent layers: layer 0 reads the inputs, layer l reads layer l-1's hidden output, and the top layer's
/// h is the stack's output. The full state of a batch is the layers' <c>[S, B, H]</c> blocks one after the other.
/// </summary>
public sealed class RecurrentStack<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public RecurrentStack(CellKind kind, int inputSize, int hiddenSize, int layers, SplitMix64 rng)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 1);
        Kind = kind;
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        var list = new IRecurrentLayer<T>[layers];
        for (int l = 0; l < layers; l++)
        {
            int input = l == 0 ? inputSize : hiddenSize;
            list[l] = kind == CellKind.Lstm
                ? new LstmLayer<T>(input, hiddenSize, rng, $"lstm{l}")
                : new GruLayer<T>(input, hiddenSize, rng, $"gru{l}");
        }

        Layers = list;
        Parameters = list.SelectMany(l => l.Parameters).ToArray();
    }

    public CellKind Kind { get; }

    public int InputSize { get; }

    public int HiddenSize { get; }

    public IReadOnlyList<IRecurrentLayer<T>> Layers { get; }

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    public int StateBlocks => Layers[0].StateBlocks;

    /// <summary>Values in the state of one batch row summed over layers: L·S·H.</summary>
    public int StatePerRow => Layers.Count * StateBlocks * HiddenSize;

    public int ScratchPerRow => Layers.Max(l => l.ScratchWidth);

    /// <summary>
    /// Streaming inference: one step for the batch, updating <paramref name="state"/> (<c>[L][S, B, H]</c>) in place.
    /// The top layer's new h <c>[B, H]</c> is the first B·H values of the last layer's block. Costs one recurrent step.
    /// </summary>
    /// <param name="scratch">At least <c>batch · (ScratchPerRow + StatePerRow / L)</c> values.</param>
    public void Step(int batch, ReadOnlySpan<T> x, Span<T> state, Span<T> scratch)
    {
        int block = batch * StateBlocks * HiddenSize;
        Span<T> next = scratch[..block];
        Span<T> work = scratch[block..];
        for (int l = 0; l < Layers.Count; l++)
        {
            Span<T> s = state.Slice(l * block, block);
            ReadOnlySpan<T> input = l == 0 ? x : state.Slice((l - 1) * block, batch * HiddenSize);
            Layers[l].Forward(batch, input, s, next, Span<T>.Empty, work);
            next.CopyTo(s);
        }
    }

    /// <summary>The top layer's h <c>[B, H]</c> inside a state laid out as for <see cref="Step"/>.</summary>
    public Span<T> TopHidden(Span<T> state, int batch) =>
        state.Slice((Layers.Count - 1) * batch * StateBlocks * HiddenSize, batch * HiddenSize);

    public int ScratchLength(int batch) => batch * (ScratchPerRow + (StateBlocks * HiddenSize));

    /// <summary>
    /// Forward over <paramref name="steps"/> steps, caching everything for <see cref="BackwardSequence"/>. The initial
    /// state must be in <see cref="SequenceTape{T}.State"/>(l, 0) and the inputs in <see cref="SequenceTape{T}.Input"/>(t).
    /// </summary>
    public void ForwardSequence(SequenceTape<T> tape, int batch, int steps)
    {
        for (int t = 0; t < steps; t++)
        {
            for (int l = 0; l < Layers.Count; l++)
            {
                ReadOnlySpan<T> input = l == 0 ? tape.Input(t) : tape.Hidden(l - 1, t + 1);
                Layers[l].Forward(batch, input, tape.State(l, t), tape.State(l, t + 1), tape.Cache(l, t), tape.Scratch);
            }
        }
    }

    /// <summary>
    /// Truncated BPTT over the taped window: <paramref name="dTop"/> <c>[T, B, H]</c> is dL/dh of the top layer per
    /// step; no gradient flows into the initial state (it is treated as a constant). Parameter gradients are added
    /// into <paramref name="grads"/> (same order as <see cref="Parameters"/>).
    /// </summary>
    public void BackwardSequence(SequenceTape<T> tape, int batch, int steps, ReadOnlySpan<T> dTop, Gradients<T> grads, int gradOffset = 0)
    {
        int bh = batch * HiddenSize;
        int block = batch * StateBlocks * HiddenSize;
        T[][] dNext = tape.DNext;
        T[][] dPrev = tape.DPrev;
        foreach (T[] d in dNext)
        {
            Array.Clear(d, 0, block);
        }

        Span<T> dBelow = tape.DBelow.AsSpan(0, bh);
        for (int t = steps - 1; t >= 0; t--)
        {
            for (int l = Layers.Count - 1; l >= 0; l--)
            {
                Span<T> dn = dNext[l].AsSpan(0, block);
                if (l == Layers.Count - 1)
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dn[..bh], dTop.Slice(t * bh, bh), dn[..bh]); // [B, H] + [B, H]
                }
                else
                {
                    System.Numerics.Tensors.TensorPrimitives.Add(dn[..bh], dBelow, dn[..bh]); // [B, H] + [B, H]
                }

                ReadOnlySpan<T> input = l == 0 ? tape.Input(t) : tape.Hidden(l - 1, t + 1);
                Span<T> dx = l == 0 ? Span<T>.Empty : dBelow;
                dx.Clear();
                int first = gradOffset + LayerParameterOffset(l);
                ReadOnlySpan<T[]> layerGrads = grads.Buffers.AsSpan(first, Layers[l].Parameters.Count);
                Layers[l].Backward(batch, input, tape.State(l, t), tape.Cache(l, t), dn, dPrev[l].AsSpan(0, block), dx, layerGrads, tape.Scratch);
                (dNext[l], dPrev[l]) = (dPrev[l], dNext[l]);
            }
        }
    }

    private int LayerParameterOffset(int layer)
    {
        int offset = 0;
        for (int l = 0; l < layer; l++)
        {
            offset += Layers[l].Parameters.Count;
        }

        return offset;
    }
}

/// <summary>Everything a BPTT window caches: inputs, the state of every layer at every step, and the per-step caches.</summary>
public sealed class SequenceTape<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _inputs;
    private readonly T[][] _states;
    private readonly T[][] _caches;
    private readonly int _maxBatch;
    private readonly int _inputSize;
    private readonly int _hidden;
    private readonly int _blocks;
    private readonly int[] _cacheWidth;
    private int _batch;

    public SequenceTape(RecurrentStack<T> stack, int maxBatch, int maxSteps)
    {
        _maxBatch = maxBatch;
        MaxSteps = maxSteps;
        _inputSize = stack.InputSize;
        _hidden = stack.HiddenSize;
        _blocks = stack.StateBlocks;
        int layers = stack.Layers.Count;
        _inputs = new T[maxSteps * maxBatch * _inputSize];
        _states = new T[layers][];
        _caches = new T[layers][];
        _cacheWidth = new int[layers];
        for (int l = 0; l < layers; l++)
        {
            _states[l] = new T[(maxSteps + 1) * maxBatch * _blocks * _hidden];
            _cacheWidth[l] = stack.Layers[l].CacheWidth;
            _caches[l] = new T[maxSteps * maxBatch * _cacheWidth[l]];
        }

        Scratch = new T[maxBatch * stack.ScratchPerRow];
        DNext = Enumerable.Range(0, layers).Select(_ => new T[maxBatch * _blocks * _hidden]).ToArray();
        DPrev = Enumerable.Range(0, layers).Select(_ => new T[maxBatch * _blocks * _hidden]).ToArray();
        DBelow = new T[maxBatch * _hidden];
        _batch = maxBatch;
    }

    public int MaxSteps { get; }

    public T[] Scratch { get; }

    internal T[][] DNext { get; }

    internal T[][] DPrev { get; }

    internal T[] DBelow { get; }

    /// <summary>Sets the batch size of the next window (all views below use it).</summary>
    public void SetBatch(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, _maxBatch);
        _batch = batch;
    }

    /// <summary>Input at step t: <c>[B, I]</c>.</summary>
    public Span<T> Input(int t) => _inputs.AsSpan(t * _batch * _inputSize, _batch * _inputSize);

    /// <summary>Layer l's state after t steps (t = 0 is the initial state): <c>[S, B, H]</c>.</summary>
    public Span<T> State(int l, int t) => _states[l].AsSpan(t * _batch * _blocks * _hidden, _batch * _blocks * _hidden);

    /// <summary>Layer l's hidden output after t steps: <c>[B, H]</c>.</summary>
    public Span<T> Hidden(int l, int t) => _states[l].AsSpan(t * _batch * _blocks * _hidden, _batch * _hidden);

    public Span<T> Cache(int l, int t) => _caches[l].AsSpan(t * _batch * _cacheWidth[l], _batch * _cacheWidth[l]);
}
