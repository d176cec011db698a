using System.Globalization;
using Foresight.Control.Decision;
using Foresight.Control.Reconcile;
using Foresight.Core.Apps;
using Foresight.Kubernetes;
using k8s.Models;

namespace Foresight.Cli.Controller;

/// <summary>What one app runs under: a MigrationPolicy's settings, or the config file's when no valid policy alone selects it.</summary>
/// <param name="Safety">The policy's safety limits; null under the config file (which has none).</param>
/// <param name="Policy">The policy's name; null: the config file's settings.</param>
/// <param name="Strategy">The policy's migration strategy; null: the controller's default (pre-emptive).</param>
/// <param name="HotSwapStep">The share of traffic a hot-swap moves per pass; null: the default.</param>
/// <param name="HorizonSeconds">How far ahead the app is forecast (the policy's horizon); null: the config file's.</param>
public sealed record AppSettings(
    AppProfile Profile, PredictiveOptions Options, bool DryRun, SafetyLimits? Safety, string? Policy,
    MigrationStrategy? Strategy = null, double? HotSwapStep = null, double? HorizonSeconds = null)
{
    /// <summary>What the reconciler does differently for this app.</summary>
    public AppReconcileOverrides Overrides => new(
        DryRun, Strategy, HotSwapStep, Safety?.MaxSurge, Safety?.MaxConcurrentMigrations, Safety?.CooldownSeconds);
}

/// <summary>How one policy resolved against the configured apps.</summary>
/// <param name="Errors">Invalid spec fields (each names its path); a policy with any is not applied.</param>
/// <param name="Applied">Apps that run under this policy.</param>
/// <param name="Conflicts">Apps this policy selects that another valid policy selects too (they use the config file).</param>
public sealed record PolicyOutcome(
    MigrationPolicy Policy, IReadOnlyList<string> Errors, IReadOnlyList<string> Applied, IReadOnlyList<(string App, string Other)> Conflicts)
{
    public string Name => Policy.Metadata.Name;
}

public sealed record PolicyResolution(IReadOnlyList<AppSettings> Apps, IReadOnlyList<PolicyOutcome> Policies);

/// <summary>
/// Matches MigrationPolicies to the configured apps and validates them; pure. An app's labels are those its (app, site)
/// Deployments (<c>&lt;app&gt;-&lt;site&gt;</c>) all carry, so site-specific labels drop out; when none of them exists, the
/// app is labelled <c>app.kubernetes.io/name=&lt;app&gt;</c>, as Foresight labels the Deployments it creates.
/// </summary>
public static class PolicyResolver
{
    public const string ReadyCondition = "Ready";
    public const string InvalidCondition = "Invalid";

    public static PolicyResolution Resolve(IReadOnlyList<KubernetesApp> apps, PredictiveOptions fallback, PolicyListing listing)
    {
        var errors = listing.Policies.Select(p => Validate(p.Spec)).ToList();
        var labels = apps.Select(a => AppLabels(a, listing.DeploymentLabels)).ToList();

        // Which valid policies select each app.
        var selectors = apps.Select((_, a) => listing.Policies.Where((p, i) => errors[i].Count == 0 && p.Selects(labels[a].ToDictionary())).ToList()).ToList();
        var settings = apps.Select((app, a) => selectors[a] is [var only]
            ? Apply(app.Profile, fallback, only)
            : new AppSettings(app.Profile, fallback, DryRun: false, Safety: null, Policy: null)).ToList();

        var outcomes = listing.Policies.Select((p, i) =>
        {
            var applied = new List<string>();
            var conflicts = new List<(string, string)>();
            for (int a = 0; a < apps.Count; a++)
            {
                if (!selectors[a].Contains(p))
                {
                    continue;
                }

                if (selectors[a].Count == 1)
                {
                    applied.Add(apps[a].Profile.Name);
                }
                else
                {
                    conflicts.AddRange(selectors[a].Where(o => o != p).Select(o => (apps[a].Profile.Name, o.Metadata.Name)));
                }
            }

            return new PolicyOutcome(p, errors[i], applied, conflicts);
        }).ToList();
        return new PolicyResolution(settings, outcomes);
    }

