using Foresight.Core.Traffic;

namespace Foresight.Ingest.Tests;

/// <summary>Reading a trace onto a regular grid (<see cref="TraceReadOptions.RegularGrid"/>).</summary>
public sealed class RegularGridTests : IDisposable
{
    private static readonly TraceReadOptions _grid = new() { RegularGrid = true };

    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Off_grid_times_are_snapped_and_a_missing_step_is_filled_and_counted()
    {
        // 5-minute rows: 00:05 is late by 4 s, 00:10 is missing (a 600 s gap), 00:15 early by 2 s, 00:20 has an empty cell.
        string file = _dir.Write(
            "export.csv",
            "timestamp,value,other\n" +
            "2026-03-01T00:00:00Z,10,1\n" +
            "2026-03-01T00:05:04Z,20,1\n" +
            "2026-03-01T00:14:58Z,40,1\n" +
            "2026-03-01T00:20:00Z,,1\n" +
            "2026-03-01T00:25:00Z,60,1\n");

        TraceTable trace = TraceReader.Read(file, _grid);

        Assert.Equal([0.0, 300, 600, 900, 1200, 1500], trace.TimeSeconds);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), trace.StartTime);
        Assert.Equal([10.0, 20, 30, 40, 50, 60], trace.Values[0]);
        Assert.Equal([1.0, 1, 1, 1, 1, 1], trace.Values[1]);
        FillReport fills = trace.Fills;
        Assert.Equal(300, fills.GridStepSeconds);
        Assert.Equal(1, fills.FilledSteps);
        Assert.Equal(2, fills.FilledStepCells);          // the missing step, in both columns
        Assert.Equal(3, fills.FilledCells);              // ... plus the empty cell
        Assert.Equal(1, fills.FilledEmptyCells);
        Assert.Equal(new Dictionary<string, long> { ["value"] = 2, ["other"] = 1 }, fills.FilledByColumn);
        Assert.Equal(2, fills.SnappedRows);
        Assert.Equal(4, fills.MaxSnapSeconds, 6);
    }

    [Fact]
    public void Without_the_option_times_are_kept_as_read()
    {
        string file = _dir.Write("export.csv", "timestamp,value\n2026-03-01T00:00:00Z,10\n2026-03-01T00:05:04Z,20\n2026-03-01T00:14:58Z,40\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal([0.0, 304, 898], trace.TimeSeconds);
        Assert.Null(trace.Fills.GridStepSeconds);
        Assert.Equal(0, trace.Fills.FilledSteps);
    }

    [Fact]
    public void A_first_row_off_the_grid_moves_the_start_onto_it()
    {
        string file = _dir.Write("late.csv", "timestamp,v\n2026-03-01T10:00:03+02:00,1\n2026-03-01T10:05:02+02:00,2\n2026-03-01T10:10:01+02:00,3\n");

        TraceTable trace = TraceReader.Read(file, _grid);

        Assert.Equal(new DateTimeOffset(2026, 3, 1, 10, 0, 0, TimeSpan.FromHours(2)), trace.StartTime);
        Assert.Equal(TimeSpan.FromHours(2), trace.StartTime!.Value.Offset);
        Assert.Equal([0.0, 300, 600], trace.TimeSeconds);
        Assert.Equal(3, trace.Fills.SnappedRows);
    }

    [Fact]
    public void A_grid_off_the_round_times_keeps_its_phase()
    {
        // Rows on :02:30, :07:30, ... with a few seconds of jitter and one missing: not moved to :00/:05.
        string file = _dir.Write(
            "phase.csv",
            "timestamp,v\n2026-03-01T00:02:30Z,1\n2026-03-01T00:07:32Z,2\n2026-03-01T00:17:29Z,4\n2026-03-01T00:22:30Z,5\n");

        TraceTable trace = TraceReader.Read(file, _grid);

        Assert.Equal([0.0, 300, 600, 900, 1200], trace.TimeSeconds);
        DateTimeOffset start = trace.StartTime!.Value;
        Assert.InRange((start - new DateTimeOffset(2026, 3, 1, 0, 2, 30, TimeSpan.Zero)).TotalSeconds, -2, 2);
        Assert.Equal(1, trace.Fills.FilledSteps);
        Assert.Equal([1.0, 2, 3, 4, 5], trace.Values[0]);
    }

    [Fact]
    public void Numeric_time_is_put_on_its_grid_too()
    {
        TraceTable trace = TraceReader.Read(_dir.Write("seconds.csv", "second,v\n0,0\n61,10\n179,30\n240,40\n"), _grid);

        Assert.Equal([0.0, 60, 120, 180, 240], trace.TimeSeconds);
        Assert.Equal([0.0, 10, 20, 30, 40], trace.Values[0]);
        Assert.Equal(1, trace.Fills.FilledSteps);
    }

    [Fact]
    public void A_given_step_overrides_the_inferred_one()
    {
        // Most gaps are two minutes, so the inferred step is 120 s; the data's real step is one minute.
        string file = _dir.Write("sparse.csv", "second,v\n0,0\n60,1\n180,3\n300,5\n420,7\n540,9\n");

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, _grid));
        Assert.Contains("120 s step", ex.Message, StringComparison.Ordinal);
        Assert.Contains("inferred", ex.Message, StringComparison.Ordinal);

        TraceTable trace = TraceReader.Read(file, new TraceReadOptions { RegularGrid = true, StepSeconds = 60 });

        Assert.Equal(60, trace.Fills.GridStepSeconds);
        Assert.Equal(4, trace.Fills.FilledSteps);
        Assert.Equal([0.0, 1, 2, 3, 4, 5, 6, 7, 8, 9], trace.Values[0]);
    }

    [Fact]
    public void A_long_trace_fills_a_step_with_no_rows_in_every_key_and_keeps_absent_keys_at_zero()
    {
        string file = _dir.Write(
            "long.csv",
            "time,app,source,volume\n" +
            "0,web,s1,10\n0,web,s2,4\n" +
            "301,web,s1,20\n" +              // s2 absent at this step: 0, as always in a long trace
            "900,web,s1,40\n900,web,s2,8\n" + // step 600 has no row at all: a missing step
            "1198,web,s1,50\n1198,web,s2,8\n");

        TraceTable trace = TraceReader.Read(file, _grid);

        Assert.Equal([0.0, 300, 600, 900, 1200], trace.TimeSeconds);
        Assert.Equal([10.0, 20, 30, 40, 50], trace.Values[0]);
        Assert.Equal([4.0, 0, 4, 8, 8], trace.Values[1]);
        Assert.Equal(1, trace.Fills.FilledSteps);
        Assert.Equal(2, trace.Fills.FilledCells);
    }

    [Fact]
    public void Melbourne_reads_onto_its_hourly_grid_with_its_two_dst_end_hours_filled()
    {
        string file = SharedData.File("melbourne_pedestrian_hourly/melbourne_pedestrians_dev.csv.gz");
        TraceTable asRead = TraceReader.Read(file);

        TraceTable trace = TraceReader.Read(file, _grid);

        // The source has one 02:00 row for the two real 02:00 hours of each DST end: those hours are missing steps.
        Assert.Equal(asRead.RowCount + 2, trace.RowCount);
        Assert.Equal(asRead.StartTime, trace.StartTime);
        Assert.Equal(asRead.TimeSeconds[^1], trace.TimeSeconds[^1]);
        Assert.All(trace.TimeSeconds.Skip(1).Zip(trace.TimeSeconds), p => Assert.Equal(3600, p.First - p.Second));
        Assert.Equal(2, trace.Fills.FilledSteps);
        Assert.Equal(0, trace.Fills.SnappedRows);
        Assert.Equal(asRead.Fills.FilledCells + (2 * 55), trace.Fills.FilledCells);
        Assert.Equal(asRead.Fills.FilledCells, trace.Fills.FilledEmptyCells);
    }

    [Theory]
    [InlineData("milan_telecom_cdr_hourly/milan_cdr_hourly_dev.csv.gz")]
    [InlineData("bikenyc_grid_hourly/bikenyc_demand_dev.csv.gz")]
    [InlineData("bayarea_bikeshare_2014_hourly/babs_demand_dev.csv.gz")]
    [InlineData("nasa_http_jul1995/requests_per_second.csv.gz")]
    public void Regular_shared_traces_read_the_same_on_the_grid(string relative)
    {
        string file = SharedData.File(relative);
        TraceTable asRead = TraceReader.Read(file);

        TraceTable trace = TraceReader.Read(file, _grid);

        Assert.Equal(asRead.TimeSeconds, trace.TimeSeconds);
        Assert.Equal(asRead.StartTime, trace.StartTime);
        Assert.Equal(asRead.Values, trace.Values);
        Assert.Equal(0, trace.Fills.FilledSteps);
        Assert.Equal(0, trace.Fills.SnappedRows);
        Assert.Equal(asRead.StepSeconds, trace.Fills.GridStepSeconds);
    }

    public static TheoryData<string, string, int, string> CollisionCases => new()
    {
        // name, content, line named, fragment
        { "two-in-one-step", "timestamp,v\n2026-03-01T00:00:00Z,1\n2026-03-01T00:05:00Z,2\n2026-03-01T00:05:20Z,3\n2026-03-01T00:10:00Z,4\n2026-03-01T00:15:00Z,5\n", 4, "falls on the same 300 s step as line 3" },
        { "seconds", "second,v\n0,1\n60,2\n120,3\n130,4\n180,5\n240,6\n", 5, "falls on the same 60 s step as line 4" },
        { "long", "time,app,source,volume\n0,web,s1,1\n60,web,s1,1\n120,web,s1,1\n121,web,s2,1\n180,web,s1,1\n240,web,s1,1\n", 5, "two readings for one step" },
    };

    [Theory]
    [MemberData(nameof(CollisionCases))]
    public void Two_rows_on_one_step_are_an_error_naming_both_lines(string name, string content, int line, string fragment)
    {
        string file = _dir.Write(name + ".csv", content);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, _grid));

        TraceReaderErrorTests.AssertNames(ex, file, line, name == "long" ? "time" : content.Split(',')[0], fragment);
        Assert.Contains("line " + (line - 1), ex.Message, StringComparison.Ordinal);
        Assert.Contains("inferred", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("backwards", "timestamp,v\n2026-03-01T00:00:00Z,1\n2026-03-01T00:05:00Z,2\n2026-03-01T00:04:58Z,3\n", 4, "time going backwards")]
    [InlineData("repeating", "timestamp,v\n2026-03-01T00:00:00Z,1\n2026-03-01T00:05:00Z,2\n2026-03-01T00:05:00Z,3\n", 4, "time repeating")]
    [InlineData("long-backwards", "time,app,source,volume\n0,web,s1,1\n300,web,s1,1\n299,web,s2,1\n", 4, "time going backwards")]
    public void Backwards_and_repeated_times_are_still_errors_on_the_grid(string name, string content, int line, string fragment)
    {
        string file = _dir.Write(name + ".csv", content);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, _grid));

        TraceReaderErrorTests.AssertNames(ex, file, line, name.StartsWith("long", StringComparison.Ordinal) ? "time" : "timestamp", fragment);
    }

    [Fact]
    public void Rows_that_follow_no_inferred_step_are_an_error_naming_the_line()
    {
        // A 60 s series whose fourth row is half a step off: no phase puts every row within a quarter step.
        string file = _dir.Write("offgrid.csv", "second,v\n0,1\n60,1\n120,1\n210,1\n240,1\n300,1\n360,1\n");

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, _grid));

        TraceReaderErrorTests.AssertNames(ex, file, 5, "second", "the rows do not follow one 60 s step: time 210 s after the first row and line ");
        Assert.Contains("30 s apart", ex.Message, StringComparison.Ordinal);

        // Given, the step is trusted: each row goes to its nearest step.
        TraceTable trace = TraceReader.Read(file, new TraceReadOptions { RegularGrid = true, StepSeconds = 60 });
        Assert.Equal(7, trace.RowCount);
        Assert.Equal(0, trace.Fills.FilledSteps);
    }

    [Fact]
    public void A_grid_mostly_invented_is_refused_as_too_sparse()
    {
        string file = _dir.Write("sparse.csv", "second,v\n0,1\n1,1\n2,1\n3,1\n1000,1\n");

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, _grid));

        Assert.Contains("too sparse for a regular grid: 996 of the 1001 steps", ex.Message, StringComparison.Ordinal);
        Assert.Equal("second", ex.Field);
    }

    [Fact]
    public void A_step_without_the_grid_is_a_programming_error()
    {
        string file = _dir.Write("t.csv", "second,v\n0,1\n");

        Assert.Throws<ArgumentException>(() => TraceReader.Read(file, new TraceReadOptions { StepSeconds = 60 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => TraceReader.Read(file, new TraceReadOptions { RegularGrid = true, StepSeconds = 0 }));
    }

    [Theory]
    [InlineData(300.4, 300)]
    [InlineData(3598, 3600)]
    [InlineData(86_401, 86_400)]
    [InlineData(0.9996, 1)]
    [InlineData(450.04, 450)]
    [InlineData(17.333, 17.33)]
    [InlineData(0.012346, 0.01235)]
    [InlineData(123_456, 123_500)]
    public void Inferred_steps_are_tidied_to_a_common_interval_or_four_digits(double raw, double tidy)
    {
        Assert.Equal(tidy, TimeGrid.Tidy(raw), 9);
    }
}
