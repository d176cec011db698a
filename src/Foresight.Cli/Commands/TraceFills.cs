using Foresight.Core.Traffic;

namespace Foresight.Cli.Commands;

/// <summary>
/// How a trace was put on its grid and filled, as the <c>fills</c> object of the JSON of <c>backtest</c>,
/// <c>train</c>, <c>forecast</c> and <c>simulate</c>. Field names are stable (add, never rename).
/// </summary>
/// <param name="Rule">The fill rule, e.g. "linear-interpolation".</param>
/// <param name="StepSeconds">The grid step (given with <c>--step</c> or inferred); null when the trace has one row.</param>
/// <param name="FilledSteps">Steps of the grid no row fell on (skipped intervals, cut-out hours): each one missing reading per column.</param>
/// <param name="FilledCells">Every value filled: the cells of the missing steps plus the empty cells.</param>
/// <param name="FilledEmptyCells">Of those, the cells that were empty in the file.</param>
/// <param name="SnappedRows">Rows whose time was off the grid and was moved onto its nearest step.</param>
/// <param name="MaxSnapSeconds">The largest such move.</param>
public sealed record TraceFills(
    string Rule,
    double? StepSeconds,
    long FilledSteps,
    long FilledCells,
    long FilledEmptyCells,
    long SnappedRows,
    double MaxSnapSeconds)
{
    public static TraceFills From(FillReport fills) =>
        new(fills.Rule, fills.GridStepSeconds, fills.FilledSteps, fills.FilledCells, fills.FilledEmptyCells, fills.SnappedRows, fills.MaxSnapSeconds);

    /// <summary>Writes "warning: FILE: …" when anything was filled or moved.</summary>
    public static void Warn(TextWriter writer, string path, FillReport fills)
    {
        if (fills.Describe() is string line)
        {
            writer.WriteLine($"warning: {path}: {line}");
        }
    }
}
