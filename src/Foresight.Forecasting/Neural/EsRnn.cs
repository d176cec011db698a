using System.Numerics;
using System.Numerics.Tensors;

namespace Foresight.Forecasting.Neural;

/// <summary>
/// The ES-hybrid network (Smyl 2020, the M4 winner) on log-scale working values z: per series, additive Holt-Winters
/// smoothing of z (multiplicative on the original scale) with its own α, γ and initial seasonal indices, all learned by
/// backprop together with a shared recurrent stack and quantile head.
/// <code>
/// s[j] = c[j] (j &lt; m);  l[0] = z[0] - s[0]
/// l[t] = α (z[t] - s[t]) + (1 - α) l[t-1]                 // level, t ≥ 1
/// s[t+m] = γ (z[t] - l[t]) + (1 - γ) s[t]                 // seasonal index, t ≥ 0
/// x[t] = [z[t-W+1..t] - s[t-W+1..t] - l[t], l[t]]          // deseasonalised, level-free window (0 before the start)
/// ŷ[t, k, τ] = l[t] + s[t + 1 + (k-1) mod m] + head(h[t])[k, τ]
/// </code>
/// with α = σ(a), γ = σ(g). The head reads the top layer's h, plus the layer below's with <c>residual</c> (a residual
/// stack, Smyl's residual LSTM). The loss is the mean pinball loss over every counted (t, k, τ) plus a level
/// variability penalty λ·mean((Δl[t] - Δl[t-1])²), which keeps the level smooth so the network models the season and
/// the noise. Per-series parameters are one row of <see cref="EsWidth"/> values: a, g, c[0..m-1].
/// </summary>
public sealed class EsRnn<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public EsRnn(CellKind kind, int window, int hiddenSize, int layers, bool residual, int horizon, int season, IReadOnlyList<double> levels, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        if (residual && layers < 2)
        {
            throw new ArgumentException("A residual stack needs at least two layers.", nameof(residual));
        }

        var rng = new SplitMix64(seed);
        Window = window;
        Season = season;
        Residual = residual;
        Stack = new RecurrentStack<T>(kind, window + 1, hiddenSize, layers, rng);
        Head = new QuantileHead<T>(hiddenSize, horizon, levels.Count, rng);
        Levels = levels.Select(l => T.CreateChecked(l)).ToArray();
        Parameters = Stack.Parameters.Concat(Head.Parameters).ToArray();
    }

    /// <summary>W: past deseasonalised values per input.</summary>
    public int Window { get; }

    /// <summary>m: steps per season.</summary>
    public int Season { get; }

    public bool Residual { get; }

    public RecurrentStack<T> Stack { get; }

    public QuantileHead<T> Head { get; }

    public T[] Levels { get; }

    public int Horizon => Head.Horizon;

    public int HiddenSize => Stack.HiddenSize;

    /// <summary>Shared network parameters (stack, then head).</summary>
    public IReadOnlyList<Parameter<T>> Parameters { get; }

    /// <summary>Per-series parameter values: logit α, logit γ, m initial seasonal indices (log scale).</summary>
    public int EsWidth => 2 + Season;

    /// <summary>
    /// The head's input for one streaming state (<c>[L][S, 1, H]</c>): the top layer's h, plus the one below with a
    /// residual stack. <c>[H]</c>
    /// </summary>
    public void HeadInput(ReadOnlySpan<T> state, Span<T> input)
    {
        int block = Stack.StateBlocks * HiddenSize, top = Stack.Layers.Count - 1;
        state.Slice(top * block, HiddenSize).CopyTo(input);
        if (Residual)
        {
            TensorPrimitives.Add(input, state.Slice((top - 1) * block, HiddenSize), input); // [H] + [H]
        }
    }

    /// <summary>
    /// Forward (and with <paramref name="grads"/> backward) over one batch of series, left-aligned from their first
    /// value with a zero recurrent state. Row b runs <c>batch.Steps[b]</c> steps; the loss counts origins t in
    /// <c>[From[b], Steps[b])</c> and targets z[t + k] with <c>t + k &lt; TargetEnd[b]</c>. Returns the mean pinball loss
    /// plus <paramref name="levelPenalty"/> times the mean squared change of the level's step. The ES rows are
    /// <c>es[Rows[b]·EsWidth ..]</c>; their gradients are added at the same offsets in <paramref name="esGrads"/>.
    /// </summary>
    public T Loss(EsWorkspace<T> work, EsBatch<T> batch, ReadOnlySpan<T> es, T levelPenalty, Gradients<T>? grads, Span<T> esGrads)
    {
        int rows = batch.Count, m = Season, w = Window, inputSize = w + 1, h = HiddenSize, k = Horizon, q = Levels.Length, ko = k * q;
        int steps = 0;
        for (int b = 0; b < rows; b++)
        {
            steps = Math.Max(steps, batch.Steps[b]);
        }

        SequenceTape<T> tape = work.Tape;
        tape.SetBatch(rows);
        for (int l = 0; l < Stack.Layers.Count; l++)
        {
            tape.State(l, 0).Clear();
        }

        // ES forward per row, then the inputs x[t, b] = [z - s - l[t] over the window, l[t]].
        long counted = 0, penaltyTerms = 0;
        for (int b = 0; b < rows; b++)
        {
            EsForward(batch.Z[b], batch.Steps[b], es.Slice(batch.Rows[b] * EsWidth, EsWidth), work.Level[b], work.Seasonal[b]);
            for (int t = batch.From[b]; t < batch.Steps[b]; t++)
            {
                counted += Math.Max(0, Math.Min(k, batch.TargetEnd[b] - 1 - t));
            }

            penaltyTerms += Math.Max(0, batch.Steps[b] - 2);
        }

        for (int t = 0; t < steps; t++)
        {
            Span<T> x = tape.Input(t); // [B, W + 1]
            x.Clear();
            for (int b = 0; b < rows; b++)
            {
                if (t >= batch.Steps[b])
                {
                    continue; // past this row's end: its state no longer matters
                }

                T[] z = batch.Z[b], lv = work.Level[b], s = work.Seasonal[b];
                Span<T> xb = x.Slice(b * inputSize, inputSize);
                for (int j = 0; j < w; j++)
                {
                    int tau = t - w + 1 + j;
                    xb[j] = tau >= 0 ? z[tau] - s[tau] - lv[t] : T.Zero;
                }

                xb[w] = lv[t];
            }
        }

        Stack.ForwardSequence(tape, rows, steps);

        T weight = counted > 0 ? T.One / T.CreateChecked(counted * q) : T.Zero;
        T penaltyWeight = penaltyTerms > 0 ? levelPenalty / T.CreateChecked(penaltyTerms) : T.Zero;
        bool backward = grads is not null;
        Span<T> dTop = work.DTop.AsSpan(0, steps * rows * h);
        dTop.Clear();
        for (int b = 0; b < rows; b++)
        {
            Array.Clear(work.DLevel[b]);
            Array.Clear(work.DSeasonal[b]);
        }

        Span<T> headIn = work.HeadIn.AsSpan(0, rows * h), output = work.Output.AsSpan(0, rows * ko), dOut = work.DOutput.AsSpan(0, rows * ko);
        int headOffset = Stack.Parameters.Count;
        T loss = T.Zero;
        for (int t = 0; t < steps; t++)
        {
            bool any = false;
            for (int b = 0; b < rows && !any; b++)
            {
                any = t >= batch.From[b] && t < batch.Steps[b] && t + 1 < batch.TargetEnd[b];
            }

            if (!any)
            {
                continue;
            }

            HeadInputs(tape, rows, t, headIn);
            Head.Forward(rows, headIn, output); // [B, H] -> [B, K·Q]
            dOut.Clear();
            for (int b = 0; b < rows; b++)
            {
                if (t < batch.From[b] || t >= batch.Steps[b])
                {
                    continue;
                }

                T[] z = batch.Z[b], lv = work.Level[b], s = work.Seasonal[b], gl = work.DLevel[b], gs = work.DSeasonal[b];
                int last = Math.Min(k, batch.TargetEnd[b] - 1 - t);
                for (int j = 0; j < last; j++)
                {
                    int si = t + 1 + (j % m); // s[t + 1 + (k - 1) mod m], k = j + 1
                    T baseline = lv[t] + s[si], sum = T.Zero;
                    for (int l = 0; l < q; l++)
                    {
                        int o = (b * ko) + (j * q) + l;
                        loss += PinballLoss.Accumulate(baseline + output[o], z[t + 1 + j], Levels[l], weight, out T dp);
                        dOut[o] = dp;
                        sum += dp;
                    }

                    gl[t] += sum;
                    gs[si] += sum;
                }
            }

            if (backward)
            {
                Head.Backward(rows, headIn, dOut, dTop.Slice(t * rows * h, rows * h), h, grads!, headOffset); // -> dh [B, H]
            }
        }

        // Level variability: λ · mean over t ≥ 2 of ((l[t] - l[t-1]) - (l[t-1] - l[t-2]))².
        for (int b = 0; b < rows && penaltyWeight != T.Zero; b++)
        {
            T[] lv = work.Level[b], gl = work.DLevel[b];
            for (int t = 2; t < batch.Steps[b]; t++)
            {
                T d = lv[t] - (T.CreateChecked(2) * lv[t - 1]) + lv[t - 2];
                loss += penaltyWeight * d * d;
                T g = T.CreateChecked(2) * penaltyWeight * d;
                gl[t] += g;
                gl[t - 1] -= T.CreateChecked(2) * g;
                gl[t - 2] += g;
            }
        }

        if (!backward)
        {
            return loss;
        }

        Span<T> dInput = work.DInput.AsSpan(0, steps * rows * inputSize);
        BackwardSequence(tape, rows, steps, dTop, dInput, grads!);

        // Through the inputs: x[j] = z[τ] - s[τ] - l[t], x[W] = l[t].
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < rows; b++)
            {
                if (t >= batch.Steps[b])
                {
                    continue;
                }

                ReadOnlySpan<T> dx = dInput.Slice(((t * rows) + b) * inputSize, inputSize);
                T[] gl = work.DLevel[b], gs = work.DSeasonal[b];
                T sum = T.Zero;
                for (int j = 0; j < w; j++)
                {
                    int tau = t - w + 1 + j;
                    if (tau >= 0)
                    {
                        gs[tau] -= dx[j];
                        sum += dx[j];
                    }
                }

                gl[t] += dx[w] - sum;
            }
        }

        for (int b = 0; b < rows; b++)
        {
            int at = batch.Rows[b] * EsWidth;
            EsBackward(batch.Z[b], batch.Steps[b], es.Slice(at, EsWidth), work.Level[b], work.Seasonal[b], work.DLevel[b], work.DSeasonal[b], esGrads.Slice(at, EsWidth));
        }

        return loss;
    }

    /// <summary>Runs the smoothing over z[0..n): fills <paramref name="level"/> [n] and <paramref name="seasonal"/> [n + m].</summary>
    public void EsForward(ReadOnlySpan<T> z, int n, ReadOnlySpan<T> row, Span<T> level, Span<T> seasonal)
    {
        int m = Season;
        T alpha = Sigmoid(row[0]), gamma = Sigmoid(row[1]);
        row.Slice(2, m).CopyTo(seasonal);
        for (int t = 0; t < n; t++)
        {
            level[t] = t == 0 ? z[0] - seasonal[0] : (alpha * (z[t] - seasonal[t])) + ((T.One - alpha) * level[t - 1]);
            seasonal[t + m] = (gamma * (z[t] - level[t])) + ((T.One - gamma) * seasonal[t]);
        }
    }

    /// <summary>
    /// Reverse mode through <see cref="EsForward"/>: <paramref name="dLevel"/> and <paramref name="dSeasonal"/> hold the
    /// direct gradients (consumed in place); adds d/d(a, g, c) into <paramref name="dRow"/>.
    /// </summary>
    public void EsBackward(ReadOnlySpan<T> z, int n, ReadOnlySpan<T> row, ReadOnlySpan<T> level, ReadOnlySpan<T> seasonal,
        Span<T> dLevel, Span<T> dSeasonal, Span<T> dRow)
    {
        int m = Season;
        T alpha = Sigmoid(row[0]), gamma = Sigmoid(row[1]);
        T dAlpha = T.Zero, dGamma = T.Zero;
        for (int t = n - 1; t >= 0; t--)
        {
            // s[t+m] is complete: only later steps and the loss read it.
            T gsm = dSeasonal[t + m];
            dGamma += gsm * (z[t] - level[t] - seasonal[t]);
            dLevel[t] -= gamma * gsm;
            dSeasonal[t] += (T.One - gamma) * gsm;

            // l[t] is complete: s[t+m] (above) and l[t+1] (the previous iteration) were its only readers.
            T gl = dLevel[t];
            if (t == 0)
            {
                dSeasonal[0] -= gl;
            }
            else
            {
                dAlpha += gl * (z[t] - seasonal[t] - level[t - 1]);
                dSeasonal[t] -= alpha * gl;
                dLevel[t - 1] += (T.One - alpha) * gl;
            }
        }

        dRow[0] += dAlpha * alpha * (T.One - alpha); // dσ(a)/da
        dRow[1] += dGamma * gamma * (T.One - gamma);
        for (int j = 0; j < m; j++)
        {
            dRow[2 + j] += dSeasonal[j];
        }
    }

    public static T Sigmoid(T a) => T.One / (T.One + T.Exp(-a));

    private void HeadInputs(SequenceTape<T> tape, int rows, int t, Span<T> headIn)
    {
        int top = Stack.Layers.Count - 1;
        tape.Hidden(top, t + 1).CopyTo(headIn); // [B, H]
        if (Residual)
        {
            TensorPrimitives.Add(headIn, tape.Hidden(top - 1, t + 1), headIn); // [B, H] + [B, H]: the residual connection
        }
    }

    /// <summary>
    /// BPTT over the whole taped sequence, as <see cref="RecurrentStack{T}.BackwardSequence"/> but with the residual
    /// connection (the head's gradient also reaches the layer below the top) and the gradient of the inputs
    /// <paramref name="dInput"/> <c>[T, B, I]</c>, which the smoothing parameters need.
    /// </summary>
    private void BackwardSequence(SequenceTape<T> tape, int batch, int steps, ReadOnlySpan<T> dTop, Span<T> dInput, Gradients<T> grads)
    {
        int layers = Stack.Layers.Count, bh = batch * HiddenSize, block = batch * Stack.StateBlocks * HiddenSize, inputSize = Stack.InputSize;
        T[][] dNext = tape.DNext, dPrev = tape.DPrev;
        foreach (T[] d in dNext)
        {
            Array.Clear(d, 0, block);
        }

        Span<T> dBelow = tape.DBelow.AsSpan(0, bh);
        var offsets = new int[layers];
        for (int l = 1; l < layers; l++)
        {
            offsets[l] = offsets[l - 1] + Stack.Layers[l - 1].Parameters.Count;
        }

        for (int t = steps - 1; t >= 0; t--)
        {
            ReadOnlySpan<T> dTopT = dTop.Slice(t * bh, bh);
            for (int l = layers - 1; l >= 0; l--)
            {
                Span<T> dn = dNext[l].AsSpan(0, block);
                TensorPrimitives.Add(dn[..bh], l == layers - 1 ? dTopT : dBelow, dn[..bh]); // [B, H] + [B, H]
                if (Residual && l == layers - 2)
                {
                    TensorPrimitives.Add(dn[..bh], dTopT, dn[..bh]); // the skip from this layer to the head
                }

                ReadOnlySpan<T> input = l == 0 ? tape.Input(t) : tape.Hidden(l - 1, t + 1);
                Span<T> dx = l == 0 ? dInput.Slice(t * batch * inputSize, batch * inputSize) : dBelow;
                dx.Clear();
                ReadOnlySpan<T[]> layerGrads = grads.Buffers.AsSpan(offsets[l], Stack.Layers[l].Parameters.Count);
                Stack.Layers[l].Backward(batch, input, tape.State(l, t), tape.Cache(l, t), dn, dPrev[l].AsSpan(0, block), dx, layerGrads, tape.Scratch);
                (dNext[l], dPrev[l]) = (dPrev[l], dNext[l]);
            }
        }
    }
}

