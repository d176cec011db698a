using System.Runtime.CompilerServices;

namespace Foresight.Ingest.Tests;

/// <summary>
/// Finds the shared data folder (<c>shared/data</c>, a sibling of the repository clone) by walking up from the test
/// binaries, then from this source file (builds with a private artifacts path put the binaries elsewhere), then
/// from the working directory; <c>FORESIGHT_DATA</c> overrides the search. Missing data fails loudly: these
/// tests are never skipped.
/// </summary>
public static class SharedData
{
    /// <summary>Overrides the search with an explicit folder.</summary>
    public const string EnvironmentVariable = "FORESIGHT_DATA";

    private static readonly Lazy<string> _root = new(Locate);

    public static string Dir => _root.Value;

    public static string File(string relative)
    {
        string path = Path.Combine(Dir, relative);
        Assert.True(System.IO.File.Exists(path), $"Shared data file missing: {path}");
        return path;
    }

    private static string Locate() => LocateFrom(ThisFile());

    private static string LocateFrom(string sourceFile)
    {
        string? configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return Directory.Exists(configured)
                ? configured
                : throw new InvalidOperationException($"{EnvironmentVariable}={configured} is not a directory.");
        }

        var starts = new[] { AppContext.BaseDirectory, Path.GetDirectoryName(sourceFile) ?? "", Directory.GetCurrentDirectory() };
        foreach (string start in starts.Where(s => s.Length > 0))
        {
            for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, "shared", "data");
                if (Directory.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new InvalidOperationException(
            "The shared data folder (shared/data, a sibling of the repository) was not found walking up from " +
            string.Join(", ", starts) + ". Clone or mount it next to the repository; these tests are not skipped.");
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;
}
