namespace Foresight.Control.Journal;

/// <summary>The kinds of journal rows (stable strings: the status API shows them).</summary>
public static class JournalKinds
{
    public const string SpinUp = "spin-up";
    public const string Drain = "drain";
    public const string Stop = "stop";
    public const string Route = "route";
    public const string Floor = "set-floor";
}
