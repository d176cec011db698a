namespace Foresight.Control.Placement;

/// <summary>How many instances each app should have at each site. Indexed [app][site]; a pure value.</summary>
public sealed class DesiredPlacement
{
    private readonly int[][] _replicas;

    public DesiredPlacement(int apps, int sites)
    {
        _replicas = new int[apps][];
        for (int a = 0; a < apps; a++)
        {
            _replicas[a] = new int[sites];
        }
    }

    public int AppCount => _replicas.Length;

    public int SiteCount => _replicas.Length == 0 ? 0 : _replicas[0].Length;

    public int this[int app, int site]
    {
        get => _replicas[app][site];
        set => _replicas[app][site] = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public ReadOnlySpan<int> ForApp(int app) => _replicas[app];

    public void SetApp(int app, ReadOnlySpan<int> replicasBySite) => replicasBySite.CopyTo(_replicas[app]);

    public int Total(int app)
    {
        int sum = 0;
        foreach (int r in _replicas[app])
        {
            sum += r;
        }

        return sum;
    }

    public DesiredPlacement Clone()
    {
        var copy = new DesiredPlacement(AppCount, SiteCount);
        for (int a = 0; a < AppCount; a++)
        {
            copy.SetApp(a, _replicas[a]);
        }

        return copy;
    }
}
