namespace Foresight.Core.Topology;

public enum SiteKind
{
    Edge,
    Cloud,
}

/// <summary>A place that can host instances: an edge site near users, or the central cloud.</summary>
public sealed record Site(string Id, double XKm, double YKm, SiteKind Kind = SiteKind.Edge);

/// <summary>A machine at a site; instances reserve CPU cores on it.</summary>
public sealed record Server(string Id, string SiteId, double CpuCores);

/// <summary>Where traffic originates (a cell, sensor or area of a trace), with its position.</summary>
public sealed record Source(string Id, double XKm, double YKm);
