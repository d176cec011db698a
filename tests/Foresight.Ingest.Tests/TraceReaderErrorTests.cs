using Foresight.Core;

namespace Foresight.Ingest.Tests;

public sealed class TraceReaderErrorTests : IDisposable
{
    private readonly TempDir _dir = new();

    /// <summary>Case name, file content, expected line, expected column (null: none applies), message fragment.</summary>
    public static TheoryData<string, string, int, string?, string> WideCases => new()
    {
        { "text", "time,a\n0,1\n1,x\n", 3, "a", "not a number: 'x'" },
        { "nan", "time,a\n0,NaN\n", 2, "a", "not a number: 'NaN'" },
        { "infinity", "time,a,b\n0,1,Infinity\n", 2, "b", "not a number: 'Infinity'" },
        { "negative-infinity", "time,a\n0,-Infinity\n", 2, "a", "not a number" },
        { "inf", "time,a\n0,1\n1,inf\n", 3, "a", "not a number: 'inf'" },
        { "thousands-separator", "time,a\n0,\"1,000\"\n", 2, "a", "not a number: '1,000'" },
        { "negative", "time,a,b\n0,1,2\n1,3,-4\n", 3, "b", "negative value -4" },
        { "absurd", "time,a\n0,2e12\n", 2, "a", "absurd value 2e12" },
        { "ragged-short", "time,a,b\n0,1,2\n1,3\n", 3, "b", "ragged row: expected 3 cells (as in the header), got 2" },
        { "ragged-long", "time,a,b\n0,1,2,3\n", 2, "b", "ragged row: expected 3 cells (as in the header), got 4" },
        { "backwards", "time,a\n0,1\n5,1\n3,1\n", 4, "time", "time going backwards" },
        { "repeating", "second,a\n0,1\n1,1\n1,2\n", 4, "second", "time repeating" },
        { "repeating-iso", "timestamp,a\n2014-04-01T08:00:00-04:00,1\n2014-04-01T12:00:00Z,1\n", 3, "timestamp", "time repeating" },
        { "backwards-iso", "timestamp,a\n2014-04-01T08:00:00-04:00,1\n2014-04-01T11:00:00Z,1\n", 3, "timestamp", "time going backwards" },
        { "unparseable-time", "timestamp,a\n2014-04-01T00:00:00Z,1\nnot-a-time,2\n", 3, "timestamp", "unparseable time 'not-a-time'" },
        { "unparseable-first-time", "timestamp,a\nyesterday,1\n", 2, "timestamp", "unparseable time 'yesterday'" },
        { "number-after-iso", "timestamp,a\n2014-04-01T00:00:00Z,1\n3600,1\n", 3, "timestamp", "unparseable time '3600'" },
        { "iso-after-number", "hour_index,a\n0,1\n2014-04-01T00:00:00Z,1\n", 3, "hour_index", "expected a number of hours" },
        { "bad-date", "timestamp,a\n2014-02-30T00:00:00Z,1\n", 2, "timestamp", "unparseable time" },
        { "empty-time", "time,a\n0,1\n,2\n", 3, "time", "empty time cell" },
        { "duplicate-column", "time,a,b,a\n0,1,2,3\n", 1, "a", "duplicate column name 'a'" },
        { "duplicate-column-case", "time,Area_1,area_1\n0,1,2\n", 1, "area_1", "duplicate column name" },
        { "empty-column-name", "time,,b\n0,1,2\n", 1, "column 2", "empty column name" },
        { "no-source-columns", "time,timestamp_utc\n0,2013-10-31T23:00:00Z\n", 1, "time", "no source columns" },
        { "all-empty-column", "time,a,b\n0,1,\n1,2, \n", 2, "b", "column 'b' has no readings" },
        { "blank-line", "time,a\n0,1\n\n1,2\n", 3, "time", "blank line inside the data" },
        { "unterminated-quote", "time,a\n0,1\n1,\"2\n", 3, "a", "unterminated quoted cell" },
        { "text-after-quote", "time,a\n0,\"1\"x\n", 2, "a", "after a closing quote" },
    };

