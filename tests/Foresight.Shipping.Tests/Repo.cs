using System.Diagnostics;
using System.Text;

namespace Foresight.Shipping.Tests;

/// <summary>The clone these tests ship from, and the child processes they run.</summary>
internal static class Repo
{
    /// <summary>The clone: above the test binaries, or above this source file or the working directory.</summary>
    public static string Root { get; } = FindRoot();

    public static string CliProject => Path.Combine(Root, "src", "Foresight.Cli");

    /// <summary>The shared traces: <c>$FORESIGHT_DATA</c>, else the first <c>shared/data</c> above the clone.</summary>
    public static string DataRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("FORESIGHT_DATA") is { Length: > 0 } env)
            {
                return env;
            }

            for (DirectoryInfo? d = new(Root); d is not null; d = d.Parent)
            {
                string candidate = Path.Combine(d.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }

            throw new InvalidOperationException($"No shared/data above {Root} and FORESIGHT_DATA is not set.");
        }
    }

    /// <summary>The dotnet host running these tests (the SDK's), so that children use the same SDK.</summary>
    public static string Dotnet => Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";

    /// <summary>Runs a program to completion and returns its exit code with standard output and error together.</summary>
    public static async Task<(int Code, string Output)> RunAsync(
        string program, IEnumerable<string> args, string workingDirectory, IReadOnlyDictionary<string, string>? env = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program, args)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        // A child build must not inherit the MSBuild settings `dotnet test` gives its test host.
        foreach (string key in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_SKIP_FIRST_TIME_EXPERIENCE"] = "1";
        foreach ((string key, string value) in env ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        using Process process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {program}");
        var output = new StringBuilder();
        Task stdout = PumpAsync(process.StandardOutput, output);
        Task stderr = PumpAsync(process.StandardError, output);
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeout ?? TimeSpan.FromMinutes(2)}:\n{output}");
        }

        await Task.WhenAll(stdout, stderr);
        return (process.ExitCode, output.ToString());
    }

    private static async Task PumpAsync(StreamReader reader, StringBuilder into)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            lock (into)
            {
                into.AppendLine(line);
            }
        }
    }

    private static string FindRoot()
    {
        foreach (string start in new[] { AppContext.BaseDirectory, Path.GetDirectoryName(SourceFile()) ?? "", Environment.CurrentDirectory })
        {
            for (DirectoryInfo? d = start.Length > 0 ? new(start) : null; d is not null; d = d.Parent)
            {
                if (File.Exists(Path.Combine(d.FullName, "Foresight.slnx")))
                {
                    return d.FullName;
                }
            }
        }

        throw new InvalidOperationException("Foresight.slnx not found above " + AppContext.BaseDirectory);
    }

    private static string SourceFile([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;
}
