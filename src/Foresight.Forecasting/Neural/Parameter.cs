namespace Foresight.Forecasting.Neural;

/// <summary>A named parameter tensor, row-major <c>[Rows, Cols]</c> (a bias is <c>[1, Cols]</c>).</summary>
public sealed class Parameter<T>
    where T : unmanaged
{
    public Parameter(string name, int rows, int cols)
    {
        Name = name;
        Rows = rows;
        Cols = cols;
        Value = new T[rows * cols];
    }

    public string Name { get; }

    public int Rows { get; }

    public int Cols { get; }

    public T[] Value { get; }

    public int Length => Value.Length;

    public override string ToString() => $"{Name} [{Rows}, {Cols}]";
}

/// <summary>
/// Gradient buffers for a list of parameters, in the same order (one per parallel shard, so shards never share a
/// buffer; they are summed in a fixed order afterwards).
/// </summary>
public sealed class Gradients<T>
    where T : unmanaged
{
    public Gradients(IReadOnlyList<Parameter<T>> parameters)
    {
        Buffers = parameters.Select(p => new T[p.Length]).ToArray();
    }

    public T[][] Buffers { get; }

    public T[] this[int index] => Buffers[index];

    public void Clear()
    {
        foreach (T[] b in Buffers)
        {
            Array.Clear(b);
        }
    }
}
