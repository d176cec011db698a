using System.Text.Json;
using Foresight.Cli.Controller;

namespace Foresight.Cli.Serve;

/// <summary>
/// The UTF-8 JSON of /api/status and /api/forecasts for the loop's latest published status, serialised once per
/// publication: dashboards and scrapers then cost a byte copy each, not a serialisation competing with the ticks.
/// A new publication is a new <see cref="ControllerStatus"/> instance, so reference identity is the invalidation.
/// </summary>
public sealed class StatusSnapshot
{
    private readonly Func<ControllerStatus> _current;
    private readonly JsonSerializerOptions _options;
    private readonly Lock _gate = new();
    private Entry? _entry;

    public StatusSnapshot(Func<ControllerStatus> current, JsonSerializerOptions options)
    {
        _current = current;
        _options = options;
    }

    /// <summary>The JSON of <see cref="ControllerStatus"/>.</summary>
    public ReadOnlyMemory<byte> Status => Get().Status;

    /// <summary>The JSON of the per-app forecast view.</summary>
    public ReadOnlyMemory<byte> Forecasts => Get().Forecasts;

    /// <summary>The /api/status body, serialised now (what the cache must equal).</summary>
    public static byte[] SerializeStatus(ControllerStatus status, JsonSerializerOptions options) =>
        JsonSerializer.SerializeToUtf8Bytes(status, options);

    /// <summary>The /api/forecasts body, serialised now.</summary>
    public static byte[] SerializeForecasts(ControllerStatus status, JsonSerializerOptions options) =>
        JsonSerializer.SerializeToUtf8Bytes(status.Apps.Select(a => new
        {
            app = a.Name,
            a.LeadTimeSeconds,
            a.HorizonSeconds,
            a.LeadTimeWarning,
            a.ReactiveOnly,
            a.FallbackReason,
            a.Forecasts,
            a.Actual,
        }), options);

    private Entry Get()
    {
        ControllerStatus status = _current();
        Entry? entry = Volatile.Read(ref _entry);
        if (entry is not null && ReferenceEquals(entry.Source, status))
        {
            return entry;
        }

        // One request serialises; the others that arrive after the same publication wait for its bytes.
        lock (_gate)
        {
            entry = _entry;
            if (entry is null || !ReferenceEquals(entry.Source, status))
            {
                entry = new Entry(status, SerializeStatus(status, _options), SerializeForecasts(status, _options));
                Volatile.Write(ref _entry, entry);
            }

            return entry;
        }
    }

    private sealed record Entry(ControllerStatus Source, byte[] Status, byte[] Forecasts);
}
