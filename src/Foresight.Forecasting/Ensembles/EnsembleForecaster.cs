using System.Collections.Concurrent;
using Foresight.Core.Forecasts;
using Foresight.Forecasting.Neural;

namespace Foresight.Forecasting.Ensembles;

/// <summary>How an ensemble combines its members' q-quantiles (and means).</summary>
public enum EnsembleCombination
{
    /// <summary>The mean of the members' values.</summary>
    Mean,

    /// <summary>The median of the members' values: one member's bad run moves it less than the mean.</summary>
    Median,
}

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
    private const int PayloadVersion = 2; // 2 added the combination; 1 is read as the mean

    public EnsembleForecaster(string name, IReadOnlyList<IForecaster> members, EnsembleCombination combination = EnsembleCombination.Mean)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            throw new ArgumentException("An ensemble needs at least one member.", nameof(members));
        }

        if (!Enum.IsDefined(combination))
        {
            throw new ArgumentOutOfRangeException(nameof(combination), combination, "Unknown combination.");
        }

        Name = name;
        Members = members;
        Combination = combination;
    }

    /// <summary>The name on the command line, e.g. "lstm+gru".</summary>
    public string Name { get; }

    public IReadOnlyList<IForecaster> Members { get; }

    public EnsembleCombination Combination { get; }

    /// <summary>
    /// Members fitted at once (1: one after another, in order). Each member's fit depends only on its own options and
    /// the data, so the model is the same for any value; single-threaded members (ES-RNN) gain most from it.
    /// </summary>
    public int MaxParallelFits { get; init; } = 1;

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

    /// <summary>
    /// <paramref name="esSeeds"/> ES-hybrid LSTMs and <paramref name="lstmSeeds"/> LSTMs (seeds: the options' seed, +1,
    /// ...), combined by the median and fitted side by side on every core. The median drops one bad run's error; the
    /// ES members carry the relative (sMAPE) accuracy, the LSTMs the scaled error and the intervals
    /// (M4 Hourly validation split, docs/design/0024).
    /// </summary>
    public static EnsembleForecaster SeededEsLstmLstm(string name, EsRnnOptions es, RecurrentOptions neural, int esSeeds, int lstmSeeds)
    {
        ArgumentNullException.ThrowIfNull(es);
        ArgumentNullException.ThrowIfNull(neural);
        ArgumentOutOfRangeException.ThrowIfLessThan(esSeeds, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(lstmSeeds, 0);
        ArgumentOutOfRangeException.ThrowIfLessThan(esSeeds + lstmSeeds, 1);
        var members = new List<IForecaster>();
        for (int i = 0; i < Math.Max(esSeeds, lstmSeeds); i++)
        {
            if (i < esSeeds)
            {
                members.Add(new EsRnnForecaster(es with { Seed = es.Seed + (ulong)i }));
            }

            if (i < lstmSeeds)
            {
                members.Add(new LstmForecaster(neural with { Seed = neural.Seed + (ulong)i }));
            }
        }

        return new EnsembleForecaster(name, members, EnsembleCombination.Median) { MaxParallelFits = Environment.ProcessorCount };
    }

    public void Fit(SeriesSet history, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(history);

        if (MaxParallelFits <= 1)
        {
            foreach (IForecaster m in Members)
            {
                m.Fit(history, cancellationToken);
            }

            return;
        }

        // Members share only the (read-only) history, so fitting them side by side changes nothing but the wall time.
        // Members are handed out one at a time as threads free up: the default range partitioning of a list fixes
        // each thread's share up front, so one thread could be left with the slow members while the other idles.
        var options = new ParallelOptions { MaxDegreeOfParallelism = MaxParallelFits, CancellationToken = cancellationToken };
        Parallel.ForEach(Partitioner.Create(Members, EnumerablePartitionerOptions.NoBuffering), options, m => m.Fit(history, cancellationToken));
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
        var column = new double[all.Length];
        for (int i = 0; i < result.Length; i++)
        {
            Forecast first = all[0][i];
            foreach (IReadOnlyList<Forecast> member in all)
            {
                Forecast f = member[i];
                if (f.Levels.Count != first.Levels.Count || f.SeriesName != first.SeriesName
                    || f.Levels.Where((level, l) => Math.Abs(level - first.Levels[l]) > 1e-9).Any())
                {
                    throw new InvalidOperationException($"Ensemble members disagree on the levels or series of '{first.SeriesName}'.");
                }
            }

            var values = new double[first.Levels.Count][];
            var mean = new double[horizon];
            for (int l = 0; l < values.Length; l++)
            {
                values[l] = new double[horizon];
                for (int j = 0; j < horizon; j++)
                {
                    for (int m = 0; m < all.Length; m++)
                    {
                        column[m] = all[m][i].Values[l][j];
                    }

                    values[l][j] = Combine(column);
                }
            }

            for (int j = 0; j < horizon; j++)
            {
                for (int m = 0; m < all.Length; m++)
                {
                    column[m] = all[m][i].Mean[j];
                }

                mean[j] = Combine(column);
            }

            // The median of each level is monotone in the level, like the mean, so the quantiles stay sorted.
            result[i] = new Forecast(first.SeriesName, first.Start, first.Step, first.Levels, values, mean);
        }

        return result;
    }

    /// <summary>The members' values of one (level, step) combined; reorders <paramref name="column"/>.</summary>
    private double Combine(double[] column)
    {
        if (Combination == EnsembleCombination.Mean)
        {
            double sum = 0;
            foreach (double v in column)
            {
                sum += v / column.Length;
            }

            return sum;
        }

        Array.Sort(column);
        int half = column.Length / 2;
        return column.Length % 2 == 1 ? column[half] : (column[half - 1] + column[half]) / 2;
    }

    public void Save(Stream stream)
    {
        using BinaryWriter w = ForecasterFile.WriteHeader(stream, ModelName);
        w.Write(PayloadVersion);
        w.Write(Name);
        w.Write((int)Combination);
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
        if (version is < 1 or > PayloadVersion)
        {
            throw new InvalidDataException($"Ensemble payload version {version} is not supported.");
        }

        string name = r.ReadString();
        var combination = version >= 2 ? (EnsembleCombination)r.ReadInt32() : EnsembleCombination.Mean;
        if (!Enum.IsDefined(combination))
        {
            throw new InvalidDataException($"Ensemble combination {(int)combination} is not supported.");
        }

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

        return new EnsembleForecaster(name, members, combination);
    }
}