    /// <summary>Every invalid field of <paramref name="spec"/>, each naming its path; empty when valid.</summary>
    public static IReadOnlyList<string> Validate(MigrationPolicySpec spec)
    {
        var e = new List<string>();
        MigrationProfile p = spec.Profile;
        Check(e, p.LatencySloMs is null or (> 0 and < double.PositiveInfinity), "spec.profile.latencySloMs", "must be > 0", p.LatencySloMs);
        Check(e, p.ColdStartSeconds is null or (>= 0 and < double.PositiveInfinity), "spec.profile.coldStartSeconds", "must be >= 0", p.ColdStartSeconds);
        Check(e, p.WarmupSeconds is null or (>= 0 and < double.PositiveInfinity), "spec.profile.warmupSeconds", "must be >= 0", p.WarmupSeconds);
        Check(e, p.MinInstances is null or >= 1, "spec.profile.minInstances", "must be >= 1", p.MinInstances);
        Check(e, p.MaxInstances is null or >= 1, "spec.profile.maxInstances", "must be >= 1", p.MaxInstances);
        Check(e, p is not { MinInstances: int min, MaxInstances: int max } || max >= min, "spec.profile.maxInstances", "must be >= minInstances", p.MaxInstances);
        Check(e, p.Reactive is null || ReactiveAlgorithms.TryParse(p.Reactive, out _), "spec.profile.reactive", "must be hpa or kpa", p.Reactive);
        Check(e, p.MissCost is null or (>= 0 and < double.PositiveInfinity), "spec.profile.missCost", "must be >= 0", p.MissCost);
        Check(e, spec.Thresholds.TrafficShift is > 0 and < double.PositiveInfinity, "spec.thresholds.trafficShift", "must be > 0", spec.Thresholds.TrafficShift);
        Check(e, spec.Thresholds.Confidence is > 0 and < 1, "spec.thresholds.confidence", "must be in (0, 1)", spec.Thresholds.Confidence);
        Check(e, spec.Horizon.Steps >= 1, "spec.horizon.steps", "must be >= 1", spec.Horizon.Steps);
        Check(e, spec.Horizon.StepSeconds >= 1, "spec.horizon.stepSeconds", "must be >= 1", spec.Horizon.StepSeconds);
        Check(e, spec.Strategy is "pre-emptive" or "hot-swap", "spec.strategy", "must be pre-emptive or hot-swap", spec.Strategy);
        Check(e, spec.Safety.CooldownSeconds >= 0, "spec.safety.cooldownSeconds", "must be >= 0", spec.Safety.CooldownSeconds);
        Check(e, spec.Safety.MaxConcurrentMigrations >= 1, "spec.safety.maxConcurrentMigrations", "must be >= 1", spec.Safety.MaxConcurrentMigrations);
        Check(e, spec.Safety.MaxSurge >= 0, "spec.safety.maxSurge", "must be >= 0", spec.Safety.MaxSurge);
        foreach ((V1LabelSelectorRequirement r, int i) in (spec.AppSelector.MatchExpressions ?? []).Select((r, i) => (r, i)))
        {
            string at = $"spec.appSelector.matchExpressions[{i}]";
            Check(e, r.OperatorProperty is "In" or "NotIn" or "Exists" or "DoesNotExist", $"{at}.operator", "must be In, NotIn, Exists or DoesNotExist", r.OperatorProperty);
            Check(e, r.OperatorProperty is not ("In" or "NotIn") || r.Values is { Count: > 0 }, $"{at}.values", $"must not be empty for {r.OperatorProperty}", null);
        }

        return e;
    }

    /// <summary>The labels all of the app's existing (app, site) Deployments carry; see the type's summary.</summary>
    public static IReadOnlyDictionary<string, string> AppLabels(KubernetesApp app, IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> deployments)
    {
        Dictionary<string, string>? common = null;
        foreach (string site in app.Sites)
        {
            if (!deployments.TryGetValue(Names.Workload(app.Profile.Name, site), out IReadOnlyDictionary<string, string>? labels))
            {
                continue;
            }

            common = common is null
                ? new Dictionary<string, string>(labels, StringComparer.Ordinal)
                : common.Where(kv => labels.TryGetValue(kv.Key, out string? v) && v == kv.Value).ToDictionary(StringComparer.Ordinal);
        }

        return common ?? new Dictionary<string, string>(StringComparer.Ordinal) { [Names.AppLabel] = app.Profile.Name };
    }

