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

    private readonly ConcurrentQueue<string> _log = new();
    private Process? _prometheus;

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
        string promtool = FindTool("promtool");
        string prometheus = FindTool("prometheus");
        string data = FindData();
        SourcesCsv = Path.Combine(data, "milan_telecom_cdr_hourly", "milan_cells.csv");

        WriteSlice(Path.Combine(data, "milan_telecom_cdr_hourly", "milan_cdr_hourly_dev.csv.gz"));
        Expected = TraceReader.Read(SliceCsv);
        Start = Expected.StartTime ?? throw new InvalidOperationException("The slice has no timestamps.");

        string openMetrics = Path.Combine(Directory, "backfill.om");
        await File.WriteAllTextAsync(openMetrics, OpenMetrics());
        string storage = Path.Combine(Directory, "tsdb");
        await RunToEnd(promtool, ["tsdb", "create-blocks-from", "openmetrics", openMetrics, storage]);

        string config = Path.Combine(Directory, "prometheus.yml");
        await File.WriteAllTextAsync(config, "scrape_configs: []\n");
        int port = FreePort();
        Url = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo(prometheus)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[]
        {
            $"--config.file={config}",
            $"--storage.tsdb.path={storage}",
            // The data is from 2013: retention must reach back that far or Prometheus deletes the blocks at start.
            "--storage.tsdb.retention.time=100y",
            $"--web.listen-address=127.0.0.1:{port}",
        })
        {
            start.ArgumentList.Add(arg);
        }

        _prometheus = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {prometheus}.");
        _prometheus.OutputDataReceived += (_, e) => Log(e.Data);
        _prometheus.ErrorDataReceived += (_, e) => Log(e.Data);
        _prometheus.BeginOutputReadLine();
        _prometheus.BeginErrorReadLine();
        await WaitReady();
    }

    public Task DisposeAsync()
    {
        if (_prometheus is { HasExited: false })
        {
            _prometheus.Kill(entireProcessTree: true);
            _prometheus.WaitForExit(10_000);
        }

        _prometheus?.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the dying process; the temp folder is cleaned by the OS later.
        }

        return Task.CompletedTask;
    }

    public DateTimeOffset Hour(int h) => Start.AddHours(h);

    /// <summary>A port that nothing listens on (picked free, then released).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private void Log(string? line)
    {
        if (line is not null)
        {
            _log.Enqueue(line);
            while (_log.Count > 200 && _log.TryDequeue(out _))
            {
            }
        }
    }

    private async Task WaitReady()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(60))
        {
            if (_prometheus!.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {_prometheus.ExitCode} before it was ready:\n{string.Join('\n', _log)}");
            }

            try
            {
                using HttpResponseMessage response = await http.GetAsync(new Uri(Url, "-/ready"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(100);
        }

        throw new InvalidOperationException($"prometheus was not ready at {Url}-/ready within 60 s:\n{string.Join('\n', _log)}");
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

    private static async Task RunToEnd(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        using Process process = Process.Start(start)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed with exit code {process.ExitCode}:\n{await output}\n{await error}");
        }
    }

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
