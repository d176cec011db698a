namespace Foresight.Core.Traffic;

/// <summary>Identifies one traffic series: an application's requests of one type from one source.</summary>
public readonly record struct TrafficKey(string App, string Type, string Source)
{
    public override string ToString() => $"{App}/{Type}/{Source}";
}

/// <summary>One observation: the traffic volume of a series over the interval that starts at <see cref="Time"/>.</summary>
public readonly record struct TrafficSample(TrafficKey Key, DateTimeOffset Time, double Volume);
