using System.Text.RegularExpressions;
using Foresight.Cli.Commands;
using Foresight.Control.Decision;
using Foresight.Control.Journal;
using Foresight.Core;
using Foresight.Core.Apps;
using Foresight.Simulation.Scenarios;
using YamlDotNet.RepresentationModel;

namespace Foresight.Cli.Controller;

/// <summary>Reads the controller's YAML config strictly: unknown fields, wrong types and bad values name the file, line and field.</summary>
public static partial class ControllerConfigLoader
{
    private static readonly string[] TopFields = ["orchestrator", "tickMs", "dryRun", "token", "journal", "journalRetention", "thresholds", "simulated", "kubernetes"];
    private static readonly string[] RetentionFields = ["maxAge", "maxRows"];
    private static readonly string[] ThresholdFields = ["trafficShift", "confidence", "planningQuantile", "missCost", "leadMarginSeconds", "holdSeconds"];
    private static readonly string[] SimulatedFields = ["scenario", "speedUp", "forecaster", "calibration", "seed", "startAtSeconds", "maxSecondsPerTick"];
    private static readonly string[] KubernetesFields =
        ["kubeconfig", "namespace", "prometheus", "stepSeconds", "horizonSteps", "warmupSeconds", "seasonSeconds", "forecaster", "calibration", "leaseName", "policyResyncSeconds", "apps"];

    private static readonly string[] AppFields =
    [
        "name", "sites", "query", "siteLabel", "latencySloMs", "serviceTimeMs", "concurrency", "coldStartSeconds", "warmupSeconds",
        "warmupStartCapacity", "minInstances", "maxInstances", "queueLimitPerInstance", "drainSeconds", "image", "reactive", "missCost",
    ];

