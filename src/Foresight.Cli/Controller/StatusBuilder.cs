using Foresight.Control.Decision;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Core.Forecasts;
using Foresight.Orchestration;

namespace Foresight.Cli.Controller;

/// <summary>Pieces of <see cref="AppStatus"/> that both engines build the same way.</summary>
public static class StatusBuilder
{
    /// <summary>Points of actual traffic kept per series for the status.</summary>
    public const int HistoryPoints = 120;

    /// <summary>Decisions kept per app for the status.</summary>
    public const int RecentDecisions = 20;

    public static ForecastBand Band(string site, Forecast forecast, double now, double stepSeconds)
    {
        int h = forecast.Horizon;
        var times = new double[h];
        var p05 = new double[h];
        var p50 = new double[h];
        var p95 = new double[h];
        for (int k = 0; k < h; k++)
        {
            times[k] = now + ((k + 1) * stepSeconds);
            p05[k] = forecast.Quantile(0.05, k);
            p50[k] = forecast.Quantile(0.5, k);
            p95[k] = forecast.Quantile(0.95, k);
        }

        return new ForecastBand(site, times, p05, p50, p95);
    }

    public static string? LeadTimeWarning(AppProfile app, PredictiveOptions options, double horizonSeconds)
    {
        double lead = PredictiveFloor.LeadTimeSeconds(app, options);
        return horizonSeconds < lead
            ? $"forecast horizon {horizonSeconds:F0} s is shorter than the lead time {lead:F0} s (cold start {app.ColdStartSeconds:F0} s + warm-up {app.WarmupSeconds:F0} s + margin {options.LeadMarginSeconds:F0} s): shifts cannot be met warm"
            : null;
    }

    public static string FloorReason(FloorDecision d, int current) =>
        $"forecast p50 {d.PlannedDemand:F1} req/s at lead time needs {d.Needed} (have {current}); P(rise beyond threshold) = {d.Confidence:P0}";

    /// <summary>Per site: instances that serve or will (live and not draining), and of those the Ready ones.</summary>
    public static (int[] Live, int[] Ready) CountServing(ClusterSnapshot snapshot, string app, int sites, Func<string, int> siteIndex)
    {
        var live = new int[sites];
        var ready = new int[sites];
        foreach (InstanceInfo i in snapshot.Instances)
        {
            if (i.App != app || !i.State.IsLive() || i.State == InstanceState.Draining || siteIndex(i.SiteId) is not (>= 0 and int s))
            {
                continue;
            }

            live[s]++;
            ready[s] += i.State == InstanceState.Ready ? 1 : 0;
        }

        return (live, ready);
    }

    public static EngineCommand ToEngineCommand(ReconcileCommand command, string outcome, string? error = null) => command switch
    {
        ReconcileCommand.SpinUp s => new EngineCommand(s.App, "spin-up", $"{s.Request.App}@{s.Request.SiteId}", s.Request.RequestId, outcome, error),
        ReconcileCommand.Drain d => new EngineCommand(d.App, "drain", d.Instance.Value, d.Reason, outcome, error),
        ReconcileCommand.Stop s => new EngineCommand(s.App, "stop", s.Instance.Value, s.Detail.Length == 0 ? s.Reason.ToString() : $"{s.Reason}: {s.Detail}", outcome, error),
        ReconcileCommand.SetRoute r => new EngineCommand(
            r.App, "set-route", $"{r.Route.App}@{r.Route.IngressSiteId}",
            string.Join(" ", r.Route.Weights.Select(w => $"{w.SiteId}={w.Weight:G4}")), outcome, error),
        ReconcileCommand.SetFloor f => new EngineCommand(f.App, "set-floor", $"{f.App}@{f.SiteId}", $"minReplicas {f.Was} -> {f.MinReplicas}", outcome, error),
        _ => new EngineCommand(command.App, command.GetType().Name, "", "", outcome, error),
    };
}

/// <summary>A bounded history of (time, value per site) for the status.</summary>
public sealed class TrafficHistory(int sites, int capacity = StatusBuilder.HistoryPoints)
{
    private readonly Queue<(double Time, double[] Rates)> _points = new();

    public void Add(double time, ReadOnlySpan<double> rates)
    {
        _points.Enqueue((time, rates[..sites].ToArray()));
        while (_points.Count > capacity)
        {
            _points.Dequeue();
        }
    }

    public IReadOnlyList<TrafficSeries> Series(IReadOnlyList<string> siteIds)
    {
        double[] times = _points.Select(p => p.Time).ToArray();
        return siteIds.Select((id, s) => new TrafficSeries(id, times, _points.Select(p => p.Rates[s]).ToArray())).ToList();
    }
}

/// <summary>The most recent decisions of one app, newest first, bounded for the status.</summary>
public sealed class DecisionLog(int capacity = StatusBuilder.RecentDecisions)
{
    private readonly RecentLog<Decision> _items = new(capacity);

    /// <summary>Adds decisions made together (in their order), ahead of the older ones.</summary>
    public void Add(IEnumerable<Decision> decisions) => _items.Add(decisions);

    public IReadOnlyList<Decision> ToList() => _items.ToList();
}

/// <summary>The most recent items of one app, newest first, bounded for the status.</summary>
public sealed class RecentLog<T>(int capacity = StatusBuilder.RecentDecisions)
{
    private readonly List<T> _items = [];

    /// <summary>Adds items recorded together (in their order), ahead of the older ones.</summary>
    public void Add(IEnumerable<T> items)
    {
        _items.InsertRange(0, items);
        if (_items.Count > capacity)
        {
            _items.RemoveRange(capacity, _items.Count - capacity);
        }
    }

    public IReadOnlyList<T> ToList() => [.. _items];
}
