namespace Foresight.Simulation.Engine;

/// <summary>The simulator's clock: simulated seconds since the start, exposed as a <see cref="TimeProvider"/>.</summary>
public sealed class SimulatedClock : TimeProvider
{
    public SimulatedClock(DateTimeOffset epoch)
    {
        Epoch = epoch;
    }

    public DateTimeOffset Epoch { get; }

    /// <summary>Simulated seconds since <see cref="Epoch"/>.</summary>
    public double Seconds { get; private set; }

    // Rounded to the nearest tick (AddSeconds truncates), so that sums of fractional steps read back as the step they reached.
    public override DateTimeOffset GetUtcNow() => Epoch.AddTicks((long)Math.Round(Seconds * TimeSpan.TicksPerSecond));

    internal void Advance(double seconds) => Seconds += seconds;
}
