using System.Numerics;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// The forecasting network: a recurrent stack over the input features, and at each step a quantile head on
/// <c>[h_top, highway]</c> that predicts, for horizon steps k = 1..K and levels τ, an offset from a baseline:
/// <c>ŷ[k, τ] = base[k] + head[k, τ]</c> (in scaled units). The baseline is seasonal naive (or the last value), so an
/// untrained network already forecasts like seasonal naive and training learns the corrections.
/// </summary>
public sealed class QuantileRnn<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public QuantileRnn(CellKind kind, int inputSize, int hiddenSize, int layers, int highway, int horizon, IReadOnlyList<double> levels, ulong seed)
    {
        var rng = new SplitMix64(seed);
        Stack = new RecurrentStack<T>(kind, inputSize, hiddenSize, layers, rng);
        Head = new QuantileHead<T>(hiddenSize + highway, horizon, levels.Count, rng);
        Highway = highway;
        Levels = levels.Select(l => T.CreateChecked(l)).ToArray();
        Parameters = Stack.Parameters.Concat(Head.Parameters).ToArray();
    }

    public RecurrentStack<T> Stack { get; }

    public QuantileHead<T> Head { get; }

    /// <summary>E: highway inputs appended to the head's input.</summary>
    public int Highway { get; }

    public T[] Levels { get; }

    public int Horizon => Head.Horizon;

    public int HiddenSize => Stack.HiddenSize;

    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>
    /// Forward over the taped window and (when <paramref name="grads"/> is given) BPTT, for the weighted pinball loss
    /// <c>Σ_{t,b,k} w[t,b,k] · (1/Q) Σ_τ ρ_τ(y[t,b,k] - base[t,b,k] - head[t,b,k,τ])</c>. The initial states and inputs
    /// must already be on the tape. Returns the loss.
    /// </summary>
    public T Loss(SequenceTape<T> tape, WindowBatch<T> window, int batch, int steps, Gradients<T>? grads)
    {
        tape.SetBatch(batch);
        window.SetBatch(batch);
        Stack.ForwardSequence(tape, batch, steps);
        int h = HiddenSize, d = h + Highway, k = Horizon, q = Levels.Length, ko = k * q;
        Span<T> headIn = window.HeadInput;
        Span<T> output = window.Output;
        Span<T> dOut = window.DOutput;
        Span<T> dTop = window.DTop;
        dTop[..(steps * batch * h)].Clear();
        T qInv = T.One / T.CreateChecked(q);
        T loss = T.Zero;
        int headOffset = Stack.Parameters.Count;
        for (int t = 0; t < steps; t++)
        {
            ReadOnlySpan<T> wt = window.Weight(t);
            bool any = false;
            foreach (T w in wt)
            {
                if (w != T.Zero)
                {
                    any = true;
                    break;
                }
            }

            if (!any)
            {
                continue;
            }

            ReadOnlySpan<T> top = tape.Hidden(Stack.Layers.Count - 1, t + 1);
            ReadOnlySpan<T> extra = window.Extra(t);
            for (int b = 0; b < batch; b++)
            {
                top.Slice(b * h, h).CopyTo(headIn.Slice(b * d, h)); // [B, H] -> head input columns 0..H
                extra.Slice(b * Highway, Highway).CopyTo(headIn.Slice((b * d) + h, Highway)); // [B, E] -> columns H..H+E
            }

            Head.Forward(batch, headIn, output); // [B, D] -> [B, K·Q]
            ReadOnlySpan<T> baseT = window.Base(t), targetT = window.Target(t);
            for (int b = 0; b < batch; b++)
            {
                for (int j = 0; j < k; j++)
                {
                    T w = wt[(b * k) + j] * qInv;
                    for (int l = 0; l < q; l++)
                    {
                        int o = (b * ko) + (j * q) + l;
                        if (w == T.Zero)
                        {
                            dOut[o] = T.Zero;
                            continue;
                        }

                        T prediction = baseT[(b * k) + j] + output[o];
                        loss += PinballLoss.Accumulate(prediction, targetT[(b * k) + j], Levels[l], w, out T dp);
                        dOut[o] = dp;
                    }
                }
            }

            if (grads is not null)
            {
                Head.Backward(batch, headIn, dOut, dTop.Slice(t * batch * h, batch * h), h, grads, headOffset); // -> dh_top [B, H]
            }
        }

        if (grads is not null)
        {
            Stack.BackwardSequence(tape, batch, steps, dTop, grads);
        }

        return loss;
    }

    /// <summary>Head output for one streaming state: <c>[1, H + E] -> [K·Q]</c>, offsets from the baseline.</summary>
    public void PredictOffsets(ReadOnlySpan<T> topHidden, ReadOnlySpan<T> extra, Span<T> headInput, Span<T> output)
    {
        topHidden.CopyTo(headInput);
        extra.CopyTo(headInput[HiddenSize..]);
        Head.Forward(1, headInput, output);
    }
}

/// <summary>Per-window arrays the loss reads (extras, baselines, targets, weights) and the head's workspaces.</summary>
public sealed class WindowBatch<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    private readonly T[] _extra;
    private readonly T[] _base;
    private readonly T[] _target;
    private readonly T[] _weight;
    private readonly int _highway;
    private readonly int _horizon;
    private int _batch;

    public WindowBatch(QuantileRnn<T> network, int maxBatch, int maxSteps)
    {
        _highway = network.Highway;
        _horizon = network.Horizon;
        _extra = new T[maxSteps * maxBatch * _highway];
        _base = new T[maxSteps * maxBatch * _horizon];
        _target = new T[maxSteps * maxBatch * _horizon];
        _weight = new T[maxSteps * maxBatch * _horizon];
        int d = network.HiddenSize + _highway;
        HeadInputArray = new T[maxBatch * d];
        OutputArray = new T[maxBatch * network.Head.OutputSize];
        DOutputArray = new T[maxBatch * network.Head.OutputSize];
        DTopArray = new T[maxSteps * maxBatch * network.HiddenSize];
        _batch = maxBatch;
        MaxBatch = maxBatch;
    }

    public int MaxBatch { get; }

    internal T[] HeadInputArray { get; }

    internal T[] OutputArray { get; }

    internal T[] DOutputArray { get; }

    internal T[] DTopArray { get; }

    internal Span<T> HeadInput => HeadInputArray;

    internal Span<T> Output => OutputArray;

    internal Span<T> DOutput => DOutputArray;

    internal Span<T> DTop => DTopArray;

    public void SetBatch(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batch, MaxBatch);
        _batch = batch;
    }

    /// <summary>Highway inputs at step t: <c>[B, E]</c>.</summary>
    public Span<T> Extra(int t) => _extra.AsSpan(t * _batch * _highway, _batch * _highway);

    /// <summary>Baseline per future step at step t: <c>[B, K]</c>.</summary>
    public Span<T> Base(int t) => _base.AsSpan(t * _batch * _horizon, _batch * _horizon);

    /// <summary>Targets at step t: <c>[B, K]</c> (y[t + k], scaled).</summary>
    public Span<T> Target(int t) => _target.AsSpan(t * _batch * _horizon, _batch * _horizon);

    /// <summary>Loss weights at step t: <c>[B, K]</c> (0 where the target is missing or in warm-up).</summary>
    public Span<T> Weight(int t) => _weight.AsSpan(t * _batch * _horizon, _batch * _horizon);
}
