using System.Text.Json.Serialization;
using Foresight.Core.Apps;
using k8s;
using k8s.Models;

namespace Foresight.Kubernetes;

/// <summary>
/// <c>MigrationPolicy</c> (foresight.dev/v1alpha1, namespaced): how Foresight migrates the apps its selector matches.
/// Schema: deploy/crd-migrationpolicy.yaml; these types mirror it field for field.
/// </summary>
public sealed class MigrationPolicy : IKubernetesObject<V1ObjectMeta>, ISpec<MigrationPolicySpec>, IStatus<MigrationPolicyStatus?>
{
    public const string Group = "foresight.dev";
    public const string Version = "v1alpha1";
    public const string Plural = "migrationpolicies";
    public const string KindName = "MigrationPolicy";

    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{Group}/{Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = KindName;

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public MigrationPolicySpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public MigrationPolicyStatus? Status { get; set; }

    /// <summary>Whether the policy applies to an app whose Deployments carry <paramref name="labels"/>.</summary>
    public bool Selects(IDictionary<string, string> labels)
    {
        V1LabelSelector selector = Spec.AppSelector;
        if (selector.MatchLabels is { } ml && ml.Any(kv => !labels.TryGetValue(kv.Key, out string? v) || v != kv.Value))
        {
            return false;
        }

        foreach (V1LabelSelectorRequirement r in selector.MatchExpressions ?? [])
        {
            bool has = labels.TryGetValue(r.Key, out string? value);
            bool ok = r.OperatorProperty switch
            {
                "In" => has && (r.Values?.Contains(value!) ?? false),
                "NotIn" => !has || !(r.Values?.Contains(value!) ?? false),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The app profile of <paramref name="app"/> under this policy; unset fields keep Core's defaults.</summary>
    public AppProfile ToAppProfile(string app)
    {
        MigrationProfile p = Spec.Profile;
        var profile = new AppProfile { Name = app };
        return profile with
        {
            LatencySloMs = p.LatencySloMs ?? profile.LatencySloMs,
            ColdStartSeconds = p.ColdStartSeconds ?? profile.ColdStartSeconds,
            WarmupSeconds = p.WarmupSeconds ?? profile.WarmupSeconds,
            MinInstances = p.MinInstances ?? profile.MinInstances,
            MaxInstances = p.MaxInstances ?? profile.MaxInstances,
            Reactive = ReactiveAlgorithms.TryParse(p.Reactive, out ReactiveAlgorithm reactive) ? reactive : profile.Reactive,
            MissCost = p.MissCost ?? profile.MissCost,
        };
    }
}

public sealed class MigrationPolicyList : IKubernetesObject<V1ListMeta>, IItems<MigrationPolicy>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{MigrationPolicy.Group}/{MigrationPolicy.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "MigrationPolicyList";

    [JsonPropertyName("metadata")]
    public V1ListMeta Metadata { get; set; } = new();

    [JsonPropertyName("items")]
    public IList<MigrationPolicy> Items { get; set; } = [];
}

public sealed class MigrationPolicySpec
{
    /// <summary>Selects apps by the labels all of their &lt;app&gt;-&lt;site&gt; Deployments carry (e.g. app.kubernetes.io/name).</summary>
    [JsonPropertyName("appSelector")]
    public V1LabelSelector AppSelector { get; set; } = new();

    [JsonPropertyName("profile")]
    public MigrationProfile Profile { get; set; } = new();

    [JsonPropertyName("thresholds")]
    public MigrationThresholds Thresholds { get; set; } = new();

    [JsonPropertyName("horizon")]
    public ForecastHorizon Horizon { get; set; } = new();

    /// <summary><c>pre-emptive</c> (start and warm at the target, then retire) or <c>hot-swap</c> (move weights gradually).</summary>
    [JsonPropertyName("strategy")]
    public string Strategy { get; set; } = "pre-emptive";

    [JsonPropertyName("hotSwap")]
    public HotSwapSettings? HotSwap { get; set; }

    [JsonPropertyName("safety")]
    public SafetyLimits Safety { get; set; } = new();

    /// <summary>Plan and report, change nothing.</summary>
    [JsonPropertyName("dryRun")]
    public bool DryRun { get; set; }
}

public sealed class MigrationProfile
{
    [JsonPropertyName("latencySloMs")]
    public double? LatencySloMs { get; set; }

    [JsonPropertyName("coldStartSeconds")]
    public double? ColdStartSeconds { get; set; }

    [JsonPropertyName("warmupSeconds")]
    public double? WarmupSeconds { get; set; }

    [JsonPropertyName("minInstances")]
    public int? MinInstances { get; set; }

    [JsonPropertyName("maxInstances")]
    public int? MaxInstances { get; set; }

    /// <summary>The predictive policy's safety net for the app: <c>hpa</c> or <c>kpa</c>; null keeps the controller's default.</summary>
    [JsonPropertyName("reactive")]
    public string? Reactive { get; set; }

    /// <summary>What one missed request costs in instance-seconds: sizes the app's floors newsvendor-style; null keeps the controller's.</summary>
    [JsonPropertyName("missCost")]
    public double? MissCost { get; set; }
}

public sealed class MigrationThresholds
{
    /// <summary>Relative change in predicted demand or source mix that counts as a shift (0.25 = 25%).</summary>
    [JsonPropertyName("trafficShift")]
    public double TrafficShift { get; set; } = 0.25;

    /// <summary>Probability mass beyond the threshold needed to act.</summary>
    [JsonPropertyName("confidence")]
    public double Confidence { get; set; } = 0.8;
}

public sealed class ForecastHorizon
{
    [JsonPropertyName("steps")]
    public int Steps { get; set; } = 12;

    [JsonPropertyName("stepSeconds")]
    public int StepSeconds { get; set; } = 60;
}

public sealed class HotSwapSettings
{
    [JsonPropertyName("stepPercent")]
    public int StepPercent { get; set; } = 25;

    [JsonPropertyName("stepIntervalSeconds")]
    public int StepIntervalSeconds { get; set; } = 30;
}

public sealed class SafetyLimits
{
    [JsonPropertyName("cooldownSeconds")]
    public int CooldownSeconds { get; set; } = 300;

    [JsonPropertyName("maxConcurrentMigrations")]
    public int MaxConcurrentMigrations { get; set; } = 1;

    /// <summary>Extra instances a migration may add above the current count.</summary>
    [JsonPropertyName("maxSurge")]
    public int MaxSurge { get; set; } = 1;

    /// <summary>Never remove capacity on a forecast alone; the reactive signal must agree.</summary>
    [JsonPropertyName("requireReactiveAgreementToScaleDown")]
    public bool RequireReactiveAgreementToScaleDown { get; set; } = true;
}

public sealed class MigrationPolicyStatus
{
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("activeMigrations")]
    public int? ActiveMigrations { get; set; }

    [JsonPropertyName("lastMigrationTime")]
    public DateTime? LastMigrationTime { get; set; }

    [JsonPropertyName("conditions")]
    public IList<V1Condition>? Conditions { get; set; }
}
