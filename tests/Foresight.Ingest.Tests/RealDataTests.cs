using System.Diagnostics;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;
using Xunit.Abstractions;

namespace Foresight.Ingest.Tests;

/// <summary>Reads every trace and sources file in shared/data (never skipped: missing data fails).</summary>
public sealed class RealDataTests(ITestOutputHelper output) : IDisposable
{
    private readonly TempDir _dir = new();

    [Theory]
    [InlineData("milan_telecom_cdr_hourly/milan_cdr_hourly_dev.csv.gz", 1152, 211, "cell_1", false)]
    [InlineData("bikenyc_grid_hourly/bikenyc_demand_dev.csv.gz", 3288, 128, "area_0", true)]
    [InlineData("bikenyc_grid_hourly/bikenyc_pickups_dev.csv.gz", 3288, 128, "area_0", true)]
    [InlineData("bikenyc_grid_hourly/bikenyc_dropoffs_dev.csv.gz", 3288, 128, "area_0", true)]
    [InlineData("melbourne_pedestrian_hourly/melbourne_pedestrians_dev.csv.gz", 12047, 55, "area_1", true)]
    [InlineData("bayarea_bikeshare_2014_hourly/babs_demand_dev.csv.gz", 6551, 70, "area_2", true)]
    [InlineData("bayarea_bikeshare_2014_hourly/babs_pickups_dev.csv.gz", 6551, 70, "area_2", true)]
    [InlineData("bayarea_bikeshare_2014_hourly/babs_dropoffs_dev.csv.gz", 6551, 70, "area_2", true)]
    public void Hourly_traces_have_their_documented_shape(string file, int rows, int columns, string firstColumn, bool timestamped)
    {
        TraceTable trace = TraceReader.Read(SharedData.File(file));

        Assert.Equal(rows, trace.RowCount);
        Assert.Equal(columns, trace.Keys.Count);
        Assert.Equal(new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, firstColumn), trace.Keys[0]);
        Assert.Equal(timestamped, trace.StartTime is not null);
        Assert.Equal(3600, trace.StepSeconds);
        Assert.All(trace.Values, column => Assert.All(column, v => Assert.True(v >= 0 && double.IsFinite(v))));
    }

    [Fact]
    public void Milan_uses_hour_index_and_ignores_its_timestamp_columns()
    {
        TraceTable trace = TraceReader.Read(SharedData.File("milan_telecom_cdr_hourly/milan_cdr_hourly_dev.csv.gz"));

        Assert.Null(trace.StartTime);
        Assert.Equal(1151 * 3600.0, trace.TimeSeconds[^1]);
        Assert.DoesNotContain(trace.Keys, k => k.Source.StartsWith("timestamp", StringComparison.Ordinal));
        Assert.Equal(13, trace.Values[0][0]);
        Assert.Equal(0, trace.Fills.FilledCells);
    }

    [Fact]
    public void BikeNyc_keeps_its_minus_four_offset_and_regular_hours()
    {
        TraceTable trace = TraceReader.Read(SharedData.File("bikenyc_grid_hourly/bikenyc_demand_dev.csv.gz"));

        Assert.Equal(new DateTimeOffset(2014, 4, 1, 0, 0, 0, TimeSpan.FromHours(-4)), trace.StartTime);
        Assert.Equal(TimeSpan.FromHours(-4), trace.StartTime!.Value.Offset);
        Assert.All(Gaps(trace), g => Assert.Equal(3600, g));
        Assert.Equal(0, trace.Fills.FilledCells);
    }

    [Fact]
    public void BayArea_spring_forward_day_is_still_consecutive_real_hours()
    {
        TraceTable trace = TraceReader.Read(SharedData.File("bayarea_bikeshare_2014_hourly/babs_demand_dev.csv.gz"));

        Assert.Equal(new DateTimeOffset(2014, 1, 1, 0, 0, 0, TimeSpan.FromHours(-8)), trace.StartTime);
        Assert.All(Gaps(trace), g => Assert.Equal(3600, g));
        var last = new DateTimeOffset(2014, 9, 30, 23, 0, 0, TimeSpan.FromHours(-7));
        Assert.Equal((last - trace.StartTime!.Value).TotalSeconds, trace.TimeSeconds[^1]);
    }

    [Fact]
    public void Melbourne_uses_real_instants_across_dst_and_fills_its_missing_cells()
    {
        TraceTable trace = TraceReader.Read(SharedData.File("melbourne_pedestrian_hourly/melbourne_pedestrians_dev.csv.gz"));

        var start = new DateTimeOffset(2021, 1, 1, 0, 0, 0, TimeSpan.FromHours(11));
        var last = new DateTimeOffset(2022, 5, 17, 23, 0, 0, TimeSpan.FromHours(10));
        Assert.Equal(start, trace.StartTime);
        Assert.Equal((last - start).TotalSeconds, trace.TimeSeconds[^1]);

        // On each DST-end day (2021-04-04, 2022-04-03) the source has one 02:00 row (+11:00) for the two real 02:00
        // hours, so the real-time gap after it is two hours; every other gap, DST start included, is one hour.
        double[] gaps = Gaps(trace);
        DateTimeOffset[] beforeLongGaps = Enumerable.Range(0, gaps.Length)
            .Where(i => gaps[i] != 3600)
            .Select(i => start.AddSeconds(trace.TimeSeconds[i]))
            .ToArray();
        Assert.Equal(
            [new DateTimeOffset(2021, 4, 4, 2, 0, 0, TimeSpan.FromHours(11)), new DateTimeOffset(2022, 4, 3, 2, 0, 0, TimeSpan.FromHours(11))],
            beforeLongGaps);
        Assert.All(gaps.Where(g => g != 3600), g => Assert.Equal(7200, g));

        // README: 9,024 of 662,585 cells are empty, concentrated in a few sensors.
        Assert.Equal(9024, trace.Fills.FilledCells);
        Assert.Equal(9024, trace.Fills.FilledByColumn.Values.Sum());
        Assert.Contains("area_57", trace.Fills.FilledByColumn.Keys);
        Assert.Equal("linear-interpolation", trace.Fills.Rule);
        output.WriteLine($"Melbourne fills by column: {string.Join(", ", trace.Fills.FilledByColumn.Select(p => $"{p.Key}={p.Value}"))}");
    }

    [Fact]
    public void Nasa_per_second_trace_reads_whole_and_exact()
    {
        string file = SharedData.File("nasa_http_jul1995/requests_per_second.csv.gz");

        var clock = Stopwatch.StartNew();
        TraceTable trace = TraceReader.Read(file);
        clock.Stop();

        output.WriteLine($"NASA: {trace.RowCount:N0} rows read in {clock.Elapsed.TotalSeconds:F2} s");
        Assert.Equal(2_381_545, trace.RowCount);
        Assert.Equal(new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "requests"), Assert.Single(trace.Keys));
        Assert.Null(trace.StartTime);
        Assert.Equal(1, trace.StepSeconds);
        Assert.Equal(2_381_544, trace.TimeSeconds[^1]);
        Assert.Equal(1_891_714, trace.Values[0].Sum()); // the reading time is reported above, not asserted: speed lives in bench/
    }

    [Theory]
    [InlineData("bikenyc_grid_hourly/areas.csv", "bikenyc_grid_hourly/bikenyc_demand_dev.csv.gz", 128)]
    [InlineData("melbourne_pedestrian_hourly/areas.csv", "melbourne_pedestrian_hourly/melbourne_pedestrians_dev.csv.gz", 55)]
    [InlineData("bayarea_bikeshare_2014_hourly/areas.csv", "bayarea_bikeshare_2014_hourly/babs_demand_dev.csv.gz", 70)]
    [InlineData("milan_telecom_cdr_hourly/milan_cells.csv", "milan_telecom_cdr_hourly/milan_cdr_hourly_dev.csv.gz", 211)]
    public void Sources_files_match_every_column_of_their_trace(string sourcesFile, string traceFile, int count)
    {
        string path = SharedData.File(sourcesFile);
        IReadOnlyList<Source> sources = SourcesReader.Read(path);
        TraceTable trace = TraceReader.Read(SharedData.File(traceFile));

        IReadOnlyList<Source> matched = SourcesReader.MatchColumns(sources, trace.Keys.Select(k => k.Source), path);

        Assert.Equal(count, sources.Count);
        Assert.Equal(trace.Keys.Select(k => k.Source), matched.Select(s => s.Id));
        Assert.All(matched, s => Assert.True(s.XKm >= 0 && s.YKm >= 0 && s.XKm < 100 && s.YKm < 100, s.ToString()));
    }

    [Fact]
    public void Known_positions_from_the_areas_files()
    {
        IReadOnlyList<Source> nyc = SourcesReader.Read(SharedData.File("bikenyc_grid_hourly/areas.csv"));
        IReadOnlyList<Source> bay = SourcesReader.Read(SharedData.File("bayarea_bikeshare_2014_hourly/areas.csv"));

        Assert.Equal(new Source("2", 1.780, 9.842), nyc.Single(s => s.Id == "2"));
        Assert.Equal(new Source("2", 45.619, 0.000), bay.Single(s => s.Id == "2"));
    }

    [Fact]
    public void Milan_cells_are_projected_from_the_base_station_lon_lat()
    {
        IReadOnlyList<Source> cells = SourcesReader.Read(SharedData.File("milan_telecom_cdr_hourly/milan_cells.csv"));

        Assert.Equal(0, cells.Min(c => c.XKm), 9);
        Assert.Equal(0, cells.Min(c => c.YKm), 9);
        double width = cells.Max(c => c.XKm);
        output.WriteLine($"Milan cells span {width:F1} km x {cells.Max(c => c.YKm):F1} km");
        // README: a west-east strip about 23 km wide (plus cell 10000 in the NE corner).
        Assert.InRange(width, 15, 40);
    }

    [Theory]
    [InlineData("bayarea_bikeshare_2014_hourly/areas.csv")]
    [InlineData("melbourne_pedestrian_hourly/areas.csv")]
    public void Projection_reproduces_the_published_km_coordinates(string sourcesFile)
    {
        // Hide x_km/y_km by renaming them in the header, so the reader has to project lon/lat.
        string[] lines = File.ReadAllLines(SharedData.File(sourcesFile));
        lines[0] = lines[0].Replace("x_km", "x_published", StringComparison.Ordinal).Replace("y_km", "y_published", StringComparison.Ordinal);
        string lonLatOnly = _dir.Write("lonlat.csv", string.Join('\n', lines) + "\n");

        IReadOnlyList<Source> published = SourcesReader.Read(SharedData.File(sourcesFile));
        IReadOnlyList<Source> projected = SourcesReader.Read(lonLatOnly);

        Assert.Equal(published.Select(s => s.Id), projected.Select(s => s.Id));
        for (int i = 0; i < published.Count; i++)
        {
            // The published values are rounded to metres.
            Assert.InRange(projected[i].XKm - published[i].XKm, -0.002, 0.002);
            Assert.InRange(projected[i].YKm - published[i].YKm, -0.002, 0.002);
        }
    }

    public void Dispose() => _dir.Dispose();

    private static double[] Gaps(TraceTable trace) =>
        trace.TimeSeconds.Zip(trace.TimeSeconds.Skip(1), (a, b) => b - a).ToArray();
}
