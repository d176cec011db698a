using System.Runtime.CompilerServices;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

/// <summary>
/// Makes the shared data folder findable when tests run from an artifacts folder outside the repository
/// (e.g. <c>--artifacts-path /tmp/...</c>): unless FORESIGHT_DATA is set, it is pointed at the <c>shared/data</c>
/// found above this source file, which is where the repository sits beside <c>shared/</c>.
/// </summary>
internal static class TestData
{
    private static readonly Lazy<string?> _root = new(() => Locate());

    public static string Root => _root.Value
        ?? throw new InvalidOperationException("The shared data folder was not found; set FORESIGHT_DATA.");

    private static string? Locate([CallerFilePath] string sourceFile = "")
    {
        string? found = DataPaths.FindDataRoot();
        if (found is null && Path.GetDirectoryName(sourceFile) is { Length: > 0 } sourceDirectory)
        {
            found = DataPaths.FindDataRoot(null, [sourceDirectory]);
            if (found is not null)
            {
                // Same folder the library would find from inside the repository; it only helps out-of-tree runs.
                Environment.SetEnvironmentVariable(DataPaths.EnvironmentVariable, found);
            }
        }

        return found;
    }
}