/// <summary>One batch of series for <see cref="EsRnn{T}.Loss"/>: working values and which origins and targets count.</summary>
public sealed class EsBatch<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public EsBatch(int maxBatch)
    {
        Z = new T[maxBatch][];
        Rows = new int[maxBatch];
        Steps = new int[maxBatch];
        From = new int[maxBatch];
        TargetEnd = new int[maxBatch];
    }

    public int Count { get; set; }

    /// <summary>Working values of each row's series (at least <see cref="TargetEnd"/> long).</summary>
    public T[][] Z { get; }

    /// <summary>The series' row in the per-series parameters.</summary>
    public int[] Rows { get; }

    /// <summary>Steps the network runs (values it reads): z[0..Steps).</summary>
    public int[] Steps { get; }

    /// <summary>First origin whose loss counts.</summary>
    public int[] From { get; }

    /// <summary>Targets z[t + k] count while t + k &lt; TargetEnd.</summary>
    public int[] TargetEnd { get; }

    public void Set(int b, T[] z, int row, int steps, int from, int targetEnd)
    {
        (Z[b], Rows[b], Steps[b], From[b], TargetEnd[b]) = (z, row, steps, from, targetEnd);
    }
}

/// <summary>Buffers of <see cref="EsRnn{T}.Loss"/> for batches of up to <c>maxBatch</c> series of up to <c>maxSteps</c> steps.</summary>
public sealed class EsWorkspace<T>
    where T : unmanaged, IFloatingPointIeee754<T>
{
    public EsWorkspace(EsRnn<T> network, int maxBatch, int maxSteps)
    {
        int m = network.Season, h = network.HiddenSize, ko = network.Head.OutputSize;
        Tape = new SequenceTape<T>(network.Stack, maxBatch, maxSteps);
        Level = Enumerable.Range(0, maxBatch).Select(_ => new T[maxSteps]).ToArray();
        Seasonal = Enumerable.Range(0, maxBatch).Select(_ => new T[maxSteps + m]).ToArray();
        DLevel = Enumerable.Range(0, maxBatch).Select(_ => new T[maxSteps]).ToArray();
        DSeasonal = Enumerable.Range(0, maxBatch).Select(_ => new T[maxSteps + m]).ToArray();
        DTop = new T[maxSteps * maxBatch * h];
        DInput = new T[maxSteps * maxBatch * network.Stack.InputSize];
        HeadIn = new T[maxBatch * h];
        Output = new T[maxBatch * ko];
        DOutput = new T[maxBatch * ko];
        MaxSteps = maxSteps;
    }

    public int MaxSteps { get; }

    internal SequenceTape<T> Tape { get; }

    internal T[][] Level { get; }

    internal T[][] Seasonal { get; }

    internal T[][] DLevel { get; }

    internal T[][] DSeasonal { get; }

    internal T[] DTop { get; }

    internal T[] DInput { get; }

    internal T[] HeadIn { get; }

    internal T[] Output { get; }

    internal T[] DOutput { get; }
}
