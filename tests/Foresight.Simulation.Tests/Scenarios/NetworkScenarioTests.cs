using Foresight.Core;
using Foresight.Core.Traffic;
using Foresight.Simulation.Engine;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

/// <summary>The scenario's <c>network:</c> section: read strictly, checked against the topology, mapped to simulated time.</summary>
public sealed class NetworkScenarioTests
{
    private static readonly DateTimeOffset _start = new(2024, 1, 1, 0, 0, 0, TimeSpan.Zero);

    // Two sources over three trace days; one edge site (site-0) plus the cloud.
    private static TraceTable Trace() => new(
        "hourly.csv",
        Enumerable.Range(0, 73).Select(h => h * 3600.0).ToArray(),
        _start,
        [new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "a"), new TrafficKey(TraceTable.AnyApp, TraceTable.DefaultType, "b")],
        [Enumerable.Repeat(3600.0, 73).ToArray(), Enumerable.Repeat(1800.0, 73).ToArray()],
        FillReport.None);

    private static ScenarioSpec Spec(string network) =>
        ScenarioLoader.Load(
            $"name: net\ntrace: hourly.csv\ntimeScale: 60\nsites: {{ method: single }}\nnetwork:\n  events:\n{network.TrimEnd('\n')}\napps:\n  - name: api\n",
            "net.yaml",
            "");

    [Fact]
    public void Events_read_links_sites_and_compound_durations_in_trace_time()
    {
        ScenarioSpec spec = Spec("""
                - { link: "a->site-0", from: 1d, to: 1d6h, addLatencyMs: 40 }
                - { site: site-0, from: 3600, to: 2d, bandwidthMbps: 50 }
                - { link: "site-0->cloud", from: 90m, to: 1h30m15s, addLatencyMs: 5, bandwidthMbps: 100 }
            """);

        Assert.Equal(
            [
                new NetworkEventSpec("a->site-0", null, 86_400, 108_000, 40, null, "network.events[0]"),
                new NetworkEventSpec(null, "site-0", 3600, 172_800, 0, 50, "network.events[1]"),
                new NetworkEventSpec("site-0->cloud", null, 5400, 5415, 5, 100, "network.events[2]"),
            ],
            spec.Network);

        SimulationScenario scenario = ScenarioBuilder.Build(spec, Trace(), null);

        // One trace hour per simulated minute.
        Assert.Equal(
            [
                new NetworkEvent(LinkKind.Source, 0, 0, 1440, 1800, 40, null),
                new NetworkEvent(LinkKind.Site, -1, 0, 60, 2880, 0, 50),
                new NetworkEvent(LinkKind.Path, 0, 1, 90, 90.25, 5, 100),
            ],
            scenario.NetworkEvents);
    }

    [Fact]
    public void Without_a_network_section_there_are_no_events()
    {
        ScenarioSpec spec = ScenarioLoader.Load("name: n\ntrace: t.csv\napps:\n  - name: api\n", "n.yaml", "");

        Assert.Empty(spec.Network);
        Assert.Empty(ScenarioBuilder.Build(spec with { TimeScale = 60, Sites = new SitesSpec { Method = SiteMethod.Single } }, Trace(), null).NetworkEvents);
    }

    public static TheoryData<string, string, string> LoaderErrors => new()
    {
        { "    - { site: site-0, from: 2d, to: 1d, addLatencyMs: 40 }\n", "network.events[0].to", "later than from" },
        { "    - { site: site-0, from: 1d, to: 1d, addLatencyMs: 40 }\n", "network.events[0].to", "later than from" },
        { "    - { site: site-0, from: 0, to: 1d, addLatencyMs: -5 }\n", "network.events[0].addLatencyMs", "zero or positive" },
        { "    - { site: site-0, from: 0, to: 1d, bandwidthMbps: -50 }\n", "network.events[0].bandwidthMbps", "greater than 0" },
        { "    - { site: site-0, from: 0, to: 1d, bandwidthMbps: 0 }\n", "network.events[0].bandwidthMbps", "greater than 0" },
        { "    - { site: site-0, from: -1d, to: 1d, addLatencyMs: 4 }\n", "network.events[0].from", "not a time" },
        { "    - { site: site-0, from: -60, to: 1d, addLatencyMs: 4 }\n", "network.events[0].from", "zero or positive" },
        { "    - { site: site-0, from: 2x, to: 1d, addLatencyMs: 4 }\n", "network.events[0].from", "not a time" },
        { "    - { site: site-0, to: 1d, addLatencyMs: 4 }\n", "network.events[0].from", "required" },
        { "    - { link: a->site-0, site: site-0, from: 0, to: 1d, addLatencyMs: 4 }\n", "network.events[0].site", "not both" },
        { "    - { from: 0, to: 1d, addLatencyMs: 4 }\n", "network.events[0].link", "either a link" },
        { "    - { link: a-site-0, from: 0, to: 1d, addLatencyMs: 4 }\n", "network.events[0].link", "not a link" },
        { "    - { site: site-0, from: 0, to: 1d }\n", "network.events[0].addLatencyMs", "must set" },
        { "    - { site: site-0, from: 0, to: 1d, addLatencyMs: 4, jitterMs: 3 }\n", "network.events[0].jitterMs", "unknown" },
    };

    [Theory]
    [MemberData(nameof(LoaderErrors))]
    public void Bad_events_are_errors_naming_the_field(string events, string field, string words)
    {
        InvalidInputException e = Assert.Throws<InvalidInputException>(() => Spec(events));

        Assert.Equal(field, e.Field);
        Assert.Equal("net.yaml", e.File);
        Assert.NotNull(e.Line);
        Assert.Contains(words, e.Problem, StringComparison.OrdinalIgnoreCase);
    }

    public static TheoryData<string, string, string> TopologyErrors => new()
    {
        { "    - { site: site-7, from: 0, to: 1d, addLatencyMs: 40 }\n", "network.events[0].site", "unknown site 'site-7'" },
        { "    - { link: \"zz->site-0\", from: 0, to: 1d, addLatencyMs: 40 }\n", "network.events[0].link", "'zz' is neither a source nor a site" },
        { "    - { link: \"a->site-9\", from: 0, to: 1d, addLatencyMs: 40 }\n", "network.events[0].link", "unknown site 'site-9'" },
        { "    - { link: \"site-0->site-0\", from: 0, to: 1d, addLatencyMs: 40 }\n", "network.events[0].link", "to itself" },
    };

    [Theory]
    [MemberData(nameof(TopologyErrors))]
    public void Events_naming_what_the_topology_lacks_are_errors_naming_the_field(string events, string field, string words)
    {
        ScenarioSpec spec = Spec(events);

        InvalidInputException e = Assert.Throws<InvalidInputException>(() => ScenarioBuilder.Build(spec, Trace(), null));

        Assert.Equal(field, e.Field);
        Assert.Equal("net.yaml", e.File);
        Assert.NotNull(e.Line);
        Assert.Contains(words, e.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Request_and_response_sizes_have_defaults_and_are_read()
    {
        ScenarioSpec spec = ScenarioLoader.Load(
            "name: n\ntrace: t.csv\napps:\n  - name: api\n  - { name: video, requestKb: 2, responseKb: 500 }\n", "n.yaml", "");

        Assert.Equal((1, 10), (spec.Apps[0].Profile.RequestKb, spec.Apps[0].Profile.ResponseKb));
        Assert.Equal((2, 500), (spec.Apps[1].Profile.RequestKb, spec.Apps[1].Profile.ResponseKb));
        Assert.Equal(4.0, spec.Apps[1].Profile.MegabitsPerRequest, 12);

        InvalidInputException e = Assert.Throws<InvalidInputException>(() => ScenarioLoader.Load(
            "name: n\ntrace: t.csv\napps:\n  - { name: api, responseKb: -1 }\n", "n.yaml", ""));
        Assert.Equal("apps[0].responseKb", e.Field);
    }

    [Fact]
    public void Milan_degraded_degrades_its_two_busiest_sites_and_milan_has_no_events()
    {
        _ = TestData.Root;
        ScenarioSpec spec = BuiltInScenarios.Load("milan-degraded");

        Assert.Equal(["site-0", "site-1"], spec.Network.Select(e => e.Site));
        Assert.Empty(BuiltInScenarios.Load("milan").Network);
        Assert.Equal(
            BuiltInScenarios.Load("milan").Apps.Select(a => a.Profile),
            spec.Apps.Select(a => a.Profile));
    }
}
