using System.Text.Json;
using System.Text.RegularExpressions;

namespace Foresight.Shipping.Tests;

/// <summary>The self-contained single file and the dotnet tool, built as a user would and run.</summary>
public sealed partial class SingleFileAndToolTests(ShippedArtifacts shipped) : IClassFixture<ShippedArtifacts>
{
    [Fact]
    public async Task The_single_file_is_one_self_contained_executable_that_prints_its_version()
    {
        Assert.True(File.Exists(shipped.Binary), "publish made no 'foresight'");
        Assert.True(OperatingSystem.IsWindows() || File.GetUnixFileMode(shipped.Binary).HasFlag(UnixFileMode.UserExecute));
        // Self-contained single file: the runtime, the assemblies, the native libraries and the symbols are inside it.
        Assert.Equal(["foresight"], Directory.GetFiles(shipped.PublishDir).Select(Path.GetFileName));

        // No DOTNET_ROOT and an empty PATH: it must not need an installed runtime.
        (int code, string output) = await Repo.RunAsync(shipped.Binary, ["--version"], shipped.Root,
            new Dictionary<string, string> { ["PATH"] = "", ["DOTNET_ROOT"] = "" });

        Assert.True(code == 0, output);
        Assert.Equal(ShippedArtifacts.Version, output.Trim());
    }

    [Fact]
    public async Task The_single_file_simulates_an_hour_and_draws_its_report_with_the_natives_it_carries()
    {
        string work = Directory.CreateTempSubdirectory("foresight-simulate-").FullName;
        string extract = Path.Combine(work, "extract");
        try
        {
            (int code, string output) = await Repo.RunAsync(shipped.Binary,
                ["simulate", "--duration", "1h", "--policies", "hpa,predictive", "--json", "out.json", "--report", "out.html"], work,
                new Dictionary<string, string> { ["FORESIGHT_DATA"] = Repo.DataRoot, ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = extract });

            Assert.True(code == 0, output);
            Assert.Contains("milan: ", output);
            Assert.Matches(@"│\s+predictive\s+│", output);
            using JsonDocument json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(work, "out.json")));
            JsonElement[] policies = [.. json.RootElement.GetProperty("policies").EnumerateArray()];
            Assert.Equal(["hpa", "predictive"], policies.Select(p => p.GetProperty("name").GetString()));
            foreach (JsonElement p in policies)
            {
                Assert.True(p.GetProperty("requests").GetInt64() > 10_000, p.ToString());
                double p50 = p.GetProperty("latencyP50Ms").GetDouble(), p99 = p.GetProperty("latencyP99Ms").GetDouble();
                Assert.True(p50 > 0 && p99 >= p50 && p99 < 10_000, p.ToString());
            }

            // The plots are PNGs drawn by SkiaSharp, whose native library the single file extracted where it was told
            // (the image points this at /tmp, its only writable place).
            string report = await File.ReadAllTextAsync(Path.Combine(work, "out.html"));
            Assert.True(PngImage().Count(report) >= 3, "the report has no plots");
            Assert.Single(Directory.GetFiles(extract, "libSkiaSharp.so", SearchOption.AllDirectories));
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task The_single_file_runs_the_controller_with_its_SQLite_journal()
    {
        string work = Directory.CreateTempSubdirectory("foresight-run-").FullName;
        try
        {
            (int code, string output) = await Repo.RunAsync(shipped.Binary, ["run", "--ticks", "3", "--journal", "journal.db"], work,
                new Dictionary<string, string> { ["FORESIGHT_DATA"] = Repo.DataRoot, ["DOTNET_BUNDLE_EXTRACT_BASE_DIR"] = Path.Combine(work, "extract") });

            Assert.True(code == 0, output);
            Assert.Contains("3 tick(s)", output);
            Assert.True(new FileInfo(Path.Combine(work, "journal.db")).Length > 0);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public async Task The_tool_package_installs_from_a_local_folder_and_runs()
    {
        Assert.True(File.Exists(Path.Combine(shipped.PackageDir, $"Foresight.Cli.{ShippedArtifacts.Version}.nupkg")),
            "pack made no Foresight.Cli package: " + string.Join(", ", Directory.GetFiles(shipped.PackageDir)));
        string tools = Path.Combine(shipped.Root, "tools");
        // Only the local folder as a source, so that a package of the same name elsewhere cannot be picked.
        string config = Path.Combine(shipped.Root, "nuget.config");
        await File.WriteAllTextAsync(config, $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="local" value="{shipped.PackageDir}" />
              </packageSources>
            </configuration>
            """);

        (int code, string output) = await Repo.RunAsync(Repo.Dotnet,
            ["tool", "install", "--tool-path", tools, "--configfile", config, "Foresight.Cli", "--version", ShippedArtifacts.Version], shipped.Root,
            timeout: TimeSpan.FromMinutes(5));
        Assert.True(code == 0, output);

        // The tool is framework-dependent: its shim finds the runtime of the SDK running these tests.
        string? dotnetRoot = Path.GetDirectoryName(Repo.Dotnet);
        var env = new Dictionary<string, string>();
        if (!string.IsNullOrEmpty(dotnetRoot))
        {
            env["DOTNET_ROOT"] = dotnetRoot;
        }

        (code, output) = await Repo.RunAsync(Path.Combine(tools, "foresight"), ["--version"], shipped.Root, env);
        Assert.True(code == 0, output);
        Assert.Equal(ShippedArtifacts.Version, output.Trim());
    }

    [Fact]
    public void The_image_copies_the_published_file_to_its_entrypoint()
    {
        Dockerfile file = Dockerfile.Load();
        string name = Path.GetFileName(shipped.Binary);

        Assert.Contains(file.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish src/Foresight.Cli -c Release -r linux-x64"));
        Assert.Contains(file.Instructions, i => i.Keyword == "COPY" && i.Arguments == $"--from=build /out/{name} {file.Entrypoint}");
        Assert.Equal(name, Path.GetFileName(file.Entrypoint));
    }

    [GeneratedRegex("data:image/png;base64,")]
    private static partial Regex PngImage();
}
