using Foresight.Core;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Tests;

/// <summary>
/// The ES-hybrid model: finite-difference checks of every gradient (the per-series smoothing parameters through the
/// Holt-Winters recursion, the stack with its residual skip and input gradient, the head), in double precision with
/// the tolerances of <see cref="NeuralGradientTests"/>; then the forecaster's behaviour.
/// </summary>
public sealed class EsRnnTests
{
    private const double Eps = 1e-5;
    private const double RelTol = 1e-6;
    private const double AbsTol = 1e-8;

    private static EsRnnOptions Small => new()
    {
        HiddenSize = 8, Layers = 2, Horizon = 24, BatchSize = 4, MaxEpochs = 3, Patience = 1, Seed = 5,
    };

    public static TheoryData<CellKind, int, bool> Cases => new()
    {
        { CellKind.Lstm, 2, true }, { CellKind.Lstm, 1, false }, { CellKind.Gru, 2, true }, { CellKind.Gru, 3, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_gradient_matches_finite_differences(CellKind kind, int layers, bool residual)
    {
        const int window = 3, hidden = 4, horizon = 3, season = 4, series = 3;
        var net = new EsRnn<double>(kind, window, hidden, layers, residual, horizon, season, [0.1, 0.5, 0.9], seed: 7);
        var rng = new SplitMix64(99);
        foreach (Parameter<double> p in net.Head.Parameters)
        {
            Tensor.FillUniform<double>(p.Value, 0.5, rng); // away from zero, so the stack's gradients are not tiny
        }

        // Per-series rows: logits of α and γ around 0 (α, γ near 0.5) and seasonal indices in ±0.5.
        var es = new double[series * net.EsWidth];
        Tensor.FillUniform<double>(es, 0.5, rng);
        double[][] z = [Values(15, rng), Values(12, rng), Values(14, rng)];

        // Rows in the batch out of order, with different lengths, origins and target ends (one a validation origin).
        var batch = new EsBatch<double>(3) { Count = 3 };
        batch.Set(0, z[2], 2, 13, 5, 14);
        batch.Set(1, z[0], 0, 10, 9, 15);
        batch.Set(2, z[1], 1, 11, 4, 12);
        var work = new EsWorkspace<double>(net, 3, 15);
        double Loss(Gradients<double>? g, double[] esGrad) => net.Loss(work, batch, es, 0.7, g, esGrad);

        var grads = new Gradients<double>(net.Parameters);
        var esGrads = new double[es.Length];
        double loss = Loss(grads, esGrads);
        Assert.True(loss > 0);
        for (int p = 0; p < net.Parameters.Count; p++)
        {
            Check(net.Parameters[p].Value, grads[p], net.Parameters[p].Name);
        }

        Check(es, esGrads, "es");
        for (int s = 0; s < series; s++)
        {
            // α, γ and every initial seasonal index reach the loss.
            Assert.All(esGrads.AsSpan(s * net.EsWidth, net.EsWidth).ToArray(), v => Assert.NotEqual(0, v));
        }

        void Check(double[] values, double[] analytic, string name)
        {
            for (int i = 0; i < values.Length; i++)
            {
                double saved = values[i];
                values[i] = saved + Eps;
                double up = Loss(null, []);
                values[i] = saved - Eps;
                double down = Loss(null, []);
                values[i] = saved;
                double numeric = (up - down) / (2 * Eps);
                double error = Math.Abs(numeric - analytic[i]);
                Assert.True(
                    error <= AbsTol + (RelTol * Math.Max(Math.Abs(numeric), Math.Abs(analytic[i]))),
                    $"{kind} x{layers} residual={residual} {name}[{i}]: analytic {analytic[i]:G10}, numeric {numeric:G10}");
            }

            Assert.True(analytic.Any(v => v != 0), $"{name} has an all-zero gradient");
        }
    }

    [Fact]
    public void The_smoothing_recursion_is_holt_winters_on_the_working_values()
    {
        var net = new EsRnn<double>(CellKind.Lstm, 2, 4, 2, true, 3, 2, [0.5], seed: 1);
        double a = 0.3, g = 0.2;
        double[] row = [Math.Log(a / (1 - a)), Math.Log(g / (1 - g)), 0.4, -0.4];
        double[] z = [1.0, 2.0, 1.5, 2.5, 1.2];
        var level = new double[z.Length];
        var seasonal = new double[z.Length + 2];
        net.EsForward(z, z.Length, row, level, seasonal);

        // By hand: l0 = z0 - s0; l_t = a(z_t - s_t) + (1-a) l_{t-1}; s_{t+2} = g(z_t - l_t) + (1-g) s_t.
        double[] s = [0.4, -0.4, 0, 0, 0, 0, 0];
        double l = 0;
        for (int t = 0; t < z.Length; t++)
        {
            l = t == 0 ? z[0] - s[0] : (a * (z[t] - s[t])) + ((1 - a) * l);
            s[t + 2] = (g * (z[t] - l)) + ((1 - g) * s[t]);
            Assert.Equal(l, level[t], 12);
        }

        Assert.Equal(s, seasonal, (x, y) => Math.Abs(x - y) < 1e-12);
    }

    [Fact]
    public void Beats_seasonal_naive_on_noisy_multiplicative_seasonal_series()
    {
        // Eight series with a daily multiplicative cycle, a trend and noise: seasonal naive copies yesterday's noise,
        // the smoothed level and season do not.
        SeriesSet all = BaselineTests.Hourly(Enumerable.Range(0, 8)
            .Select(i => BaselineTests.Seasonal(24 * 16, 40 + (15 * i), 0.03, 0.6, 3, 200 + i, multiplicative: true).Select(Math.Abs).ToArray()).ToArray());
        const int h = 24;
        SeriesSet train = all.DropLast(h);
        var model = new EsRnnForecaster(Small with { MaxEpochs = 40, Patience = 6 });
        model.Fit(train);
        var naive = new SeasonalNaiveForecaster();
        naive.Fit(train);
        IReadOnlyList<Forecast> ours = model.Predict(h), theirs = naive.Predict(h);
        double ourError = 0, naiveError = 0;
        for (int i = 0; i < all.Count; i++)
        {
            ReadOnlySpan<double> actual = all[i].Values.AsSpan(all[i].Length - h);
            double[] a = ours[i].Quantile(0.5), b = theirs[i].Quantile(0.5);
            for (int j = 0; j < h; j++)
            {
                ourError += Math.Abs(actual[j] - a[j]);
                naiveError += Math.Abs(actual[j] - b[j]);
            }
        }

        Assert.True(model.LastTraining!.ValidationLoss[^1] < model.LastTraining.ValidationLoss[0] || model.LastTraining.Epochs < 40);
        Assert.True(ourError < 0.85 * naiveError, $"ES-RNN MAE {ourError / (h * all.Count):F3}, seasonal naive {naiveError / (h * all.Count):F3}");
        (double alpha, double gamma, double[] season) = model.Smoothing("s0");
        Assert.InRange(alpha, 0, 1);
        Assert.InRange(gamma, 0, 1);
        Assert.Equal(24, season.Length);
    }

    [Fact]
    public void Streaming_in_pieces_equals_fitting_the_state_at_once_and_save_load_round_trips()
    {
        SeriesSet all = BaselineTests.Hourly(
            BaselineTests.Seasonal(24 * 10, 60, 0.02, 0.4, 2, 1, multiplicative: true).Select(Math.Abs).ToArray(),
            BaselineTests.Seasonal(24 * 10, 20, -0.01, 0.3, 1, 2, multiplicative: true).Select(Math.Abs).ToArray());
        SeriesSet head = all.DropLast(10);
        var model = new EsRnnForecaster(Small);
        model.Fit(head);
        Forecast before = model.Predict(12)[0];

        using var stream = new MemoryStream();
        model.Save(stream);
        stream.Position = 0;
        IForecaster loaded = ForecasterFile.Load(stream);
        Assert.Equal("es-lstm", loaded.Name);
        Assert.Equal(model.Predict(24), loaded.Predict(24));

        // Ten observations in one Update, or as 3 + 7, give the same state.
        model.Update(all.With(all.Series.Select(s => all.Slice(s, s.Length - 10, 10)).ToArray()));
        loaded.Update(all.With(all.Series.Select(s => all.Slice(s, s.Length - 10, 3)).ToArray()));
        loaded.Update(all.With(all.Series.Select(s => all.Slice(s, s.Length - 7, 7)).ToArray()));
        Forecast after = model.Predict(12)[0];
        Assert.Equal(before.Start.AddHours(10), after.Start);
        Assert.Equal(Forecast.DefaultLevels, after.Levels);
        Assert.Equal(model.Predict(12), loaded.Predict(12));
        Assert.NotEqual(before.Quantile(0.5), after.Quantile(0.5));
        Assert.All(after.Values.SelectMany(v => v), v => Assert.True(v >= 0 && double.IsFinite(v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Predict(25));
    }

    [Fact]
    public void Same_seed_gives_the_same_model_and_a_residual_stack_needs_two_layers()
    {
        SeriesSet data = BaselineTests.Hourly(BaselineTests.Seasonal(24 * 8, 50, 0.01, 0.5, 2, 3, multiplicative: true).Select(Math.Abs).ToArray());
        var a = new EsRnnForecaster(Small);
        var b = new EsRnnForecaster(Small);
        a.Fit(data);
        b.Fit(data);
        Assert.Equal(a.Predict(24), b.Predict(24));
        Assert.Throws<ArgumentException>(() => new EsRnnForecaster(Small with { Layers = 1 }));
        Assert.Throws<ArgumentException>(() => new EsRnnForecaster(Small with { LogShift = 0 }));
    }

    [Fact]
    public void Input_seasons_widen_the_window_to_whole_seasons_and_its_warm_up()
    {
        // 9 days: enough for a one-day window (24 + 2·24 + 1 values), not for a week (168 + 2·24 + 1 = 217 > 216).
        SeriesSet data = BaselineTests.Hourly(BaselineTests.Seasonal(24 * 9, 50, 0.01, 0.5, 2, 3, multiplicative: true).Select(Math.Abs).ToArray());
        new EsRnnForecaster(Small with { MaxEpochs = 1 }).Fit(data);
        var week = new EsRnnForecaster(Small with { MaxEpochs = 1, InputSeasons = 7 });
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => week.Fit(data));
        Assert.Contains("needs at least 217 (warm-up 168", e.Message, StringComparison.Ordinal);

        SeriesSet longer = BaselineTests.Hourly(BaselineTests.Seasonal(24 * 10, 50, 0.01, 0.5, 2, 3, multiplicative: true).Select(Math.Abs).ToArray());
        week.Fit(longer);
        using var stream = new MemoryStream();
        week.Save(stream);
        stream.Position = 0;
        Assert.Equal(week.Predict(24), ForecasterFile.Load(stream).Predict(24)); // the window is part of the file
        Assert.Throws<ArgumentException>(() => new EsRnnForecaster(Small with { InputSeasons = 0 }));
    }

    private static double[] Values(int n, SplitMix64 rng)
    {
        var z = new double[n];
        for (int t = 0; t < n; t++)
        {
            z[t] = Math.Sin(2 * Math.PI * t / 4) + (0.3 * rng.NextGaussian());
        }

        return z;
    }
}
