using System.Runtime.CompilerServices;
using Foresight.Simulation.Scenarios;

namespace Foresight.Cli.Tests;

/// <summary>
/// Lets the CLI find the shared data folder when tests run from an artifacts folder outside the repository: unless
/// FORESIGHT_DATA is set, it is pointed at the <c>shared/data</c> found above this source file.
/// </summary>
internal static class TestData
{
    [ModuleInitializer]
    internal static void Locate() => LocateFrom();

    private static void LocateFrom([CallerFilePath] string sourceFile = "")
    {
        if (DataPaths.FindDataRoot() is null && Path.GetDirectoryName(sourceFile) is { Length: > 0 } dir
            && DataPaths.FindDataRoot(null, [dir]) is string found)
        {
            Environment.SetEnvironmentVariable(DataPaths.EnvironmentVariable, found);
        }
    }
}
