using System.Text.Json;
using System.Text.RegularExpressions;

namespace Foresight.Shipping.Tests;

/// <summary>The repository's Dockerfile, read as instructions (continuation lines joined, comments kept apart).</summary>
internal sealed partial class Dockerfile
{
    public required IReadOnlyList<(string Keyword, string Arguments)> Instructions { get; init; }

    public required IReadOnlyList<string> Comments { get; init; }

    /// <summary>The instructions of the last stage: the image that ships.</summary>
    public IEnumerable<(string Keyword, string Arguments)> FinalStage =>
        Instructions.Skip(Instructions.Select((i, n) => (i, n)).Last(x => x.i.Keyword == "FROM").n);

    /// <summary>The image name the Dockerfile documents in its <c>docker build -t NAME .</c> line.</summary>
    public string ImageName =>
        Comments.Select(c => BuildTag().Match(c)).SingleOrDefault(m => m.Success)?.Groups[1].Value
        ?? throw new InvalidOperationException("The Dockerfile names no image (a '# docker build -t NAME .' line).");

    /// <summary>The executable of the exec-form ENTRYPOINT.</summary>
    public string Entrypoint =>
        JsonSerializer.Deserialize<string[]>(FinalStage.Last(i => i.Keyword == "ENTRYPOINT").Arguments)![0];

    public static Dockerfile Load()
    {
        var instructions = new List<(string, string)>();
        var comments = new List<string>();
        string pending = "";
        foreach (string raw in File.ReadLines(Path.Combine(Repo.Root, "Dockerfile")))
        {
            string line = raw.Trim();
            if (line.StartsWith('#'))
            {
                comments.Add(line.TrimStart('#').Trim());
                continue;
            }

            if (line.Length == 0 && pending.Length == 0)
            {
                continue;
            }

            pending += (pending.Length > 0 ? " " : "") + line.TrimEnd('\\').Trim();
            if (!line.EndsWith('\\'))
            {
                int space = pending.IndexOf(' ');
                instructions.Add((pending[..space].ToUpperInvariant(), pending[(space + 1)..].Trim()));
                pending = "";
            }
        }

        return new Dockerfile { Instructions = instructions, Comments = comments };
    }

    [GeneratedRegex(@"^docker build -t (\S+) \.$")]
    private static partial Regex BuildTag();
}
