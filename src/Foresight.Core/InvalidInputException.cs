namespace Foresight.Core;

/// <summary>
/// User input is wrong (a trace, a sources file, a scenario or policy file, a command-line value).
/// The message names the file and, where known, the line and the column or field. The CLI maps it to exit code 2.
/// </summary>
public class InvalidInputException : Exception
{
    public InvalidInputException(string file, string problem, long? line = null, string? field = null, Exception? inner = null)
        : base(Format(file, problem, line, field), inner)
    {
        File = file;
        Problem = problem;
        Line = line;
        Field = field;
    }

    /// <summary>The file (or option) the error is in.</summary>
    public string File { get; }

    public string Problem { get; }

    /// <summary>1-based line number, when the input is line-oriented.</summary>
    public long? Line { get; }

    /// <summary>The column or field the problem is in.</summary>
    public string? Field { get; }

    private static string Format(string file, string problem, long? line, string? field)
    {
        string where = file;
        if (line is not null)
        {
            where += $":{line}";
        }

        if (field is not null)
        {
            where += $" [{field}]";
        }

        return $"{where}: {problem}";
    }
}
