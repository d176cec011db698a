using Foresight.Core;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

public sealed class ScenarioLoaderTests
{
    private const string Minimal = """
        name: tiny
        trace: trace.csv
        apps:
          - name: api
        """;

    // The example of the scenario format, as documented.
    private const string Full = """
        name: milan
        description: >-
          Human-mobility traces stand in
          for where users are.
        trace: data:milan_telecom_cdr_hourly/milan_cdr_hourly_dev.csv.gz
        sources: data:milan_telecom_cdr_hourly/milan_cells.csv
        timeScale: 60
        traceStart: 3600
        traceDuration: null
        seed: 7
        stepSeconds: 2
        targetUtilization: 0.6
        sites:
          method: grid
          k: 5
          serversPerSite: 3
          cpuPerServer: 16
          ringRadiusKm: 2.5
          explicit: []
        cloud: { enabled: false, servers: 2, cpuPerServer: 48 }
        rtt: { accessBaseMs: 3, perKmMs: 0.05, interSiteHopMs: 2, cloudBackhaulMs: 40 }
        apps:
          - name: ar-render
            share: 0.3
            peakRps: 3000
            latencySloMs: 40
            serviceTimeMs: 8
            concurrency: 4
            coldStartSeconds: 6
            warmupSeconds: 15
            warmupStartCapacity: 0.3
            minInstances: 2
            maxInstances: 80
            queueLimitPerInstance: 150
            drainSeconds: 5
          - name: api
        """;

    [Fact]
    public void Minimal_scenario_gets_the_documented_defaults()
    {
        ScenarioSpec spec = ScenarioLoader.Load(Minimal, "tiny.yaml", "/base");

        Assert.Equal("tiny", spec.Name);
        Assert.Equal("trace.csv", spec.Trace);
        Assert.Null(spec.Sources);
        Assert.Equal(1, spec.TimeScale);
        Assert.Equal(0, spec.TraceStart);
        Assert.Null(spec.TraceDuration);
        Assert.Equal(42, spec.Seed);
        Assert.Equal(1, spec.StepSeconds);
        Assert.Equal(0.7, spec.TargetUtilization);
        Assert.Equal(SiteMethod.KMeans, spec.Sites.Method);
        Assert.Equal(8, spec.Sites.K);
        Assert.Equal(2, spec.Sites.ServersPerSite);
        Assert.Equal(32, spec.Sites.CpuPerServer);
        Assert.Equal(5, spec.Sites.RingRadiusKm);
        Assert.True(spec.Cloud.Enabled);
        Assert.Equal(8, spec.Cloud.Servers);
        Assert.Equal(64, spec.Cloud.CpuPerServer);
        Assert.Equal(new Core.Topology.RttModel(), spec.Rtt);
        AppSpec app = Assert.Single(spec.Apps);
        Assert.Equal(new Core.Apps.AppProfile { Name = "api" }, app.Profile);
        Assert.Null(app.Share);
        Assert.Null(app.PeakRps);
        Assert.Equal(1.0, spec.ShareOf(0));
        Assert.Equal("tiny.yaml", spec.Origin.File);
        Assert.Equal(4, spec.Origin.LineOf("apps[0].name"));
    }

    [Fact]
    public void Full_scenario_reads_every_field()
    {
        ScenarioSpec spec = ScenarioLoader.Load(Full, "full.yaml", "/base");

        Assert.Equal("Human-mobility traces stand in for where users are.", spec.Description);
        Assert.Equal("data:milan_telecom_cdr_hourly/milan_cells.csv", spec.Sources);
        Assert.Equal(60, spec.TimeScale);
        Assert.Equal(3600, spec.TraceStart);
        Assert.Null(spec.TraceDuration);
        Assert.Equal(7, spec.Seed);
        Assert.Equal(2, spec.StepSeconds);
        Assert.Equal(0.6, spec.TargetUtilization);
        Assert.Equal(SiteMethod.Grid, spec.Sites.Method);
        Assert.Equal(5, spec.Sites.K);
        Assert.Equal(3, spec.Sites.ServersPerSite);
        Assert.Equal(16, spec.Sites.CpuPerServer);
        Assert.Equal(2.5, spec.Sites.RingRadiusKm);
        Assert.Empty(spec.Sites.Explicit);
        Assert.False(spec.Cloud.Enabled);
        Assert.Equal(2, spec.Cloud.Servers);
        Assert.Equal(48, spec.Cloud.CpuPerServer);
        Assert.Equal(new Core.Topology.RttModel(3, 0.05, 2, 40), spec.Rtt);
        Assert.Equal(2, spec.Apps.Count);
        Core.Apps.AppProfile ar = spec.Apps[0].Profile;
        Assert.Equal(
            new Core.Apps.AppProfile
            {
                Name = "ar-render",
                LatencySloMs = 40,
                ServiceTimeMs = 8,
                Concurrency = 4,
                ColdStartSeconds = 6,
                WarmupSeconds = 15,
                WarmupStartCapacity = 0.3,
                MinInstances = 2,
                MaxInstances = 80,
                QueueLimitPerInstance = 150,
                DrainSeconds = 5,
            },
            ar);
        Assert.Equal(0.3, spec.Apps[0].Share);
        Assert.Equal(3000, spec.Apps[0].PeakRps);

        // The app without a share gets what the others leave.
        Assert.Equal(0.7, spec.ShareOf(1), 12);
    }

