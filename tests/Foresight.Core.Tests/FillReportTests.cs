using Foresight.Core.Traffic;

namespace Foresight.Core.Tests;

public sealed class FillReportTests
{
    private static FillReport Report(long cells, long steps = 0, long stepCells = 0, long snapped = 0) =>
        new FillReport("linear-interpolation", cells, new Dictionary<string, long>())
        {
            GridStepSeconds = steps > 0 || snapped > 0 ? 300 : null,
            FilledSteps = steps,
            FilledStepCells = stepCells,
            SnappedRows = snapped,
            MaxSnapSeconds = snapped > 0 ? 4.5 : 0,
        };

    [Fact]
    public void Nothing_filled_or_moved_says_nothing()
    {
        Assert.Null(Report(0).Describe());
        Assert.Null(FillReport.None.Describe());
    }

    [Theory]
    [InlineData(3, 0, 0, 0, "3 missing readings filled by linear-interpolation (most in b 2)")]
    [InlineData(1, 0, 0, 0, "1 missing reading filled by linear-interpolation (most in b 2)")]
    [InlineData(7, 2, 4, 0, "7 missing readings filled by linear-interpolation (most in b 2), 4 of them in 2 missing steps of 300 s")]
    [InlineData(2, 1, 2, 1, "2 missing readings filled by linear-interpolation (most in b 2), 2 of them in 1 missing step of 300 s; 1 row moved onto the 300 s grid (at most 4.5 s)")]
    [InlineData(0, 0, 0, 12, "12 rows moved onto the 300 s grid (at most 4.5 s)")]
    public void Describe_counts_the_fills_the_missing_steps_and_the_moves(long cells, long steps, long stepCells, long snapped, string expected)
    {
        FillReport report = Report(cells, steps, stepCells, snapped);

        Assert.Equal(expected, report.Describe("most in b 2"));
        Assert.Equal(cells - stepCells, report.FilledEmptyCells);
    }
}
