using Foresight.Core.Forecasts;
using Foresight.Forecasting.Baselines;
using Foresight.Forecasting.Ensembles;

namespace Foresight.Forecasting.Tests;

public sealed class EnsembleForecasterTests
{
    private static SeriesSet Data() => BaselineTests.Hourly(
        BaselineTests.Seasonal(24 * 10, 80, 0.05, 15, 3, 7),
        BaselineTests.Seasonal(24 * 10, 30, -0.01, 5, 1, 8));

    [Fact]
    public void Quantiles_are_the_members_quantiles_averaged_level_by_level()
    {
        SeriesSet data = Data();
        var a = new SeasonalNaiveForecaster();
        var b = new EtsForecaster();
        var ensemble = new EnsembleForecaster("snaive+ets", [a, b]);
        ensemble.Fit(data);
        IReadOnlyList<Forecast> fa = a.Predict(12), fb = b.Predict(12), fe = ensemble.Predict(12);
        for (int i = 0; i < fe.Count; i++)
        {
            Assert.Equal(fa[i].SeriesName, fe[i].SeriesName);
            Assert.Equal(fa[i].Start, fe[i].Start);
            foreach (double q in Forecast.DefaultLevels)
            {
                double[] qa = fa[i].Quantile(q), qb = fb[i].Quantile(q), qe = fe[i].Quantile(q);
                for (int j = 0; j < 12; j++)
                {
                    Assert.Equal((qa[j] + qb[j]) / 2, qe[j], 9);
                }
            }

            for (int j = 0; j < 12; j++)
            {
                Assert.Equal((fa[i].Mean[j] + fb[i].Mean[j]) / 2, fe[i].Mean[j], 9);
            }
        }
    }

    [Fact]
    public void Updates_reach_every_member_and_save_load_round_trips()
    {
        SeriesSet data = Data();
        var ensemble = new EnsembleForecaster("ets+ets", [new EtsForecaster(), new EtsForecaster(new EtsOptions { Seasonality = EtsSeasonality.Additive })]);
        ensemble.Fit(data.DropLast(5));
        using var stream = new MemoryStream();
        ensemble.Save(stream);
        stream.Position = 0;
        IForecaster loaded = ForecasterFile.Load(stream);
        Assert.Equal("ets+ets", loaded.Name);
        Assert.Equal(ensemble.Predict(12), loaded.Predict(12));

        DateTimeOffset before = ensemble.Predict(1)[0].Start;
        SeriesSet tail = data.With(data.Series.Select(s => data.Slice(s, s.Length - 5, 5)).ToArray());
        ensemble.Update(tail);
        loaded.Update(tail);
        Assert.Equal(before.AddHours(5), ensemble.Predict(1)[0].Start);
        Assert.All(ensemble.Members, m => Assert.Equal(before.AddHours(5), m.Predict(1)[0].Start));
        Assert.Equal(ensemble.Predict(12), loaded.Predict(12));
    }

    [Fact]
    public void Members_with_different_levels_are_refused()
    {
        var ensemble = new EnsembleForecaster("x", [
            new SeasonalNaiveForecaster(),
            new SeasonalNaiveForecaster(new SeasonalNaiveOptions { Levels = [0.05, 0.1, 0.5, 0.9, 0.95] })]);
        ensemble.Fit(Data());
        Assert.Throws<InvalidOperationException>(() => ensemble.Predict(3));
        Assert.Throws<ArgumentException>(() => new EnsembleForecaster("empty", []));
    }

