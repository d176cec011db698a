using System.Globalization;
using System.Text.Json;
using Foresight.Core;

namespace Foresight.Benchmarks.Reliability;

/// <summary>
/// The reliability subcommands of the benchmark tool (design note 0017). Each prints a summary and, with <c>--json FILE</c>,
/// writes its figures as JSON. Options are <c>--name value</c> pairs; a bad one exits with 2 naming it.
/// </summary>
public static class ReliabilityCli
{
    public static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static bool TryRun(string[] args, out int exitCode)
    {
        exitCode = 0;
        if (args.Length == 0 || args[0] is not ("soak" or "journal-recovery" or "http-load"))
        {
            return false;
        }

        try
        {
            var options = Options.Parse(args.AsSpan(1));
            object result = args[0] switch
            {
                "soak" => SoakRun.Run(options),
                "journal-recovery" => JournalRecovery.Run(options),
                _ => HttpLoad.RunAsync(options).GetAwaiter().GetResult(),
            };
            if (options.Text("json") is { } path)
            {
                File.WriteAllText(path, JsonSerializer.Serialize(result, result.GetType(), Json));
                Console.WriteLine($"wrote {path}");
            }
        }
        catch (InvalidInputException e)
        {
            Console.Error.WriteLine($"{e.File}: {e.Problem}");
            exitCode = 2;
        }

        return true;
    }
}

public sealed class Options
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);

    public static Options Parse(ReadOnlySpan<string> args)
    {
        var o = new Options();
        for (int i = 0; i < args.Length; i++)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
            {
                throw new InvalidInputException(args[i], "expected --name value pairs");
            }

            o._values[args[i][2..]] = args[++i];
        }

        return o;
    }

    public string? Text(string name) => _values.GetValueOrDefault(name);

    public double Number(string name, double fallback, double min, double max)
    {
        if (!_values.TryGetValue(name, out string? text))
        {
            return fallback;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v >= min && v <= max
            ? v
            : throw new InvalidInputException($"--{name}", $"'{text}' is not a number between {min} and {max}");
    }
}

/// <summary>Process figures read the way an operator's tools read them.</summary>
public static class ProcessFigures
{
    /// <summary>Managed heap after a full, compacting collection: what survives, not what awaits collection.</summary>
    public static long ManagedBytesAfterFullGc()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    /// <summary>Resident set size from /proc/self/status (VmRSS), or the working set elsewhere.</summary>
    public static long RssBytes()
    {
        const string path = "/proc/self/status";
        if (File.Exists(path))
        {
            foreach (string line in File.ReadLines(path))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    string kb = line["VmRSS:".Length..].Trim().Split(' ')[0];
                    return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }

        return Environment.WorkingSet;
    }

    public static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0)
        {
            return double.NaN;
        }

        double[] sorted = [.. values];
        Array.Sort(sorted);
        int i = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(i, 0, sorted.Length - 1)];
    }

    public static long FileBytes(string path) =>
        (File.Exists(path) ? new FileInfo(path).Length : 0) + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);

    public static void DeleteJournal(string path)
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        foreach (string suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }
    }
}

/// <summary>A clock the tool moves by hand, so one tick can stand for any amount of simulated time.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private long _ticks = start.UtcTicks;

    public override DateTimeOffset GetUtcNow() => new(Interlocked.Read(ref _ticks), TimeSpan.Zero);

    public override long GetTimestamp() => Interlocked.Read(ref _ticks);

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _ticks, by.Ticks);
}
