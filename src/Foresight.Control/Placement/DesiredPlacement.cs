namespace Foresight.Control.Placement;

/// <summary>How many instances each app should have at each site. Indexed [app][site]; a pure value.</summary>
public sealed class DesiredPlacement
{
    private readonly int[][] _replicas;
    private readonly int[][] _anticipated;

    public DesiredPlacement(int apps, int sites)
    {
        _replicas = new int[apps][];
        _anticipated = new int[apps][];
        for (int a = 0; a < apps; a++)
        {
            _replicas[a] = new int[sites];
            _anticipated[a] = new int[sites];
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

    /// <summary>
    /// Of the instances wanted at (app, site), those wanted because a forecast needs them before the load arrives
    /// (never more than the count itself; 0 for reactive policies). Where an autoscaler owns a site's count it is the
    /// reactive path, so only this part becomes its floor.
    /// </summary>
    public int Anticipated(int app, int site) => Math.Min(_anticipated[app][site], _replicas[app][site]);

    public void SetAnticipated(int app, int site, int replicas) =>
        _anticipated[app][site] = replicas >= 0 ? replicas : throw new ArgumentOutOfRangeException(nameof(replicas));

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
            _anticipated[a].CopyTo(copy._anticipated[a], 0);
        }

        return copy;
    }
}
