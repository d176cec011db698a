using BenchmarkDotNet.Running;
using Foresight.Benchmarks.Reliability;

// Reliability tools (soak, journal-recovery, http-load) run as subcommands; anything else goes to BenchmarkDotNet:
// dotnet run -c Release --project bench/Foresight.Benchmarks -- --filter '*'
if (ReliabilityCli.TryRun(args, out int exitCode))
{
    return exitCode;
}

BenchmarkSwitcher.FromAssembly(typeof(Foresight.Benchmarks.SimulatorBenchmarks).Assembly).Run(args);
return 0;
