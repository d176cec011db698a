using Foresight.Core;

namespace Foresight.Cli;

/// <summary>The CLI's exit-code contract: 0 ok; 2 bad input, with a message naming the file, line or field; 1 internal error.</summary>
public static class ExitCodes
{
    public const int Ok = 0;
    public const int InternalError = 1;
    public const int BadInput = 2;

    public static int Run(Func<int> body, TextWriter error)
    {
        try
        {
            return body();
        }
        catch (InvalidInputException e)
        {
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            error.WriteLine($"internal error: {e}");
            return InternalError;
        }
    }
}
