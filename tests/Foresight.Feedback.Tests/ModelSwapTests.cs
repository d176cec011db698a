using Foresight.Core.Forecasts;
using Foresight.Feedback.Retraining;
using Foresight.Forecasting;

namespace Foresight.Feedback.Tests;

public sealed class ModelSwapTests
{
    [Fact]
    public async Task Every_concurrent_prediction_comes_wholly_from_one_published_model()
    {
        // Readers predict in a loop while a writer fits and publishes 2,000 new models. A fake model's "fit" writes its
        // parameters one by one, so a reader that saw a half-fitted model, or mixed two models, would see values of
        // different versions in one forecast.
        const int Series = 8;
        const int Swaps = 2_000;
        var slot = new ModelSlot();
        slot.Publish(new PublishedModel(VersionedModel.Fitted(1, Series), 1, 0));
        using var stop = new CancellationTokenSource();
        var failures = new System.Collections.Concurrent.ConcurrentQueue<string>();
        long predictions = 0;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(() =>
        {
            int lastSeen = 0;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    PublishedModel held = slot.Current!;
                    IReadOnlyList<Forecast> forecasts = held.Model.Predict(3);
                    int version = held.Version;
                    if (forecasts.Count != Series || forecasts.Any(f => f.Values.Any(level => level.Any(v => v != version))))
                    {
                        failures.Enqueue($"version {version}: mixed values");
                    }

                    if (version < lastSeen)
                    {
                        failures.Enqueue($"went back from version {lastSeen} to {version}");
                    }

                    lastSeen = version;
                    Interlocked.Increment(ref predictions);
                }
                catch (Exception e)
                {
                    failures.Enqueue(e.GetType().Name + ": " + e.Message);
                }
            }
        })).ToArray();

        for (int v = 2; v <= Swaps + 1; v++)
        {
            var model = new VersionedModel(Series);
            model.Fit(v);
            PublishedModel? old = slot.Publish(new PublishedModel(model, v, v));
            Assert.Equal(v - 1, old!.Version);
        }

        // Let the readers see the last model too, then stop them.
        SpinWait.SpinUntil(() => Interlocked.Read(ref predictions) > 1_000, TimeSpan.FromSeconds(10));
        stop.Cancel();
        await Task.WhenAll(readers);

        Assert.Empty(failures);
        Assert.True(predictions > 1_000, $"{predictions} predictions");
        Assert.Equal(Swaps + 1, slot.Current!.Version);
    }

    /// <summary>A model whose every forecast value is its version; predicting before the fit has finished throws.</summary>
    private sealed class VersionedModel(int series) : IForecaster
    {
        private readonly double[] _parameters = new double[series];
        private volatile bool _fitted;

        public string Name => "versioned";

        public bool IsFitted => _fitted;

        public static VersionedModel Fitted(int version, int series)
        {
            var m = new VersionedModel(series);
            m.Fit(version);
            return m;
        }

        public void Fit(int version)
        {
            for (int i = 0; i < _parameters.Length; i++)
            {
                _parameters[i] = version;
                Thread.SpinWait(20);
            }

            _fitted = true;
        }

        public void Fit(SeriesSet history, CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public void Update(SeriesSet newObservations) => throw new NotSupportedException();

        public IReadOnlyList<Forecast> Predict(int horizon)
        {
            if (!_fitted)
            {
                throw new InvalidOperationException("predicted before the fit finished");
            }

            return _parameters.Select((p, i) => new Forecast(
                $"s{i}",
                DateTimeOffset.UnixEpoch,
                TimeSpan.FromSeconds(5),
                Forecast.RequiredLevels,
                Forecast.RequiredLevels.Select(_ => (IReadOnlyList<double>)Enumerable.Repeat(p, horizon).ToArray()).ToArray())).ToArray();
        }

        public void Save(Stream stream) => throw new NotSupportedException();
    }
}
