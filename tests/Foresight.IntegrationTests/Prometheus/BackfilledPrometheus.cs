using System.Collections.Concurrent;
using System.Diagnostics;
namespace Foresight.IntegrationTests.Prometheus;

/// <summary>
/// A real Prometheus on a free 127.0.0.1 port whose TSDB holds exactly the OpenMetrics text a test gives (backfilled
/// with <c>promtool tsdb create-blocks-from openmetrics</c>), so that instant queries at any (fake) time answer from
/// it. Without the <c>prometheus</c> and <c>promtool</c> binaries it fails, saying what to install; it never skips.
/// </summary>
internal sealed class BackfilledPrometheus : IAsyncDisposable
{
    private readonly ConcurrentQueue<string> _log = new();
    private readonly string _directory;
    private Process? _process;

    private BackfilledPrometheus(string directory, Uri url)
    {
        _directory = directory;
        Url = url;
    }

    public Uri Url { get; }

    public static async Task<BackfilledPrometheus> StartAsync(string openMetrics)
    {
        string promtool = PrometheusFixture.FindTool("promtool");
        string binary = PrometheusFixture.FindTool("prometheus");
        string dir = Directory.CreateTempSubdirectory("foresight-prom-server-").FullName;
        var server = new BackfilledPrometheus(dir, new Uri($"http://127.0.0.1:{PrometheusFixture.FreePort()}/"));
        try
        {
            string input = Path.Combine(dir, "backfill.om");
            await File.WriteAllTextAsync(input, openMetrics);
            string storage = Path.Combine(dir, "tsdb");
            await RunToEnd(promtool, ["tsdb", "create-blocks-from", "openmetrics", input, storage]);
            string config = Path.Combine(dir, "prometheus.yml");
            await File.WriteAllTextAsync(config, "scrape_configs: []\n");
            var start = new ProcessStartInfo(binary) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (string arg in new[]
            {
                $"--config.file={config}",
                $"--storage.tsdb.path={storage}",
                // Backfilled data may be years old: retention must reach back that far or Prometheus deletes the blocks at start.
                "--storage.tsdb.retention.time=100y",
                $"--web.listen-address={server.Url.Host}:{server.Url.Port}",
            })
            {
                start.ArgumentList.Add(arg);
            }

            server._process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {binary}.");
            server._process.OutputDataReceived += (_, e) => server.Log(e.Data);
            server._process.ErrorDataReceived += (_, e) => server.Log(e.Data);
            server._process.BeginOutputReadLine();
            server._process.BeginErrorReadLine();
            await server.WaitReady();
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by the dying process; the temp folder is cleaned by the OS later.
        }

        return ValueTask.CompletedTask;
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
            if (_process!.HasExited)
            {
                throw new InvalidOperationException($"prometheus exited with code {_process.ExitCode} before it was ready:\n{string.Join('\n', _log)}");
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
}
