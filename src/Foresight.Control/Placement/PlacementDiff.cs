namespace Foresight.Control.Placement;

/// <summary>Counts what changed between two desired placements.</summary>
public static class PlacementDiff
{
    /// <returns>Migrations (replicas moved between sites) and scale events (apps whose total changed).</returns>
    public static (int Migrations, int ScaleEvents) Count(DesiredPlacement before, DesiredPlacement after)
    {
        int migrations = 0;
        int scaleEvents = 0;
        for (int a = 0; a < before.AppCount; a++)
        {
            int up = 0;
            int down = 0;
            for (int s = 0; s < before.SiteCount; s++)
            {
                int d = after[a, s] - before[a, s];
                if (d > 0)
                {
                    up += d;
                }
                else
                {
                    down -= d;
                }
            }

            migrations += Math.Min(up, down);
            scaleEvents += up != down ? 1 : 0;
        }

        return (migrations, scaleEvents);
    }
}
