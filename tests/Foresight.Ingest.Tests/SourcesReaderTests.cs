using Foresight.Core.Topology;

namespace Foresight.Ingest.Tests;

public sealed class SourcesReaderTests : IDisposable
{
    private readonly TempDir _dir = new();

    [Fact]
    public void Km_coordinates_are_taken_as_given()
    {
        string file = _dir.Write("areas.csv", "area_id,x_km,y_km,lon,lat\n1,0.5,1.5,144.9,-37.8\n2,3,4,145,-37.7\n");

        IReadOnlyList<Source> sources = SourcesReader.Read(file);

        Assert.Equal([new Source("1", 0.5, 1.5), new Source("2", 3, 4)], sources);
    }

    [Fact]
    public void Longitude_latitude_are_projected_from_the_south_west_corner()
    {
        string file = _dir.Write("points.csv", "id,lon,lat,name\na,10,0,x\nb,11,1,y\nc,10.5,0.5,z\n");

        IReadOnlyList<Source> sources = SourcesReader.Read(file);

        double kmPerLon = 111.320 * Math.Cos(0.5 * Math.PI / 180);
        Assert.Equal(["a", "b", "c"], sources.Select(s => s.Id));
        Assert.Equal(0, sources[0].XKm, 9);
        Assert.Equal(0, sources[0].YKm, 9);
        Assert.Equal(kmPerLon, sources[1].XKm, 9);
        Assert.Equal(110.574, sources[1].YKm, 9);
        Assert.Equal(kmPerLon / 2, sources[2].XKm, 9);
        Assert.Equal(110.574 / 2, sources[2].YKm, 9);
    }

    [Theory]
    [InlineData("cell_id,grid_row,nearest_lte_bs_lon,nearest_lte_bs_lat,dist")]
    [InlineData("source,lng,latitude")]
    [InlineData("sensor_id,Longitude,Latitude")]
    [InlineData("ID,lon_approx,lat_approx")]
    public void Coordinate_and_id_column_names(string header)
    {
        string[] names = header.Split(',');
        string Row(string id, string lon, string lat) =>
            string.Join(',', names.Select(n =>
                n.Contains("lon", StringComparison.OrdinalIgnoreCase) || n.Contains("lng", StringComparison.OrdinalIgnoreCase) ? lon
                : n.Contains("lat", StringComparison.OrdinalIgnoreCase) ? lat
                : n.Contains("id", StringComparison.OrdinalIgnoreCase) || n == "source" ? id
                : "7"));
        string file = _dir.Write("named.csv", $"{header}\n{Row("1", "9.0", "45.0")}\n{Row("10", "9.1", "45.2")}\n");

        IReadOnlyList<Source> sources = SourcesReader.Read(file);

        Assert.Equal(["1", "10"], sources.Select(s => s.Id));
        Assert.Equal(0, sources[0].XKm, 9);
        Assert.Equal(0.2 * 110.574, sources[1].YKm, 6);
        Assert.Equal(0.1 * 111.320 * Math.Cos(45.1 * Math.PI / 180), sources[1].XKm, 6);
    }

    [Fact]
    public void Quoted_fields_with_commas_and_gzip()
    {
        string content =
            "area_id,x_km,y_km,lon,lat,city,station_name,region_k6\n" +
            "2,45.619,0.000,-121.901782,37.329732,San Jose,\"San Jose Diridon, Caltrain \"\"Station\"\"\",0\n" +
            "3,46.749,0.107,-121.888979,37.330698,San Jose,\"San Jose Civic Center\",0\n";

        IReadOnlyList<Source> plain = SourcesReader.Read(_dir.Write("areas.csv", content));
        IReadOnlyList<Source> gz = SourcesReader.Read(_dir.WriteGzip("areas.csv.gz", content));

        Assert.Equal([new Source("2", 45.619, 0), new Source("3", 46.749, 0.107)], plain);
        Assert.Equal(plain, gz);
    }

