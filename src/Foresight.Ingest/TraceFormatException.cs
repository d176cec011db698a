using Foresight.Core;

namespace Foresight.Ingest;

/// <summary>
/// A trace or sources file is malformed: its message names the file, the 1-based line (the header is line 1)
/// and the column. It is an <see cref="InvalidInputException"/>, so the CLI maps it to exit code 2.
/// </summary>
public sealed class TraceFormatException : InvalidInputException
{
    public TraceFormatException(string file, string problem, long? line = null, string? field = null, Exception? inner = null)
        : base(file, problem, line, field, inner)
    {
    }
}