    [Fact]
    public void A_seeded_ensemble_has_an_lstm_and_a_gru_per_seed_and_the_same_seed_gives_the_same_forecasts()
    {
        SeriesSet data = Data();
        var options = new Neural.RecurrentOptions { HiddenSize = 4, Layers = 1, Horizon = 12, TbpttLength = 24, BatchSize = 2, MaxEpochs = 1, Seed = 5 };
        EnsembleForecaster a = EnsembleForecaster.SeededLstmGru(options, 2), b = EnsembleForecaster.SeededLstmGru(options, 2);
        Assert.Equal(EnsembleForecaster.ModelName, a.Name);
        Assert.Equal(["lstm", "gru", "lstm", "gru"], a.Members.Select(m => m.Name));
        Assert.Equal([5UL, 5UL, 6UL, 6UL], a.Members.Cast<Neural.RecurrentForecaster>().Select(m => m.Options.Seed));
        a.Fit(data);
        b.Fit(data);
        Assert.Equal(a.Predict(12), b.Predict(12));
        Assert.NotEqual(a.Members[0].Predict(12), a.Members[2].Predict(12));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleForecaster.SeededLstmGru(options, 0));
    }

    [Fact]
    public void A_median_ensemble_takes_the_middle_members_value_level_by_level_and_round_trips()
    {
        SeriesSet data = Data();
        IForecaster[] members = [new SeasonalNaiveForecaster(), new EtsForecaster(), new EtsForecaster(new EtsOptions { Seasonality = EtsSeasonality.Additive })];
        var ensemble = new EnsembleForecaster("median", members, EnsembleCombination.Median);
        ensemble.Fit(data);
        IReadOnlyList<Forecast>[] each = members.Select(m => m.Predict(12)).ToArray();
        IReadOnlyList<Forecast> fe = ensemble.Predict(12);
        bool differsFromMean = false;
        for (int i = 0; i < fe.Count; i++)
        {
            foreach (double q in Forecast.DefaultLevels)
            {
                double[] qe = fe[i].Quantile(q);
                for (int j = 0; j < 12; j++)
                {
                    double[] v = each.Select(f => f[i].Quantile(q)[j]).Order().ToArray();
                    Assert.Equal(v[1], qe[j], 12);
                    differsFromMean |= Math.Abs(v.Average() - qe[j]) > 1e-6;
                }

            }

            for (int j = 0; j < 12; j++)
            {
                Assert.Equal(each.Select(f => f[i].Mean[j]).Order().ElementAt(1), fe[i].Mean[j], 12);
                for (int l = 1; l < Forecast.DefaultLevels.Count; l++)
                {
                    Assert.True(fe[i].Values[l - 1][j] <= fe[i].Values[l][j]); // the median keeps the quantiles sorted
                }
            }
        }

        Assert.True(differsFromMean); // the test would pass for a mean ensemble otherwise

        using var stream = new MemoryStream();
        ensemble.Save(stream);
        stream.Position = 0;
        var loaded = (EnsembleForecaster)ForecasterFile.Load(stream);
        Assert.Equal(EnsembleCombination.Median, loaded.Combination);
        Assert.Equal(fe, loaded.Predict(12));
    }

    [Fact]
    public void Fitting_members_side_by_side_gives_the_same_model_as_one_after_another()
    {
        SeriesSet data = Data();
        var options = new Neural.EsRnnOptions { HiddenSize = 4, Horizon = 12, BatchSize = 2, MaxEpochs = 2 };
        EnsembleForecaster Make(int parallel) => new("es", new[] { 1UL, 2UL, 3UL }.Select(seed => (IForecaster)new Neural.EsRnnForecaster(options with { Seed = seed })).ToArray())
        {
            MaxParallelFits = parallel,
        };

        EnsembleForecaster serial = Make(1), parallel = Make(3);
        serial.Fit(data);
        parallel.Fit(data);
        Assert.Equal(serial.Predict(12), parallel.Predict(12));
        Assert.NotEqual(serial.Members[0].Predict(12), serial.Members[1].Predict(12));
    }

    [Fact]
    public void A_seeded_es_ensemble_has_its_es_and_lstm_seeds_and_takes_the_median()
    {
        var es = new Neural.EsRnnOptions { Seed = 7, InputSeasons = 7 };
        var neural = new Neural.RecurrentOptions { Seed = 7 };
        EnsembleForecaster e = EnsembleForecaster.SeededEsLstmLstm("es-ensemble", es, neural, 3, 2);
        Assert.Equal(EnsembleCombination.Median, e.Combination);
        Assert.Equal(["es-lstm", "lstm", "es-lstm", "lstm", "es-lstm"], e.Members.Select(m => m.Name));
        Assert.Equal([7UL, 8UL, 9UL], e.Members.OfType<Neural.EsRnnForecaster>().Select(m => m.Options.Seed));
        Assert.All(e.Members.OfType<Neural.EsRnnForecaster>(), m => Assert.Equal(7, m.Options.InputSeasons));
        Assert.Equal([7UL, 8UL], e.Members.OfType<Neural.RecurrentForecaster>().Select(m => m.Options.Seed));
        Assert.Throws<ArgumentOutOfRangeException>(() => EnsembleForecaster.SeededEsLstmLstm("x", es, neural, 0, 0));
    }
}
