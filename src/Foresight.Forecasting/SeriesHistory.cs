namespace Foresight.Forecasting;

/// <summary>
/// The recent values of one series and its position: what the baselines need to predict and to update in O(1)
/// amortised time. Keeps the most recent values: at least <c>Capacity / 2</c> once that many were seen, at most
/// <see cref="Capacity"/> (the oldest half is dropped in one block when it fills).
/// </summary>
internal sealed class SeriesHistory
{
    private double[] _buffer;
    private int _count;

    public SeriesHistory(string name, DateTimeOffset? start, int capacity)
    {
        Name = name;
        Start = start;
        Capacity = Math.Max(1, capacity);
        _buffer = new double[Math.Max(16, Math.Min(Capacity, 1024))];
    }

    public string Name { get; }

    public DateTimeOffset? Start { get; }

    public int Capacity { get; }

    /// <summary>Total observations ever seen (the index of the next one).</summary>
    public long Observed { get; private set; }

    /// <summary>The kept values, oldest first.</summary>
    public ReadOnlySpan<double> Values => _buffer.AsSpan(0, _count);

    public void Append(ReadOnlySpan<double> values)
    {
        foreach (double v in values)
        {
            if (_count == _buffer.Length)
            {
                if (_buffer.Length < Capacity)
                {
                    Array.Resize(ref _buffer, Math.Min(Capacity, _buffer.Length * 2));
                }
                else
                {
                    // Drop the oldest half-capacity block at once, so appends stay O(1) amortised.
                    int keep = Capacity / 2;
                    Array.Copy(_buffer, _count - keep, _buffer, 0, keep);
                    _count = keep;
                }
            }

            _buffer[_count++] = v;
            Observed++;
        }
    }

    /// <summary>The time of the next (first unobserved) step.</summary>
    public DateTimeOffset NextTime(TimeSpan step) => (Start ?? DateTimeOffset.UnixEpoch) + (step * Observed);

    public void Write(BinaryWriter writer)
    {
        writer.Write(Name);
        ForecasterFile.WriteTimestamp(writer, Start);
        writer.Write(Capacity);
        writer.Write(Observed);
        ForecasterFile.WriteDoubles(writer, Values);
    }

    public static SeriesHistory Read(BinaryReader reader)
    {
        string name = reader.ReadString();
        DateTimeOffset? start = ReadStart(reader);
        int capacity = reader.ReadInt32();
        long observed = reader.ReadInt64();
        double[] values = ForecasterFile.ReadDoubles(reader);
        var history = new SeriesHistory(name, start, capacity);
        history.Append(values);
        history.Observed = observed;
        return history;
    }

    private static DateTimeOffset? ReadStart(BinaryReader reader) => ForecasterFile.ReadTimestamp(reader);
}
