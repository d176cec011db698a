using Foresight.Core.Forecasts;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Ensembles;

/// <summary>
/// Averages the quantile forecasts of several models level by level (quantile averaging, "Vincentization"; Lichtendahl,
/// Grushka-Cockayne and Winkler 2013): the combined q-quantile is the mean of the members' q-quantiles, and the combined
/// mean the mean of their means. Averaging quantiles keeps intervals as sharp as the members' (a mixture would widen
/// them) while cancelling the members' independent errors, which is where ensembles of neural nets gain most.
/// </summary>
/// <remarks>
/// Every member sees the same history and updates, so streaming stays one step per observation per member. Members
/// must produce the same quantile levels.
/// </remarks>
public sealed class EnsembleForecaster : IForecaster
{
    public const string ModelName = "ensemble";
    private const int PayloadVersion = 1;

    public EnsembleForecaster(string name, IReadOnlyList<IForecaster> members)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        }

        Name = name;
        Members = members;
    }

    /// <summary>The name on the command line, e.g. "lstm+gru".</summary>
    public string Name { get; }

    public IReadOnlyList<IForecaster> Members { get; }

    public bool IsFitted => Members.All(m => m.IsFitted);

    /// <summary>An LSTM and a GRU with the same options: two different inductive biases at twice the cost of one.</summary>
    public static EnsembleForecaster LstmGru(RecurrentOptions options) =>
        new($"{RecurrentForecaster.LstmName}+{RecurrentForecaster.GruName}", [new LstmForecaster(options), new GruForecaster(options)]);

    /// <summary>
    /// An LSTM and a GRU for each of <paramref name="seeds"/> seeds (options' seed, +1, ...): seed ensembles average
    /// out the variance of one training run, which no single network can.
    /// </summary>
    public static EnsembleForecaster SeededLstmGru(RecurrentOptions options, int seeds)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(seeds, 1);
        var members = new List<IForecaster>();
        for (int i = 0; i < seeds; i++)
        {
            RecurrentOptions o = options with { Seed = options.Seed + (ulong)i };
            members.Add(new LstmForecaster(o));
            members.Add(new GruForecaster(o));
        }

        return new EnsembleForecaster(ModelName, members);
    }

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);

        // One after another: each neural member already trains on every core, and a fixed order keeps it deterministic.
        foreach (IForecaster m in Members)
        {
            m.Fit(history, cancellationToken);
        }
    }

    public void Update(SeriesSet newObservations)
    {
        foreach (IForecaster m in Members)
        {
            m.Update(newObservations);
        }
    }

    public IReadOnlyList<Forecast> Predict(int horizon)
    {
        IReadOnlyList<Forecast>[] all = Members.Select(m => m.Predict(horizon)).ToArray();
        var result = new Forecast[all[0].Count];
        for (int i = 0; i < result.Length; i++)
        {
            Forecast first = all[0][i];
            var values = new double[first.Levels.Count][];
            var mean = new double[horizon];
            for (int l = 0; l < values.Length; l++)
            {
                values[l] = new double[horizon];
                foreach (IReadOnlyList<Forecast> member in all)
                {
                    Forecast f = member[i];
                    if (f.Levels.Count != first.Levels.Count || Math.Abs(f.Levels[l] - first.Levels[l]) > 1e-9 || f.SeriesName != first.SeriesName)
                    {
                        throw new InvalidOperationException($"Ensemble members disagree on the levels or series of '{first.SeriesName}'.");
                    }

                    for (int j = 0; j < horizon; j++)
                    {
                        values[l][j] += f.Values[l][j] / all.Length;
                    }
                }
            }

            foreach (IReadOnlyList<Forecast> member in all)
            {
                for (int j = 0; j < horizon; j++)
                {
                    mean[j] += member[i].Mean[j] / all.Length;
                }
            }

            result[i] = new Forecast(first.SeriesName, first.Start, first.Step, first.Levels, values, mean);
        }

        return result;
    }

    public void Save(Stream stream)
    {
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, ModelName);
        w.Write(PayloadVersion);
        w.Write(Name);
        w.Write(Members.Count);
        foreach (IForecaster m in Members)
        {
            using var buffer = new MemoryStream();
            m.Save(buffer);
            w.Write(buffer.Length);
            w.Write(buffer.GetBuffer(), 0, (int)buffer.Length);
        }
    }

    internal static EnsembleForecaster ReadPayload(BinaryReader r)
    {
        int version = r.ReadInt32();
        if (version != PayloadVersion)
        {
            throw new InvalidDataException($"Ensemble payload version {version} is not supported.");
        }

        string name = r.ReadString();
        int count = r.ReadInt32();
        if (count < 1 || count > 1024)
        {
            throw new InvalidDataException($"Ensemble member count {count} is out of range.");
        }

        var members = new IForecaster[count];
        for (int i = 0; i < count; i++)
        {
            long length = r.ReadInt64();
            if (length < 0 || length > int.MaxValue)
            {
                throw new InvalidDataException($"Ensemble member {i} has an invalid length {length}.");
            }

            byte[] bytes = r.ReadBytes((int)length);
            if (bytes.Length != length)
            {
                throw new InvalidDataException($"Ensemble member {i} is truncated.");
            }

            using var member = new MemoryStream(bytes);
            members[i] = ForecasterFile.Load(member);
        }

        return new EnsembleForecaster(name, members);
    }
}