    /// <summary>
    /// The status to write: Ready and Invalid conditions (a condition keeps its lastTransitionTime while its status
    /// stays), the observed generation, the app's raised floors and the last raise.
    /// </summary>
    public static MigrationPolicyStatus Status(PolicyOutcome outcome, IReadOnlyList<string> configuredApps, int activeMigrations, DateTimeOffset? lastMigration, DateTimeOffset now)
    {
        MigrationPolicy p = outcome.Policy;
        long? generation = p.Metadata.Generation;
        (string Status, string Reason, string Message) invalid, ready;
        if (outcome.Errors.Count > 0)
        {
            string fields = string.Join("; ", outcome.Errors);
            invalid = ("True", "InvalidSpec", fields);
            ready = ("False", "InvalidSpec", $"not applied; the apps it selects keep the config file's settings: {fields}");
        }
        else
        {
            invalid = ("False", "Valid", "the spec is valid");
            string applied = outcome.Applied.Count == 0 ? "" : $"; applied to {string.Join(", ", outcome.Applied)}";
            ready = outcome switch
            {
                { Conflicts.Count: > 0 } => ("False", "Conflict", string.Join("; ", outcome.Conflicts.Select(c =>
                    $"app '{c.App}' is also selected by MigrationPolicy '{c.Other}', so it keeps the config file's settings")) + applied),
                { Applied.Count: 0 } => ("False", "NoMatchingApps", $"selects none of the configured apps ({string.Join(", ", configuredApps)})"),
                _ => ("True", "Applied", $"applied to {string.Join(", ", outcome.Applied)}"),
            };
        }

        DateTime stamp = now.UtcDateTime;
        V1Condition Condition(string type, (string Status, string Reason, string Message) c)
        {
            V1Condition? had = p.Status?.Conditions?.FirstOrDefault(x => x.Type == type);
            DateTime since = had is not null && had.Status == c.Status ? had.LastTransitionTime.ToUniversalTime() : stamp;
            return new V1Condition
            {
                LastTransitionTime = since,
                Message = c.Message,
                Reason = c.Reason,
                Status = c.Status,
                Type = type,
                ObservedGeneration = generation,
            };
        }

        return new MigrationPolicyStatus
        {
            ObservedGeneration = generation,
            ActiveMigrations = activeMigrations,
            LastMigrationTime = lastMigration?.UtcDateTime ?? p.Status?.LastMigrationTime?.ToUniversalTime(),
            Conditions = [Condition(ReadyCondition, ready), Condition(InvalidCondition, invalid)],
        };
    }

    /// <summary>Whether writing <paramref name="next"/> would change what the policy shows (time stamps compared to the second).</summary>
    public static bool SameStatus(MigrationPolicyStatus? current, MigrationPolicyStatus next)
    {
        if (current is null || current.ObservedGeneration != next.ObservedGeneration || current.ActiveMigrations != next.ActiveMigrations
            || Seconds(current.LastMigrationTime) != Seconds(next.LastMigrationTime))
        {
            return false;
        }

        var a = current.Conditions ?? [];
        var b = next.Conditions ?? [];
        return a.Count == b.Count && a.Zip(b).All(x => x.First.Type == x.Second.Type && x.First.Status == x.Second.Status
            && x.First.Reason == x.Second.Reason && x.First.Message == x.Second.Message && x.First.ObservedGeneration == x.Second.ObservedGeneration);
    }

    private static long? Seconds(DateTime? t) => t is { } v ? v.ToUniversalTime().Ticks / TimeSpan.TicksPerSecond : null;

    private static AppSettings Apply(AppProfile profile, PredictiveOptions options, MigrationPolicy policy)
    {
        MigrationPolicySpec s = policy.Spec;
        MigrationProfile p = s.Profile;
        AppProfile merged = profile with
        {
            LatencySloMs = p.LatencySloMs ?? profile.LatencySloMs,
            ColdStartSeconds = p.ColdStartSeconds ?? profile.ColdStartSeconds,
            WarmupSeconds = p.WarmupSeconds ?? profile.WarmupSeconds,
            MinInstances = p.MinInstances ?? profile.MinInstances,
            MaxInstances = p.MaxInstances ?? Math.Max(profile.MaxInstances, p.MinInstances ?? 1),
            Reactive = ReactiveAlgorithms.TryParse(p.Reactive, out ReactiveAlgorithm reactive) ? reactive : profile.Reactive,
            MissCost = p.MissCost ?? profile.MissCost,
        };
        PredictiveOptions thresholds = options with
        {
            TrafficShiftThreshold = s.Thresholds.TrafficShift,
            ConfidenceThreshold = s.Thresholds.Confidence,
        };
        MigrationStrategy strategy = s.Strategy == "hot-swap" ? MigrationStrategy.HotSwap : MigrationStrategy.PreEmptive;
        double? step = s.HotSwap is { StepPercent: > 0 and <= 100 } hot ? hot.StepPercent / 100.0 : null;
        return new AppSettings(merged, thresholds, s.DryRun, s.Safety, policy.Metadata.Name, strategy, step, (double)s.Horizon.Steps * s.Horizon.StepSeconds);
    }

    private static void Check(List<string> errors, bool ok, string field, string rule, object? value)
    {
        if (!ok)
        {
            errors.Add(value is null ? $"{field} {rule}" : $"{field} {rule}, got {Convert.ToString(value, CultureInfo.InvariantCulture)}");
        }
    }
}
