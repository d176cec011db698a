using System.Text;

namespace Foresight.Ingest;

/// <summary>Opens a trace or sources file as text, decompressing gzip when its first bytes say so.</summary>
internal static class InputFile
{
    private const int BufferSize = 1 << 16;

    public static TextReader OpenText(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.Length == 0)
        {
            throw new TraceFormatException("(empty path)", "no file name given");
        }

        if (Directory.Exists(path))
        {
            throw new TraceFormatException(path, "is a directory, not a file");
        }

        FileStream file;
        try
        {
            file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, BufferSize, FileOptions.SequentialScan);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new TraceFormatException(path, "file not found", inner: ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new TraceFormatException(path, $"cannot open the file: {ex.Message}", inner: ex);
        }

        try
        {
            // Decide by the gzip magic bytes (1f 8b), not the extension: a .csv may be compressed and a .gz may not be.
            Span<byte> magic = stackalloc byte[2];
            int got = file.ReadAtLeast(magic, 2, throwOnEndOfStream: false);
            file.Position = 0;
            Stream content = got == 2 && magic[0] == 0x1f && magic[1] == 0x8b ? new GzipVerifyingStream(file) : file;
            return new StreamReader(content, Encoding.UTF8, detectEncodingFromByteOrderMarks: true, BufferSize, leaveOpen: false);
        }
        catch (IOException ex)
        {
            file.Dispose();
            throw new TraceFormatException(path, $"cannot read the file: {ex.Message}", line: 1, inner: ex);
        }
    }
}
