using Foresight.Cli;

return CliApp.Run(args);
