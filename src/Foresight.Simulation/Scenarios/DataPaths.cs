using Foresight.Core;

namespace Foresight.Simulation.Scenarios;

/// <summary>
/// Resolves scenario paths. <c>data:folder/file</c> names a file in the shared data folder, which is
/// <c>$FORESIGHT_DATA</c> when set, else the first <c>shared/data</c> found walking up from the current
/// directory or from the executable's directory (the repository sits beside <c>shared/</c> both on
/// developer machines and in CI's fresh clone). Any other path is relative to the scenario file's directory.
/// </summary>
public static class DataPaths
{
    public const string DataPrefix = "data:";

    public const string EnvironmentVariable = "FORESIGHT_DATA";

    public static bool IsDataRef(string pathOrDataRef) =>
        pathOrDataRef.StartsWith(DataPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The shared data folder, or null when none is found.</summary>
    public static string? FindDataRoot() =>
        FindDataRoot(Environment.GetEnvironmentVariable(EnvironmentVariable), [Directory.GetCurrentDirectory(), AppContext.BaseDirectory]);

    /// <summary>
    /// The data folder given an environment value and the directories to walk up from: the environment value when set,
    /// else the first <c>shared/data</c> found in a start directory or one of its ancestors.
    /// </summary>
    public static string? FindDataRoot(string? environmentValue, IEnumerable<string> startDirectories)
    {
        ArgumentNullException.ThrowIfNull(startDirectories);
        if (!string.IsNullOrWhiteSpace(environmentValue))
        {
            return Path.GetFullPath(environmentValue);
        }

        foreach (string start in startDirectories)
        {
            if (WalkUp(start) is { } found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>
    /// The full path of <paramref name="pathOrDataRef"/>. It does not check that the file exists; it throws
    /// <see cref="InvalidInputException"/> only when a <c>data:</c> path is given and no data folder is found.
    /// </summary>
    public static string Resolve(string pathOrDataRef, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(pathOrDataRef);
        if (!IsDataRef(pathOrDataRef))
        {
            return Path.GetFullPath(Path.Combine(baseDirectory ?? "", pathOrDataRef));
        }

        string relative = pathOrDataRef[DataPrefix.Length..].TrimStart('/', '\\');
        string root = FindDataRoot() ?? throw new InvalidInputException(
            pathOrDataRef,
            $"the shared data folder was not found (looked for shared/data above {Directory.GetCurrentDirectory()} and {AppContext.BaseDirectory}); set {EnvironmentVariable}");
        return Path.GetFullPath(Path.Combine(root, relative));
    }

    private static string? WalkUp(string start)
    {
        for (DirectoryInfo? dir = new(start); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "shared", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