    public static ControllerConfig LoadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new InvalidInputException("--config", $"file '{path}' does not exist");
        }

        return Load(File.ReadAllText(path), path);
    }

    public static ControllerConfig Load(string yaml, string fileName)
    {
        var context = new YamlContext(fileName);
        YamlNode root = ScenarioLoader.Parse(yaml, context, "controller config");
        var top = new YamlFields(context, root, "", TopFields);
        var defaults = new ControllerConfig();
        string orchestrator = top.Text("orchestrator")?.Trim().ToLowerInvariant() ?? defaults.Orchestrator;
        if (orchestrator is not ("simulated" or "kubernetes"))
        {
            throw top.Error("orchestrator", $"unknown orchestrator '{orchestrator}'; expected simulated or kubernetes");
        }

        var config = new ControllerConfig
        {
            Orchestrator = orchestrator,
            TickMs = top.Integer("tickMs", NumberRange.Between(10, 3_600_000)) ?? defaults.TickMs,
            DryRun = top.Boolean("dryRun") ?? false,
            Token = top.Text("token") is { Length: > 0 } token ? token : null,
            Journal = top.Text("journal") is { Length: > 0 } journal
                ? (Path.IsPathRooted(journal) ? journal : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(fileName)) ?? "", journal.Trim()))
                : null,
            JournalRetention = ReadRetention(top.Mapping("journalRetention", RetentionFields)),
            Predictive = ReadThresholds(top.Mapping("thresholds", ThresholdFields)),
            Simulated = ReadSimulated(top.Mapping("simulated", SimulatedFields)),
            Kubernetes = top.Mapping("kubernetes", KubernetesFields) is { } k ? ReadKubernetes(k) : null,
            Source = fileName,
        };

        if (config.Orchestrator == "kubernetes" && config.Kubernetes is null)
        {
            throw top.Error("kubernetes", "orchestrator is kubernetes, so the kubernetes section is required");
        }

        return config;
    }

    private static JournalRetention ReadRetention(YamlFields? f)
    {
        JournalRetention d = JournalRetention.Default;
        if (f is null)
        {
            return d;
        }

        TimeSpan maxAge = d.MaxAge;
        if (f.Text("maxAge") is { } ageText)
        {
            if (!JournalRetention.TryParseAge(ageText, out maxAge))
            {
                throw f.Error("maxAge", $"'{ageText}' is not a duration; write e.g. 24h, 90m, 7d or a number of seconds");
            }

            if (JournalRetention.CheckMaxAge(maxAge) is { } problem)
            {
                throw f.Error("maxAge", $"{ageText} {problem}");
            }
        }

        int maxRows = f.Integer("maxRows", NumberRange.Between(100, 100_000_000)) ?? d.MaxRows;
        return d with { MaxAge = maxAge, MaxRows = maxRows };
    }

    private static PredictiveOptions ReadThresholds(YamlFields? f)
    {
        var d = new PredictiveOptions();
        if (f is null)
        {
            return d;
        }

        return d with
        {
            TrafficShiftThreshold = f.Number("trafficShift", NumberRange.NonNegative(100)) ?? d.TrafficShiftThreshold,
            ConfidenceThreshold = f.Number("confidence", new NumberRange(0, true, 0.999)) ?? d.ConfidenceThreshold,
            PlanningQuantile = f.Number("planningQuantile", NumberRange.Between(0.5, 0.99)) ?? d.PlanningQuantile,
            MissCost = f.Number("missCost", NumberRange.NonNegative(1e9)) ?? d.MissCost,
            LeadMarginSeconds = f.Number("leadMarginSeconds", NumberRange.NonNegative(86_400)) ?? d.LeadMarginSeconds,
            HoldSeconds = f.Number("holdSeconds", NumberRange.NonNegative(86_400)) ?? d.HoldSeconds,
        };
    }

    private static SimulatedConfig ReadSimulated(YamlFields? f)
    {
        var d = new SimulatedConfig();
        if (f is null)
        {
            return d;
        }

        string scenario = f.Text("scenario")?.Trim() ?? d.Scenario;
        if (!BuiltInScenarios.Contains(scenario))
        {
            string resolved = Path.IsPathRooted(scenario) ? scenario : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(f.Context.File)) ?? "", scenario);
            scenario = File.Exists(resolved)
                ? resolved
                : throw f.Error("scenario", $"'{scenario}' is neither a built-in scenario ({string.Join(", ", BuiltInScenarios.Names)}) nor an existing file");
        }

        string forecaster = f.Text("forecaster")?.Trim() ?? d.Forecaster;
        if (!PredictiveForecasting.Models.Contains(forecaster))
        {
            throw f.Error("forecaster", $"unknown model '{forecaster}'; choose from {string.Join(", ", PredictiveForecasting.Models)}");
        }

        return new SimulatedConfig
        {
            Scenario = scenario,
            SpeedUp = f.Number("speedUp", NumberRange.Positive(1e6)) ?? d.SpeedUp,
            Forecaster = forecaster,
            Calibration = f.Boolean("calibration") ?? d.Calibration,
            Seed = f.Integer("seed", NumberRange.Between(int.MinValue, int.MaxValue)),
            StartAtSeconds = f.Number("startAtSeconds", NumberRange.NonNegative(1e9)),
            MaxSecondsPerTick = f.Number("maxSecondsPerTick", NumberRange.Positive(1e6)) ?? d.MaxSecondsPerTick,
        };
    }

    private static KubernetesConfig ReadKubernetes(YamlFields f)
    {
        string prometheusText = f.Text("prometheus", required: true)!.Trim();
        if (!Uri.TryCreate(prometheusText, UriKind.Absolute, out Uri? prometheus) || prometheus.Scheme is not ("http" or "https"))
        {
            throw f.Error("prometheus", $"expected an http(s) URL such as http://127.0.0.1:9090, got '{prometheusText}'");
        }

        string forecaster = f.Text("forecaster")?.Trim() ?? "ets";
        if (!BacktestCommand.Models.Contains(forecaster))
        {
            throw f.Error("forecaster", $"unknown model '{forecaster}'; choose from {string.Join(", ", BacktestCommand.Models)}");
        }

        IReadOnlyList<YamlNode> appNodes = f.Sequence("apps") ?? throw f.Error("apps", "list at least one app");
        if (appNodes.Count == 0)
        {
            throw f.Error("apps", "list at least one app");
        }

        var apps = new List<KubernetesApp>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < appNodes.Count; i++)
        {
            var app = new YamlFields(f.Context, appNodes[i], $"{f.Child("apps")}[{i}]", AppFields);
            string name = app.Text("name", required: true)!.Trim();
            if (!names.Add(name))
            {
                throw app.Error("name", $"duplicate app name '{name}'");
            }

            AppProfile profile = ScenarioLoader.ReadProfile(app, name);
            IReadOnlyList<YamlNode> siteNodes = app.Sequence("sites") ?? throw app.Error("sites", "list the sites the app runs in");
            var sites = new List<string>();
            foreach (YamlNode node in siteNodes)
            {
                string site = node is YamlScalarNode { Value: { Length: > 0 } v } ? v.Trim() : throw app.Error("sites", "site names must be non-empty text");
                if (sites.Contains(site))
                {
                    throw app.Error("sites", $"site '{site}' is listed twice");
                }

                sites.Add(site);
            }

            if (sites.Count == 0)
            {
                throw app.Error("sites", "list at least one site");
            }

            string? image = app.Text("image");
            if (image is not null && !ImageReference().IsMatch(image))
            {
                throw app.Error("image", $"'{image}' is not a container image reference such as registry.example/shop:2.1 (lower-case repository, optional :tag and @sha256: digest)");
            }

            apps.Add(new KubernetesApp(profile, sites, app.Text("query", required: true)!.Trim(), app.Text("siteLabel")?.Trim() ?? "site", image));
        }

        return new KubernetesConfig
        {
            Kubeconfig = f.Text("kubeconfig") is { Length: > 0 } kube ? kube : null,
            Namespace = f.Text("namespace", required: true)!.Trim(),
            Prometheus = prometheus,
            StepSeconds = f.Number("stepSeconds", NumberRange.Positive(3600)) ?? 15,
            HorizonSteps = f.Integer("horizonSteps", NumberRange.Between(1, 10_000)) ?? 12,
            WarmupSeconds = f.Number("warmupSeconds", NumberRange.NonNegative(1e8)) ?? 600,
            SeasonSeconds = f.Number("seasonSeconds", NumberRange.Positive(1e8)) ?? 86_400,
            Forecaster = forecaster,
            Calibration = f.Boolean("calibration") ?? true,
            LeaseName = f.Text("leaseName") is { Length: > 0 } lease ? lease.Trim() : "foresight-controller",
            PolicyResyncSeconds = f.Number("policyResyncSeconds", NumberRange.Positive(86_400)) ?? 30,
            Apps = apps,
        };
    }

    /// <summary>
    /// A container image reference as the distribution spec writes it: an optional registry host (with port), lower-case
    /// path components, an optional tag and an optional sha256 digest.
    /// </summary>
    [GeneratedRegex(@"^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$")]
    private static partial Regex ImageReference();
}
