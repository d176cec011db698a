using System.CommandLine;
using Foresight.Cli;
using Foresight.Cli.Commands;

// Composition root: commands are built here; each command wires its own adapters.
var root = new RootCommand("Foresight: predict where edge traffic is going and move service instances there before it arrives.")
{
    SimulateCommand.Create(),
};

return ExitCodes.Run(() => root.Parse(args).Invoke());