    public static TheoryData<string, string, int, string?, string> LongCases => new()
    {
        { "unknown-column", "time,app,source,volume,colour\n0,web,s1,1,red\n", 1, "colour", "unknown column 'colour'" },
        { "missing-volume", "time,app,source\n0,web,s1\n", 1, "volume", "missing required column 'volume'" },
        { "missing-time", "app,source,volume\nweb,s1,1\n", 1, "time", "missing required column 'time'" },
        { "missing-app", "time,source,volume\n0,s1,1\n", 1, "app", "missing required column 'app'" },
        { "two-time-columns", "time,timestamp,app,source,volume\n0,0,web,s1,1\n", 1, "timestamp", "two time columns" },
        { "duplicate-key", "time,app,type,source,volume\n0,web,get,s1,1\n0,web,get,s2,1\n0,web,get,s1,2\n", 4, "source", "duplicate row" },
        { "backwards", "time,app,source,volume\n0,web,s1,1\n2,web,s1,1\n1,web,s1,1\n", 4, "time", "time going backwards" },
        { "not-a-number", "time,app,source,volume\n0,web,s1,lots\n", 2, "volume", "not a number: 'lots'" },
        { "negative", "time,app,source,volume\n0,web,s1,-1\n", 2, "volume", "negative value -1" },
        { "empty-app", "time,app,source,volume\n0,,s1,1\n", 2, "app", "empty app" },
        { "empty-source", "time,app,source,volume\n0,web, ,1\n", 2, "source", "empty source" },
        { "ragged", "time,app,source,volume\n0,web,s1\n", 2, "volume", "ragged row: expected 4 cells (as in the header), got 3" },
        { "header-only", "time,app,source,volume\n", 2, null, "no data rows" },
    };

    public static TheoryData<string, string, int, string?, string> FileCases => new()
    {
        { "empty-file", "", 1, null, "empty file" },
        { "only-blank-lines", "\n\n", 1, null, "empty file" },
        { "header-only", "time,a\n", 2, null, "no data rows" },
        { "header-only-trailing-blank", "time,a\n\n", 2, null, "no data rows" },
    };

    [Theory]
    [MemberData(nameof(WideCases))]
    [MemberData(nameof(LongCases))]
    [MemberData(nameof(FileCases))]
    public void Bad_trace_is_reported_with_file_line_and_column(string name, string content, int line, string? column, string fragment)
    {
        string file = _dir.Write(name + ".csv", content);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        AssertNames(ex, file, line, column, fragment);
    }

    [Theory]
    [MemberData(nameof(WideCases))]
    [MemberData(nameof(LongCases))]
    [MemberData(nameof(FileCases))]
    public void Bad_gzip_trace_is_reported_the_same_way(string name, string content, int line, string? column, string fragment)
    {
        string file = _dir.WriteGzip(name + ".csv.gz", content);

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        AssertNames(ex, file, line, column, fragment);
    }

    [Fact]
    public void Absurd_limit_is_configurable()
    {
        string file = _dir.Write("big.csv", "time,a\n0,5000\n");

        Assert.Equal(5000, TraceReader.Read(file).Values[0][0]);
        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file, new TraceReadOptions { MaxValue = 1000 }));
        AssertNames(ex, file, 2, "a", "absurd value 5000");
    }

    [Fact]
    public void Missing_file_is_an_input_error()
    {
        string file = Path.Combine(_dir.Path, "nope.csv");

        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(file));

        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.Contains("file not found", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Directory_is_an_input_error()
    {
        var ex = Assert.Throws<TraceFormatException>(() => TraceReader.Read(_dir.Path));

        Assert.Contains("directory", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Trace_errors_are_invalid_input_for_the_cli()
    {
        string file = _dir.Write("bad.csv", "time,a\n0,x\n");

        InvalidInputException ex = Assert.ThrowsAny<InvalidInputException>(() => TraceReader.Read(file));

        Assert.StartsWith($"{file}:2 [a]: not a number: 'x'", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();

    internal static void AssertNames(InvalidInputException ex, string file, int line, string? column, string fragment)
    {
        Assert.Equal(file, ex.File);
        Assert.Equal(line, ex.Line);
        Assert.Equal(column, ex.Field);
        Assert.Contains(file, ex.Message, StringComparison.Ordinal);
        Assert.Contains($":{line}", ex.Message, StringComparison.Ordinal);
        if (column is not null)
        {
            Assert.Contains($"[{column}]", ex.Message, StringComparison.Ordinal);
        }

        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }
}
