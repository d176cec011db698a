using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Tests;

/// <summary>
/// Finite-difference checks of every parameter tensor of every layer and of the head. The kernels are generic, so the
/// check runs the very same code in double precision. Central differences with ε = 1e-5 have truncation error
/// O(ε²·f''') ≈ 1e-10 and rounding error ≈ |L|·1e-16/ε ≈ 1e-10 (the loss here is O(1..10)), so we accept
/// |analytic - numeric| ≤ 1e-8 + 1e-6·|gradient|: two orders of margin, and still any wrong term (a missing factor,
/// a shifted index) moves a gradient by far more. In float the rounding error alone (≈ |L|·1e-7/ε) would force
/// tolerances near 1e-2, too loose to be a real check.
/// </summary>
public sealed class NeuralGradientTests
{
    private const double Eps = 1e-5;
    private const double RelTol = 1e-6;
    private const double AbsTol = 1e-8;

    public static TheoryData<CellKind, int> Cases => new() { { CellKind.Lstm, 1 }, { CellKind.Lstm, 2 }, { CellKind.Gru, 1 }, { CellKind.Gru, 2 } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_parameter_gradient_matches_finite_differences(CellKind kind, int layers)
    {
        const int inputs = 3, hidden = 4, highway = 2, horizon = 3, batch = 2, steps = 5;
        double[] levels = [0.1, 0.5, 0.9];
        var net = new QuantileRnn<double>(kind, inputs, hidden, layers, highway, horizon, levels, seed: 7);
        // Put the head away from zero so the hidden-state gradients are not trivially small.
        var rng = new SplitMix64(99);
        foreach (Parameter<double> p in net.Head.Parameters)
        {
            Tensor.FillUniform<double>(p.Value, 0.5, rng);
        }

        var tape = new SequenceTape<double>(net.Stack, batch, steps);
        var window = new WindowBatch<double>(net, batch, steps);
        tape.SetBatch(batch);
        window.SetBatch(batch);
        for (int l = 0; l < layers; l++)
        {
            Tensor.FillUniform<double>(tape.State(l, 0), 0.5, rng); // non-zero initial state (carried from a previous chunk)
        }

        for (int t = 0; t < steps; t++)
        {
            Tensor.FillUniform<double>(tape.Input(t), 1.0, rng);
            Tensor.FillUniform<double>(window.Extra(t), 1.0, rng);
            Tensor.FillUniform<double>(window.Base(t), 1.0, rng);
            Tensor.FillUniform<double>(window.Target(t), 2.0, rng);
            Span<double> w = window.Weight(t);
            for (int i = 0; i < w.Length; i++)
            {
                w[i] = t == 0 && i == 0 ? 0 : 0.1 + rng.NextDouble(); // one masked entry, the rest weighted
            }
        }

        double[][] initial = Enumerable.Range(0, layers).Select(l => tape.State(l, 0).ToArray()).ToArray();
        double Loss(Gradients<double>? g)
        {
            for (int l = 0; l < layers; l++)
            {
                initial[l].CopyTo(tape.State(l, 0));
            }

            return net.Loss(tape, window, batch, steps, g);
        }

        var grads = new Gradients<double>(net.Parameters);
        Loss(grads);
        Assert.Equal(net.Stack.Parameters.Count + 2, net.Parameters.Count);
        for (int p = 0; p < net.Parameters.Count; p++)
        {
            Parameter<double> param = net.Parameters[p];
            double worst = 0;
            for (int i = 0; i < param.Length; i++)
            {
                double saved = param.Value[i];
                param.Value[i] = saved + Eps;
                double up = Loss(null);
                param.Value[i] = saved - Eps;
                double down = Loss(null);
                param.Value[i] = saved;
                double numeric = (up - down) / (2 * Eps);
                double analytic = grads[p][i];
                double error = Math.Abs(numeric - analytic);
                Assert.True(
                    error <= AbsTol + (RelTol * Math.Max(Math.Abs(numeric), Math.Abs(analytic))),
                    $"{kind} x{layers} {param.Name}[{i}]: analytic {analytic:G10}, numeric {numeric:G10}");
                worst = Math.Max(worst, error);
            }

            Assert.True(grads[p].Any(v => v != 0), $"{param.Name} has an all-zero gradient");
        }
    }

    [Theory]
    [InlineData(CellKind.Lstm)]
    [InlineData(CellKind.Gru)]
    public void Streaming_steps_equal_the_full_window_forward(CellKind kind)
    {
        const int inputs = 3, hidden = 8, layers = 2, batch = 3, steps = 20;
        var stack = new RecurrentStack<float>(kind, inputs, hidden, layers, new SplitMix64(3));
        var tape = new SequenceTape<float>(stack, batch, steps);
        var rng = new SplitMix64(4);
        for (int t = 0; t < steps; t++)
        {
            Tensor.FillUniform<float>(tape.Input(t), 1f, rng);
        }

        stack.ForwardSequence(tape, batch, steps);
        var state = new float[stack.StatePerRow * batch];
        var scratch = new float[stack.ScratchLength(batch)];
        for (int t = 0; t < steps; t++)
        {
            stack.Step(batch, tape.Input(t), state, scratch); // one recurrent step per observation
            Assert.Equal(tape.Hidden(layers - 1, t + 1).ToArray(), stack.TopHidden(state, batch).ToArray());
        }
    }

    [Fact]
    public void Adam_minimises_a_quadratic_and_clips_the_gradient()
    {
        var p = new Parameter<float>("w", 1, 2);
        p.Value[0] = 5;
        p.Value[1] = -3;
        var adam = new Adam([p], learningRate: 0.1f, clipNorm: 1f);
        var g = new Gradients<float>([p]);
        for (int i = 0; i < 500; i++)
        {
            g[0][0] = 2 * (p.Value[0] - 1); // d/dw (w - 1)²
            g[0][1] = 2 * (p.Value[1] + 2);
            adam.Step(g);
        }

        Assert.Equal(1f, p.Value[0], 2);
        Assert.Equal(-2f, p.Value[1], 2);
        Assert.True(adam.LastGradientNorm < 0.1f);
    }

    [Fact]
    public void Same_seed_gives_the_same_network()
    {
        var a = new QuantileRnn<float>(CellKind.Lstm, 3, 8, 2, 4, 6, [0.1, 0.5, 0.9], 42);
        var b = new QuantileRnn<float>(CellKind.Lstm, 3, 8, 2, 4, 6, [0.1, 0.5, 0.9], 42);
        var c = new QuantileRnn<float>(CellKind.Lstm, 3, 8, 2, 4, 6, [0.1, 0.5, 0.9], 43);
        for (int i = 0; i < a.Parameters.Count; i++)
        {
            Assert.Equal(a.Parameters[i].Value, b.Parameters[i].Value);
        }

        Assert.NotEqual(a.Parameters[0].Value, c.Parameters[0].Value);
    }
}
