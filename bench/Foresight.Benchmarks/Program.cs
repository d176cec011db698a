using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Foresight.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Foresight.Benchmarks.SimulatorBenchmarks).Assembly).Run(args);
