using System.Text;
using Foresight.Core.Traffic;

namespace Foresight.Ingest.Tests;

public sealed class TraceReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Wide_trace_keys_each_source_column_for_any_app()
    {
        string file = _dir.Write("wide.csv", "second,cell_1,area_17,requests\n0,1,2,3\n1,4,5.5,6\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(file, trace.Name);
        Assert.Equal(
            [
                new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "cell_1"),
                new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "area_17"),
                new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "requests"),
            ],
            trace.Keys);
        Assert.Equal([0.0, 1.0], trace.TimeSeconds);
        Assert.Equal([1.0, 4.0], trace.Values[0]);
        Assert.Equal([2.0, 5.5], trace.Values[1]);
        Assert.Equal([3.0, 6.0], trace.Values[2]);
        Assert.Null(trace.StartTime);
        Assert.Equal(0, trace.Fills.FilledCells);
        Assert.Equal("linear-interpolation", trace.Fills.Rule);
    }

    [Theory]
    [InlineData("second", "0|1|2", new[] { 0.0, 1, 2 })]
    [InlineData("t", "10|20|35", new[] { 0.0, 10, 25 })]
    [InlineData("time", "0|0.5|1.25", new[] { 0.0, 0.5, 1.25 })]
    [InlineData("hour_index", "0|1|2", new[] { 0.0, 3600, 7200 })]
    [InlineData("Hours", "5|5.5|7", new[] { 0.0, 1800, 7200 })]
    [InlineData("minute", "0|1|10", new[] { 0.0, 60, 600 })]
    [InlineData("day", "0|1|2", new[] { 0.0, 86400, 172800 })]
    [InlineData("t", "-5|0|1e1", new[] { 0.0, 5, 15 })]
    [InlineData("timestamp_ms", "1000|1500|3000", new[] { 0.0, 0.5, 2 })]
    public void Numeric_time_unit_comes_from_the_column_name(string column, string times, double[] expected)
    {
        var csv = new StringBuilder($"{column},a\n");
        foreach (string t in times.Split('|'))
        {
            csv.Append(t).Append(",1\n");
        }

        TraceTable trace = TraceReader.Read(_dir.Write("units.csv", csv.ToString()));

        Assert.Equal(expected, trace.TimeSeconds);
        Assert.Null(trace.StartTime);
    }

    [Fact]
    public void Iso_time_with_offsets_uses_the_real_instant()
    {
        // BikeNYC style: -04:00 local times.
        string file = _dir.Write(
            "nyc.csv",
            "timestamp,area_0\n2014-04-01T08:00:00-04:00,1\n2014-04-01T09:00:00-04:00,2\n2014-04-01T14:00:00Z,3\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(new DateTimeOffset(2014, 4, 1, 8, 0, 0, TimeSpan.FromHours(-4)), trace.StartTime);
        Assert.Equal(TimeSpan.FromHours(-4), trace.StartTime!.Value.Offset);
        Assert.Equal([0.0, 3600, 7200], trace.TimeSeconds);
    }

    [Fact]
    public void Iso_time_across_a_dst_change_follows_the_instant_not_the_wall_clock()
    {
        // Melbourne, DST end 2021-04-04: the wall clock goes 02:30 (+11:00) -> 02:00 (+10:00), real time goes on.
        string file = _dir.Write(
            "melbourne.csv",
            "timestamp,area_1\n" +
            "2021-04-04T01:30:00+11:00,1\n" +
            "2021-04-04T02:30:00+11:00,2\n" +
            "2021-04-04T02:00:00+10:00,3\n" +
            "2021-04-04T03:00:00+10:00,4\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal([0.0, 3600, 5400, 9000], trace.TimeSeconds);
        Assert.Equal(TimeSpan.FromHours(11), trace.StartTime!.Value.Offset);
    }

    [Theory]
    [InlineData("2013-10-31T23:00:00Z", "2013-11-01T00:00:00Z", 3600)]
    [InlineData("2013-10-31T23:00:00.250Z", "2013-10-31T23:00:01.500Z", 1.25)]
    [InlineData("2013-10-31 23:00:00+01:00", "2013-10-31 23:30:00+01:00", 1800)]
    [InlineData("2013-10-31T23:00:00+0100", "2013-10-31T23:00:00+0000", 3600)]
    [InlineData("2013-10-31T23:00", "2013-10-31T23:01", 60)]
    [InlineData("2013-10-31", "2013-11-01", 86400)]
    [InlineData("2013-10-31T23:00:00", "2013-11-01T00:00:00Z", 3600)]
    public void Iso_timestamp_forms(string first, string second, double expectedSeconds)
    {
        TraceTable trace = TraceReader.Read(_dir.Write("forms.csv", $"timestamp,a\n{first},1\n{second},2\n"));

        Assert.Equal([0.0, expectedSeconds], trace.TimeSeconds);
        Assert.NotNull(trace.StartTime);
    }

    [Fact]
    public void Timestamp_without_offset_is_utc()
    {
        TraceTable trace = TraceReader.Read(_dir.Write("utc.csv", "timestamp,a\n2014-04-01T08:00:00,1\n"));

        Assert.Equal(new DateTimeOffset(2014, 4, 1, 8, 0, 0, TimeSpan.Zero), trace.StartTime);
    }

    [Fact]
    public void Extra_time_columns_after_the_first_are_ignored()
    {
        // Milan layout: hour_index, timestamp_utc, timestamp_local_cet, then cells.
        string file = _dir.Write(
            "milan.csv",
            "hour_index,timestamp_utc,timestamp_local_cet,cell_1,cell_10\n" +
            "0,2013-10-31T23:00:00Z,2013-11-01T00:00:00+01:00,13,13\n" +
            "1,2013-11-01T00:00:00Z,2013-11-01T01:00:00+01:00,11,11\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(["cell_1", "cell_10"], trace.Keys.Select(k => k.Source));
        Assert.Equal([0.0, 3600], trace.TimeSeconds);
        Assert.Null(trace.StartTime);
    }

    [Theory]
    [InlineData("date")]
    [InlineData("datetime_local")]
    [InlineData("Timestamp_Local_CET")]
    [InlineData("ts_utc")]
    [InlineData("clock_local")]
    [InlineData("unix_time")]
    public void Time_like_column_names_are_recognised(string name)
    {
        string file = _dir.Write("extra.csv", $"second,{name},a\n0,whatever,1\n1,,2\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal("a", Assert.Single(trace.Keys).Source);
    }

    [Fact]
    public void Csv_details_quotes_crlf_bom_spaces_and_trailing_blank_lines()
    {
        string content = "\"second\",\"a,b\" ,c\r\n0,\"1\", 2 \r\n1,3,\"4\"\r\n\r\n\r\n";
        string file = Path.Combine(_dir.Path, "crlf.csv");
        File.WriteAllText(file, content, Encoding.UTF8);

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(["a,b", "c"], trace.Keys.Select(k => k.Source));
        Assert.Equal([1.0, 3.0], trace.Values[0]);
        Assert.Equal([2.0, 4.0], trace.Values[1]);
    }

    [Fact]
    public void File_without_final_newline_keeps_its_last_row()
    {
        TraceTable trace = TraceReader.Read(_dir.Write("last.csv", "second,a\n0,1\n1,2"));

        Assert.Equal([1.0, 2.0], trace.Values[0]);
    }

    [Fact]
    public void Gzip_and_plain_give_identical_traces()
    {
        string content = Generated(rows: 5000, columns: 7, missingEvery: 13);
        string plain = _dir.Write("trace.csv", content);
        string gz = _dir.WriteGzip("trace.csv.gz", content);
        string gzNamedCsv = _dir.WriteGzip("compressed-but-named.csv", content);
        string plainNamedGz = _dir.Write("plain-but-named.csv.gz", content);

        TraceTable expected = TraceReader.Read(plain);
        foreach (string other in new[] { gz, gzNamedCsv, plainNamedGz })
        {
            AssertSameData(expected, TraceReader.Read(other));
        }

        Assert.True(expected.Fills.FilledCells > 0);
    }

    [Fact]
    public void Multi_member_gzip_is_read_whole()
    {
        // bgzip and `cat a.gz b.gz` produce several members; gunzip reads them as one file.
        string content = Generated(rows: 3000, columns: 3, missingEvery: 0);
        int split = content.IndexOf('\n', content.Length / 2) + 1;
        byte[] bytes = [.. TempDir.Gzip(content[..split]), .. TempDir.Gzip(content[split..])];
        string file = _dir.WriteBytes("multi.csv.gz", bytes);

        AssertSameData(TraceReader.Read(_dir.Write("single.csv", content)), TraceReader.Read(file));
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(0.9)]
    [InlineData(-1)]
    [InlineData(-4)]
    [InlineData(-8)]
    [InlineData(-9)]
    public void Truncated_gzip_names_the_file_and_the_last_line_read(double cut)
    {
        string content = Generated(rows: 20000, columns: 4, missingEvery: 0);
        byte[] gz = TempDir.Gzip(content);
        int length = cut > 0 ? (int)(gz.Length * cut) : gz.Length + (int)cut;
        string file = _dir.WriteBytes("cut.csv.gz", gz[..length]);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.Contains("truncated or corrupt", ex.Message, StringComparison.Ordinal);
        Assert.NotNull(ex.Line);
        Assert.Contains($"after line {ex.Line}", ex.Message, StringComparison.Ordinal);
        Assert.InRange(ex.Line!.Value, 1, 20001);
    }

    [Fact]
    public void Gzip_with_a_bad_checksum_is_an_error()
    {
        byte[] gz = TempDir.Gzip(Generated(rows: 100, columns: 2, missingEvery: 0));
        gz[^8] ^= 0xFF;
        string file = _dir.WriteBytes("crc.csv.gz", gz);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        Assert.Contains("truncated or corrupt", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Gzip_cut_inside_its_header_is_an_error()
    {
        byte[] gz = TempDir.Gzip("second,a\n0,1\n");
        string file = _dir.WriteBytes("header.csv.gz", gz[..6]);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.Contains("ends early", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interpolation_fills_in_time_and_counts_per_column()
    {
        // a: two interior gaps then a trailing one; b: a leading gap and one interior gap; c: complete.
        string file = _dir.Write(
            "gaps.csv",
            "second,a,b,c\n" +
            "0,1,,1\n" +
            "1,,5,1\n" +
            "2,,,1\n" +
            "3,4,7,1\n" +
            "13,,17,1\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal([1.0, 2, 3, 4, 4], trace.Values[0]);
        Assert.Equal([5.0, 5, 6, 7, 17], trace.Values[1]);
        Assert.Equal("linear-interpolation", trace.Fills.Rule);
        Assert.Equal(5, trace.Fills.FilledCells);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 2 }, trace.Fills.FilledByColumn);
    }

    [Fact]
    public void Interpolation_weighs_by_time_not_by_row()
    {
        TraceTable trace = TraceReader.Read(_dir.Write("uneven.csv", "second,a\n0,0\n1,\n3,30\n"));

        Assert.Equal([0.0, 10, 30], trace.Values[0]);
    }

    [Fact]
    public void Carry_forward_repeats_the_previous_reading()
    {
        string file = _dir.Write(
            "gaps.csv",
            "second,a,b,c\n" +
            "0,1,,1\n" +
            "1,,5,1\n" +
            "2,,,1\n" +
            "3,4,7,1\n" +
            "13,,17,1\n");

        TraceTable trace = TraceReader.Read(file, new TraceReadOptions { Fill = FillRule.CarryForward });

        Assert.Equal([1.0, 1, 1, 4, 4], trace.Values[0]);
        Assert.Equal([5.0, 5, 5, 7, 17], trace.Values[1]);
        Assert.Equal("carry-forward", trace.Fills.Rule);
        Assert.Equal(5, trace.Fills.FilledCells);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 3, ["b"] = 2 }, trace.Fills.FilledByColumn);
    }

    [Fact]
    public void Long_trace_is_pivoted_by_app_type_and_source()
    {
        string file = _dir.Write(
            "long.csv",
            "time,app,type,source,volume\n" +
            "0,web,get,s1,1\n" +
            "0,web,get,s2,2\n" +
            "1,web,get,s1,3\n" +
            "1,db,,s1,4\n" +
            "3,web,get,s2,\n" +
            "4,web,get,s2,6\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(
            [new TrafficKey("web", "get", "s1"), new TrafficKey("web", "get", "s2"), new TrafficKey("db", TraceTable.DefaultType, "s1")],
            trace.Keys);
        Assert.Equal([0.0, 1, 3, 4], trace.TimeSeconds);
        Assert.Equal([1.0, 3, 0, 0], trace.Values[0]);
        // s2 is absent at time 1 (a reading of 0) and empty at time 3 (missing): 0 + (6 - 0) * 2/3 = 4.
        Assert.Equal([2.0, 0, 4, 6], trace.Values[1]);
        Assert.Equal([0.0, 4, 0, 0], trace.Values[2]);
        Assert.Equal(1, trace.Fills.FilledCells);
        Assert.Equal(new Dictionary<string, long> { ["web/get/s2"] = 1 }, trace.Fills.FilledByColumn);
    }

    [Fact]
    public void Long_trace_columns_in_any_order_and_case_without_type()
    {
        string file = _dir.Write(
            "long.csv",
            "Source,VOLUME,Timestamp,App\n" +
            "s1,5,2014-04-01T08:00:00-04:00,web\n" +
            "s1,7,2014-04-01T09:00:00-04:00,web\n");

        TraceTable trace = TraceReader.Read(file);

        Assert.Equal(new TrafficKey("web", TraceTable.DefaultType, "s1"), Assert.Single(trace.Keys));
        Assert.Equal([5.0, 7], trace.Values[0]);
        Assert.Equal([0.0, 3600], trace.TimeSeconds);
        Assert.Equal(new DateTimeOffset(2014, 4, 1, 12, 0, 0, TimeSpan.Zero), trace.StartTime);
    }

    [Fact]
    public void Long_trace_gzip_matches_plain()
    {
        var csv = new StringBuilder("time,app,type,source,volume\n");
        for (int t = 0; t < 2000; t++)
        {
            for (int s = 0; s < 5; s++)
            {
                if ((t + s) % 7 != 0)
                {
                    csv.Append($"{t},app{s % 2},req,s{s},{(t * s) % 97}\n");
                }
            }
        }

        AssertSameData(
            TraceReader.Read(_dir.Write("long.csv", csv.ToString())),
            TraceReader.Read(_dir.WriteGzip("long.csv.gz", csv.ToString())));
    }

    public void Dispose() => _dir.Dispose();

    internal static string Generated(int rows, int columns, int missingEvery)
    {
        var csv = new StringBuilder("second");
        for (int c = 0; c < columns; c++)
        {
            csv.Append(",cell_").Append(c);
        }

        csv.Append('\n');
        for (int r = 0; r < rows; r++)
        {
            csv.Append(r);
            for (int c = 0; c < columns; c++)
            {
                csv.Append(',');
                bool missing = missingEvery > 0 && (r * columns + c) % missingEvery == 0 && r > 0 && r < rows - 1;
                if (!missing)
                {
                    csv.Append((r * 31 + c * 7) % 101);
                }
            }

            csv.Append('\n');
        }

        return csv.ToString();
    }

    private static void AssertSameData(TraceTable expected, TraceTable actual)
    {
        Assert.Equal(expected.TimeSeconds, actual.TimeSeconds);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.Keys, actual.Keys);
        Assert.Equal(expected.Values.Length, actual.Values.Length);
        for (int k = 0; k < expected.Values.Length; k++)
        {
            Assert.Equal(expected.Values[k], actual.Values[k]);
        }

        Assert.Equal(expected.Fills.Rule, actual.Fills.Rule);
        Assert.Equal(expected.Fills.FilledCells, actual.Fills.FilledCells);
        Assert.Equal(expected.Fills.FilledByColumn, actual.Fills.FilledByColumn);
    }
}