    [Fact]
    public void Explicit_sites_take_the_per_site_defaults()
    {
        const string yaml = """
            name: x
            trace: t.csv
            sites:
              method: explicit
              serversPerSite: 3
              cpuPerServer: 8
              explicit:
                - { id: north, xKm: 0, yKm: 10 }
                - { id: south, xKm: 0, yKm: -10, servers: 1, cpuPerServer: 64 }
            apps: [ { name: a } ]
            """;

        ScenarioSpec spec = ScenarioLoader.Load(yaml, "x.yaml", "");

        Assert.Equal(
            [new ExplicitSiteSpec("north", 0, 10, 3, 8), new ExplicitSiteSpec("south", 0, -10, 1, 64)],
            spec.Sites.Explicit);
    }

    public static TheoryData<string, string?, long?, string> Errors => new()
    {
        // yaml, field path, line, words the message must contain
        { "name: t\ntrace: x\ntimescale: 60\napps:\n  - name: a\n", "timescale", 3, "did you mean timeScale?" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    coldStart: 5\n", "apps[0].coldStart", 5, "did you mean coldStartSeconds?" },
        { "name: t\ntrace: x\nsites:\n  kk: 5\napps: [ { name: a } ]\n", "sites.kk", 4, "unknown field" },
        { "name: t\ntrace: x\nbogusField: 1\napps: [ { name: a } ]\n", "bogusField", 3, "expected one of" },
        { "name: t\ntrace: x\ntimeScale: fast\napps: [ { name: a } ]\n", "timeScale", 3, "expected a number" },
        { "name: t\ntrace: x\nseed: \"42\"\napps: [ { name: a } ]\n", "seed", 3, "expected a number" },
        { "name: t\ntrace: x\ntimeScale: [1, 2]\napps: [ { name: a } ]\n", "timeScale", 3, "expected a number" },
        { "name: t\ntrace: x\ntimeScale: .nan\napps: [ { name: a } ]\n", "timeScale", 3, "finite" },
        { "name: t\ntrace: x\ntimeScale: 0\napps: [ { name: a } ]\n", "timeScale", 3, "greater than 0" },
        { "name: t\ntrace: x\ntimeScale: 1e12\napps: [ { name: a } ]\n", "timeScale", 3, "at most" },
        { "name: t\ntrace: x\ntraceStart: -5\napps: [ { name: a } ]\n", "traceStart", 3, "zero or positive" },
        { "name: t\ntrace: x\ntraceDuration: 0\napps: [ { name: a } ]\n", "traceDuration", 3, "greater than 0" },
        { "name: t\ntrace: x\ntargetUtilization: 1.5\napps: [ { name: a } ]\n", "targetUtilization", 3, "at most 1" },
        { "name: t\ntrace: x\nstepSeconds: -1\napps: [ { name: a } ]\n", "stepSeconds", 3, "greater than 0" },
        { "name: t\ntrace: x\nsites:\n  method: hexagons\napps: [ { name: a } ]\n", "sites.method", 4, "kmeans, grid, single or explicit" },
        { "name: t\ntrace: x\nsites:\n  k: 2.5\napps: [ { name: a } ]\n", "sites.k", 4, "whole number" },
        { "name: t\ntrace: x\nsites:\n  k: 0\napps: [ { name: a } ]\n", "sites.k", 4, "at least 1" },
        { "name: t\ntrace: x\nsites:\n  cpuPerServer: -4\napps: [ { name: a } ]\n", "sites.cpuPerServer", 4, "greater than 0" },
        { "name: t\ntrace: x\nsites: 4\napps: [ { name: a } ]\n", "sites", 3, "expected a mapping" },
        { "name: t\ntrace: x\nsites:\n  method: explicit\napps: [ { name: a } ]\n", "sites.explicit", 3, "at least one site" },
        { "name: t\ntrace: x\nsites:\n  explicit:\n    - { id: a, xKm: 1, yKm: 2 }\napps: [ { name: a } ]\n", "sites.explicit", 4, "method: explicit" },
        { "name: t\ntrace: x\nsites:\n  method: explicit\n  explicit:\n    - { id: a, yKm: 2 }\napps: [ { name: a } ]\n", "sites.explicit[0].xKm", 6, "required field is missing" },
        { "name: t\ntrace: x\nsites:\n  method: explicit\n  explicit:\n    - { id: a, xKm: 1, yKm: 2 }\n    - { id: a, xKm: 3, yKm: 2 }\napps: [ { name: a } ]\n", "sites.explicit[1].id", 7, "duplicate site id" },
        { "name: t\ntrace: x\nsites:\n  method: explicit\n  explicit:\n    - { id: cloud, xKm: 1, yKm: 2 }\napps: [ { name: a } ]\n", "sites.explicit[0].id", 6, "reserved" },
        { "name: t\ntrace: x\ncloud:\n  enabled: maybe\napps: [ { name: a } ]\n", "cloud.enabled", 4, "true or false" },
        { "name: t\ntrace: x\nrtt:\n  perKmMs: -0.1\napps: [ { name: a } ]\n", "rtt.perKmMs", 4, "zero or positive" },
        { "trace: x\napps: [ { name: a } ]\n", "name", 1, "required field is missing" },
        { "name: \"\"\ntrace: x\napps: [ { name: a } ]\n", "name", 1, "must not be empty" },
        { "name: t\napps: [ { name: a } ]\n", "trace", 1, "required field is missing" },
        { "name: t\ntrace: null\napps: [ { name: a } ]\n", "trace", 2, "must not be null" },
        { "name: t\ntrace: x\n", "apps", 1, "at least one application" },
        { "name: t\ntrace: x\napps: []\n", "apps", 3, "at least one application" },
        { "name: t\ntrace: x\napps: web\n", "apps", 3, "expected a list" },
        { "name: t\ntrace: x\napps:\n  - latencySloMs: 5\n", "apps[0].name", 4, "required field is missing" },
        { "name: t\ntrace: x\napps:\n  - name: web\n  - name: api\n  - name: web\n", "apps[2].name", 6, "duplicate app name 'web'" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    coldStartSeconds: -1\n", "apps[0].coldStartSeconds", 5, "zero or positive" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    coldStartSeconds: 1e9\n", "apps[0].coldStartSeconds", 5, "at most" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    latencySloMs: 0\n", "apps[0].latencySloMs", 5, "positive" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    concurrency: 0\n", "apps[0].concurrency", 5, "between 1 and 1024" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    concurrency: 3.5\n", "apps[0].concurrency", 5, "whole number" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    warmupStartCapacity: 1.5\n", "apps[0].warmupStartCapacity", 5, "(0, 1]" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    minInstances: 5\n    maxInstances: 2\n", "apps[0].maxInstances", 6, "at least minInstances" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    minInstances: 60\n", "apps[0].maxInstances", 4, "at least minInstances" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    share: 0\n", "apps[0].share", 5, "greater than 0" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    peakRps: -3\n", "apps[0].peakRps", 5, "greater than 0" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    share: 0.7\n  - name: b\n    share: 0.6\n", "apps", 3, "sum to 1.3" },
        { "name: t\ntrace: x\napps:\n  - name: a\n    share: 1\n  - name: b\n", "apps", 3, "nothing for the apps without a share" },
        { "name: t\ntrace: x\napps:\n  - web\n", "apps[0]", 4, "expected a mapping" },
        { "- just\n- a list\n", null, 1, "expected a mapping" },
        { "", null, null, "empty" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Invalid_scenarios_name_the_field_and_line(string yaml, string? field, long? line, string words)
    {
        var e = Assert.Throws<InvalidInputException>(() => ScenarioLoader.Load(yaml, "bad.yaml", "/base"));

        Assert.Equal("bad.yaml", e.File);
        Assert.Equal(field, e.Field);
        Assert.Equal(line, e.Line);
        Assert.Contains(words, e.Problem, StringComparison.Ordinal);
        Assert.StartsWith(line is null ? "bad.yaml" : $"bad.yaml:{line}", e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string, long> SyntaxErrors => new()
    {
        { "name: t\ntrace: [x\napps:\n  - name: a\n", 3 },
        { "name: t\ntrace: x\n  bad: indent\napps: []\n", 3 },
        { "name: t\nname: u\ntrace: x\napps: [ { name: a } ]\n", 2 },
        { "name: t\ntrace: 'unterminated\n", 2 },
    };

    [Theory]
    [MemberData(nameof(SyntaxErrors))]
    public void Malformed_yaml_reports_the_parser_position(string yaml, long line)
    {
        var e = Assert.Throws<InvalidInputException>(() => ScenarioLoader.Load(yaml, "broken.yaml", "/base"));

        Assert.Equal("broken.yaml", e.File);
        Assert.Equal(line, e.Line);
        Assert.Contains($"invalid YAML at line {line}, column", e.Problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("coldStart", "coldStartSeconds")]
    [InlineData("ColdStartSeconds", "coldStartSeconds")]
    [InlineData("latencySlo", "latencySloMs")]
    [InlineData("maxInstance", "maxInstances")]
    [InlineData("servceTimeMs", "serviceTimeMs")]
    [InlineData("zzzzzz", null)]
    public void Unknown_fields_suggest_the_intended_one(string typo, string? expected)
    {
        string yaml = $"name: t\ntrace: x\napps:\n  - name: a\n    {typo}: 1\n";

        var e = Assert.Throws<InvalidInputException>(() => ScenarioLoader.Load(yaml, "s.yaml", ""));

        Assert.Equal($"apps[0].{typo}", e.Field);
        Assert.Equal(expected is null ? "unknown field; expected one of: name, share, peakRps, latencySloMs, serviceTimeMs, concurrency, coldStartSeconds, warmupSeconds, warmupStartCapacity, minInstances, maxInstances, queueLimitPerInstance, drainSeconds, requestKb, responseKb, reactive, missCost" : $"unknown field; did you mean {expected}?", e.Problem);
    }

    [Fact]
    public void LoadFile_resolves_relative_paths_against_the_scenario_directory()
    {
        string dir = Directory.CreateTempSubdirectory("foresight-scen-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "trace.csv"), "second,a\n0,1\n");
            string file = Path.Combine(dir, "s.yaml");
            File.WriteAllText(file, Minimal);

            ScenarioSpec spec = ScenarioLoader.LoadFile(file);

            Assert.Equal(Path.Combine(dir, "trace.csv"), spec.ResolveTracePath());
            Assert.Null(spec.ResolveSourcesPath());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_missing_trace_file_names_the_scenario_and_field()
    {
        ScenarioSpec spec = ScenarioLoader.Load(Minimal + "\nsources: nowhere.csv\n", "s.yaml", "/definitely/not/here");

        var trace = Assert.Throws<InvalidInputException>(spec.ResolveTracePath);
        var sources = Assert.Throws<InvalidInputException>(() => spec.ResolveSourcesPath());

        Assert.Equal(("s.yaml", "trace", 2L), (trace.File, trace.Field, trace.Line!.Value));
        Assert.Contains("file not found", trace.Problem, StringComparison.Ordinal);
        Assert.Equal(("s.yaml", "sources", 5L), (sources.File, sources.Field, sources.Line!.Value));
    }

    [Fact]
    public void A_missing_scenario_file_is_bad_input()
    {
        var e = Assert.Throws<InvalidInputException>(() => ScenarioLoader.LoadFile("/definitely/not/here.yaml"));

        Assert.Equal("/definitely/not/here.yaml", e.File);
    }

    [Fact]
    public void Command_line_trace_replaces_the_scenario_trace_and_its_sources()
    {
        ScenarioSpec spec = ScenarioLoader.Load(Minimal + "\nsources: cells.csv\n", "s.yaml", "/base");

        ScenarioSpec traceOnly = spec.WithTraceOverride("other.csv", null);
        ScenarioSpec both = spec.WithTraceOverride("other.csv", "data:x/areas.csv");

        Assert.Equal(Path.GetFullPath("other.csv"), traceOnly.Trace);
        Assert.Null(traceOnly.Sources);
        Assert.Equal("data:x/areas.csv", both.Sources);
        Assert.Same(spec, spec.WithTraceOverride(null, null));
    }
}
