using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;
using Foresight.Core.Traffic;
using Foresight.Ingest;
using Foresight.Simulation.Scenarios;

namespace Foresight.IntegrationTests.Prometheus;

[CollectionDefinition(Name)]
public sealed class PrometheusCollection : ICollectionFixture<PrometheusFixture>
{
    public const string Name = "prometheus";
}

/// <summary>
/// A real Prometheus on 127.0.0.1, on a free port, whose TSDB is backfilled with <c>promtool tsdb
/// create-blocks-from openmetrics</c> from a slice of the Milan trace (the first <see cref="Hours"/> hours of the first
/// <see cref="Cells"/> cells, metric <c>foresight_milan_activity{cell}</c>) plus deliberately faulty series
/// (<see cref="FaultyMetric"/> with NaN, +Inf, a gap, a late and an early-ending series; <see cref="AllNanMetric"/>).
/// Without the <c>prometheus</c> and <c>promtool</c> binaries the tests fail, saying what to install.
/// </summary>
public sealed class PrometheusFixture : IAsyncLifetime
{
    public const int Hours = 72;
    public const int Cells = 40;
    public const string Metric = "foresight_milan_activity";
    public const string FaultyMetric = "foresight_faulty";
    public const string AllNanMetric = "foresight_all_nan";

    private BackfilledPrometheus? _server;

    /// <summary>The faulty series, hour by hour from <see cref="Start"/> (null = no sample that hour).</summary>
    public static readonly IReadOnlyDictionary<string, string?[]> Faulty = new Dictionary<string, string?[]>
    {
        ["holes"] = ["10", "20", "NaN", "+Inf", null, "60", "70"],
        ["late"] = [null, null, null, "5", "6", "7", "8"],
        ["gone"] = ["1", "2", "3", null, null, null, null],
    };

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("foresight-prom-").FullName;

    public Uri Url { get; private set; } = null!;

    /// <summary>The slice as the project's trace reader reads it (the expected values).</summary>
    public TraceTable Expected { get; private set; } = null!;

    /// <summary>The slice as a wide CSV trace.</summary>
    public string SliceCsv => Path.Combine(Directory, "milan_slice.csv");

    public string SourcesCsv { get; private set; } = null!;

    public DateTimeOffset Start { get; private set; }

    public DateTimeOffset End => Start.AddHours(Hours - 1);

    public async Task InitializeAsync()
    {
        try
        {
            await StartAsync();
        }
        catch
        {
            // xunit does not dispose a fixture that failed to initialise: stop the server and clean up here.
            await DisposeAsync();
            throw;
        }
    }

    private async Task StartAsync()
    {
        string data = FindData();
        SourcesCsv = Path.Combine(data, "milan_telecom_cdr_hourly", "milan_cells.csv");

        WriteSlice(Path.Combine(data, "milan_telecom_cdr_hourly", "milan_cdr_hourly_dev.csv.gz"));
        Expected = TraceReader.Read(SliceCsv);
        Start = Expected.StartTime ?? throw new InvalidOperationException("The slice has no timestamps.");

        _server = await BackfilledPrometheus.StartAsync(OpenMetrics());
        Url = _server.Url;
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open; the temp folder is cleaned by the OS later.
        }
    }

    public DateTimeOffset Hour(int h) => Start.AddHours(h);

    /// <summary>A port that nothing listens on (picked free, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void WriteSlice(string gz)
    {
        using var reader = new StreamReader(new GZipStream(File.OpenRead(gz), CompressionMode.Decompress));
        string[] header = reader.ReadLine()!.Split(',');
        int utc = Array.IndexOf(header, "timestamp_utc");
        int firstCell = Array.FindIndex(header, h => h.StartsWith("cell_", StringComparison.Ordinal));
        Assert.True(utc >= 0 && firstCell >= 0, $"Unexpected header in {gz}");

        var lines = new List<string> { "timestamp_utc," + string.Join(',', header[firstCell..(firstCell + Cells)]) };
        for (int h = 0; h < Hours; h++)
        {
            string[] row = reader.ReadLine()!.Split(',');
            lines.Add(row[utc] + "," + string.Join(',', row[firstCell..(firstCell + Cells)]));
        }

        File.WriteAllText(SliceCsv, string.Join('\n', lines) + "\n");
    }

    private string OpenMetrics()
    {
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"# HELP {Metric} Milan CDR activity per cell and hour.\n# TYPE {Metric} gauge\n");
        for (int k = 0; k < Expected.Keys.Count; k++)
        {
            for (int h = 0; h < Expected.RowCount; h++)
            {
                text.Append(CultureInfo.InvariantCulture, $"{Metric}{{cell=\"{Expected.Keys[k].Source}\"}} {Expected.Values[k][h]:R} {Unix(Hour(h))}\n");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"# HELP {FaultyMetric} Series with NaN, +Inf, gaps and series that start late or end early.\n# TYPE {FaultyMetric} gauge\n");
        foreach ((string zone, string?[] values) in Faulty)
        {
            for (int h = 0; h < values.Length; h++)
            {
                if (values[h] is string v)
                {
                    text.Append(CultureInfo.InvariantCulture, $"{FaultyMetric}{{zone=\"{zone}\"}} {v} {Unix(Hour(h))}\n");
                }
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"# TYPE {AllNanMetric} gauge\n");
        for (int h = 0; h < 7; h++)
        {
            text.Append(CultureInfo.InvariantCulture, $"{AllNanMetric}{{zone=\"x\"}} NaN {Unix(Hour(h))}\n");
        }

        return text.Append("# EOF\n").ToString();
    }

    private static long Unix(DateTimeOffset t) => t.ToUnixTimeSeconds();

    internal static string FindTool(string name)
    {
        string[] dirs = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        foreach (string dir in dirs.Append("/usr/bin").Append("/usr/local/bin"))
        {
            string path = Path.Combine(dir, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new InvalidOperationException(
            $"'{name}' was not found on PATH. These integration tests need a real Prometheus: install the Debian package " +
            "with 'apt-get install -y prometheus' (it provides prometheus and promtool; .ci/run does this). They are never skipped.");
    }

    private static string FindData([CallerFilePath] string sourceFile = "") =>
        DataPaths.FindDataRoot()
        ?? DataPaths.FindDataRoot(null, [Path.GetDirectoryName(sourceFile) ?? "."])
        ?? throw new InvalidOperationException(
            $"The shared data folder (shared/data beside the repository, or ${DataPaths.EnvironmentVariable}) was not found; these tests are not skipped.");
}
