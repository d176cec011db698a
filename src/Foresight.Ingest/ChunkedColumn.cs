namespace Foresight.Ingest;

/// <summary>
/// An append-only list of doubles stored in fixed chunks, so a growing column never re-copies what it holds
/// and no chunk lands on the large-object heap. <see cref="ToArray"/> makes the one exact-size copy.
/// </summary>
internal sealed class ChunkedColumn
{
    // 8,192 doubles = 64 KiB, below the 85 KB large-object threshold.
    private const int ChunkShift = 13;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private readonly List<double[]> _chunks = [];
    private int _count;

    public int Count => _count;

    public void Add(double value)
    {
        int offset = _count & ChunkMask;
        if (offset == 0)
        {
            _chunks.Add(new double[ChunkSize]);
        }

        _chunks[^1][offset] = value;
        _count++;
    }

    /// <summary>Appends <paramref name="count"/> copies of <paramref name="value"/>.</summary>
    public void AddRepeated(double value, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Add(value);
        }
    }

    public double Last => _chunks[^1][(_count - 1) & ChunkMask];

    public void SetLast(double value) => _chunks[^1][(_count - 1) & ChunkMask] = value;

    public double[] ToArray()
    {
        var result = new double[_count];
        int copied = 0;
        foreach (double[] chunk in _chunks)
        {
            int n = Math.Min(ChunkSize, _count - copied);
            Array.Copy(chunk, 0, result, copied, n);
            copied += n;
        }

        return result;
    }
}
