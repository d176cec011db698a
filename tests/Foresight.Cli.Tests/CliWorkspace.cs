namespace Foresight.Cli.Tests;

/// <summary>A temporary directory with small input files, and a way to run the CLI in-process.</summary>
public sealed class CliWorkspace : IDisposable
{
    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("foresight-cli-").FullName;

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    public string Path(params string[] parts) => System.IO.Path.Combine([Directory, .. parts]);

    public string Write(string name, string text)
    {
        string path = Path(name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>A small wide trace: two areas whose traffic trades places over half a day.</summary>
    public string SmallTrace()
    {
        var lines = new List<string> { "timestamp,area_1,area_2" };
        var start = new DateTimeOffset(2024, 3, 4, 0, 0, 0, TimeSpan.FromHours(1));
        for (int h = 0; h < 12; h++)
        {
            double phase = Math.Sin(h * Math.PI / 6);
            lines.Add($"{start.AddHours(h):yyyy-MM-ddTHH:mm:sszzz},{100 + (80 * phase):F0},{100 - (80 * phase):F0}");
        }

        return Write("trace.csv", string.Join('\n', lines) + "\n");
    }

    public string Sources() => Write("areas.csv", "area_id,x_km,y_km\n1,0,0\n2,14,3\n");

    public static (int Code, string Error) Run(params string[] args)
    {
        var error = new StringWriter();
        int code = CliApp.Run(args, error);
        return (code, error.ToString());
    }
}