    public static TheoryData<string, string, int, string?, string> ErrorCases => new()
    {
        { "no-id", "name,x_km,y_km\na,1,2\n", 1, "id", "no id column" },
        { "no-coordinates", "area_id,name\n1,a\n", 1, "longitude", "no coordinate columns" },
        { "no-latitude", "area_id,lon\n1,9\n", 1, "latitude", "no coordinate columns" },
        { "x-without-y", "area_id,x_km,lon,lat\n1,2,9,45\n", 1, "y_km", "missing column 'y_km'" },
        { "bad-number", "area_id,x_km,y_km\n1,1,2\n2,abc,2\n", 3, "x_km", "not a number: 'abc'" },
        { "nan", "area_id,x_km,y_km\n1,1,NaN\n", 2, "y_km", "not a number: 'NaN'" },
        { "empty-coordinate", "area_id,lon,lat\n1,9,\n", 2, "lat", "missing coordinate" },
        { "latitude-range", "cell_id,lon,lat\n1,9,95\n", 2, "lat", "out of range" },
        { "longitude-range", "cell_id,lon,lat\n1,190,45\n", 2, "lon", "out of range" },
        { "duplicate-id", "area_id,x_km,y_km\n17,1,2\n18,1,2\n17,3,4\n", 4, "area_id", "duplicate id '17' (first on line 2)" },
        { "empty-id", "area_id,x_km,y_km\n,1,2\n", 2, "area_id", "empty id" },
        { "ragged", "area_id,x_km,y_km\n1,2\n", 2, "y_km", "ragged row" },
        { "duplicate-column", "area_id,x_km,y_km,x_km\n1,2,3,4\n", 1, "x_km", "duplicate column name" },
        { "header-only", "area_id,x_km,y_km\n", 2, null, "no data rows" },
        { "empty", "", 1, null, "empty file" },
    };

    [Theory]
    [MemberData(nameof(ErrorCases))]
    public void Bad_sources_file_is_reported_with_file_line_and_column(string name, string content, int line, string? column, string fragment)
    {
        string file = _dir.Write(name + ".csv", content);

        var ex = Assert.Throws<TraceFormatException>(() => SourcesReader.Read(file));

        TraceReaderErrorTests.AssertNames(ex, file, line, column, fragment);
    }

    [Fact]
    public void Columns_match_ids_with_or_without_a_prefix()
    {
        Source[] sources =
        [
            new("17", 1, 2), new("1000", 3, 4), new("s3", 5, 6), new("cell_5", 7, 8), new("unused", 9, 9),
        ];

        IReadOnlyList<Source> matched = SourcesReader.MatchColumns(
            sources, ["area_17", "cell_1000", "s3", "5", "cell_5", "sensor_17", "AREA_17"], "areas.csv");

        Assert.Equal(
            [
                new Source("area_17", 1, 2), new Source("cell_1000", 3, 4), new Source("s3", 5, 6), new Source("5", 7, 8),
                new Source("cell_5", 7, 8), new Source("sensor_17", 1, 2), new Source("AREA_17", 1, 2),
            ],
            matched);
    }

    [Fact]
    public void Unknown_trace_column_names_the_sources_file_and_the_column()
    {
        Source[] sources = [new("1", 0, 0), new("2", 0, 0)];

        var ex = Assert.Throws<TraceFormatException>(
            () => SourcesReader.MatchColumns(sources, ["area_1", "area_99"], "data/areas.csv"));

        Assert.Equal("data/areas.csv", ex.File);
        Assert.Equal("area_99", ex.Field);
        Assert.Contains("unknown column 'area_99': not in sources file data/areas.csv", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ambiguous_trace_column_is_an_error()
    {
        Source[] sources = [new("cell_1", 0, 0), new("area_1", 1, 1)];

        Assert.Equal("cell_1", Assert.Single(SourcesReader.MatchColumns(sources, ["cell_1"], "s.csv")).Id);
        var ex = Assert.Throws<TraceFormatException>(() => SourcesReader.MatchColumns(sources, ["sensor_1"], "s.csv"));
        Assert.Contains("ambiguous column 'sensor_1'", ex.Message, StringComparison.Ordinal);
    }

    public void Dispose() => _dir.Dispose();
}
