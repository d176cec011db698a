using System.CommandLine;
using Foresight.Cli.Commands;

namespace Foresight.Cli;

/// <summary>The composition root: the command tree, and the exit-code contract around it.</summary>
public static class CliApp
{
    public static RootCommand CreateRoot() =>
        new("Foresight: predict where edge traffic is going and move service instances there before it arrives.")
        {
            SimulateCommand.Create(),
            BacktestCommand.Create(),
            TrainCommand.Create(),
            ForecastCommand.Create(),
            RunCommand.Create(),
            ServeCommand.Create(),
        };

    /// <summary>Runs the CLI; errors go to <paramref name="error"/> (standard error by default).</summary>
    public static int Run(string[] args, TextWriter? error = null)
    {
        TextWriter errors = error ?? Console.Error;

        // Our own handler maps input errors to exit code 2; the library's default would print a stack trace and exit 1.
        var invocation = new InvocationConfiguration { EnableDefaultExceptionHandler = false, Error = errors };
        return ExitCodes.Run(() => CreateRoot().Parse(args).Invoke(invocation), errors);
    }
}
