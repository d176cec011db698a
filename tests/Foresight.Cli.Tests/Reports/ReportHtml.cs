using System.Buffers.Binary;
using System.IO.Compression;
using System.Text.RegularExpressions;

namespace Foresight.Cli.Tests.Reports;

/// <summary>Reads back what the HTML report embeds: sections, figures and their PNG images.</summary>
internal static partial class ReportHtml
{
    public sealed record Figure(string Id, string Section, int Width, int Height, byte[] Png);

    public sealed record Png(int Width, int Height, int DistinctBytes);

    [GeneratedRegex("<section id=\"(?<id>[^\"]+)\" data-section=\"[^\"]+\" data-plots=\"(?<n>\\d+)\">(?<body>.*?)</section>", RegexOptions.Singleline)]
    private static partial Regex SectionPattern();

    [GeneratedRegex("<figure class=\"plot\" id=\"(?<id>[^\"]+)\"[^>]*>\\s*<img alt=\"[^\"]*\" width=\"(?<w>\\d+)\" height=\"(?<h>\\d+)\" src=\"data:image/png;base64,(?<b64>[A-Za-z0-9+/=]+)\">", RegexOptions.Singleline)]
    private static partial Regex FigurePattern();

    /// <summary>Section id → (declared plot count, figures found in it).</summary>
    public static IReadOnlyDictionary<string, (int Declared, IReadOnlyList<Figure> Figures)> Sections(string html)
    {
        var result = new Dictionary<string, (int, IReadOnlyList<Figure>)>(StringComparer.Ordinal);
        foreach (Match s in SectionPattern().Matches(html))
        {
            string id = s.Groups["id"].Value;
            var figures = FigurePattern().Matches(s.Groups["body"].Value)
                .Select(f => new Figure(
                    f.Groups["id"].Value, id, int.Parse(f.Groups["w"].Value), int.Parse(f.Groups["h"].Value), Convert.FromBase64String(f.Groups["b64"].Value)))
                .ToList();
            result.Add(id, (int.Parse(s.Groups["n"].Value), figures));
        }

        return result;
    }

    public static IReadOnlyList<Figure> Figures(string html) => Sections(html).Values.SelectMany(s => s.Figures).ToList();

    /// <summary>
    /// Checks the PNG signature and IHDR, inflates the image data and counts distinct byte values in it: a blank image
    /// has a handful, a plot with text and lines has many.
    /// </summary>
    public static Png DecodePng(byte[] png)
    {
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.True(png.Length > 33 && png.AsSpan(0, 8).SequenceEqual(signature), "not a PNG signature");
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(png, 12, 4));
        int width = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16));
        int height = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20));

        using var idat = new MemoryStream();
        for (int offset = 8; offset + 8 <= png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            string type = System.Text.Encoding.ASCII.GetString(png, offset + 4, 4);
            if (type == "IDAT")
            {
                idat.Write(png, offset + 8, length);
            }

            offset += 12 + length;
        }

        idat.Position = 0;
        using var inflated = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionMode.Decompress))
        {
            z.CopyTo(inflated);
        }

        var seen = new bool[256];
        foreach (byte b in inflated.GetBuffer().AsSpan(0, (int)inflated.Length))
        {
            seen[b] = true;
        }

        return new Png(width, height, seen.Count(x => x));
    }
}
