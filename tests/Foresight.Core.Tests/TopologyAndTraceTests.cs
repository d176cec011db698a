using FsCheck;
using FsCheck.Xunit;
using Foresight.Core.Topology;
using Foresight.Core.Traffic;

namespace Foresight.Core.Tests;

public sealed class TopologyAndTraceTests
{
    [Fact]
    public void Forwarding_costs_a_hop_plus_distance_and_the_cloud_costs_the_backhaul()
    {
        var rtt = new RttModel(AccessBaseMs: 2, PerKmMs: 0.02, InterSiteHopMs: 1, CloudBackhaulMs: 25);
        var a = new Site("a", 0, 0);
        var b = new Site("b", 30, 40); // 50 km away
        var cloud = new Site("cloud", 0, 0, SiteKind.Cloud);

        Assert.Equal(0, rtt.BetweenSitesMs(a, a));
        Assert.Equal(1 + (0.02 * 50), rtt.BetweenSitesMs(a, b), 9);
        Assert.Equal(25, rtt.BetweenSitesMs(a, cloud));
        Assert.Equal(2 + (0.02 * 10), rtt.AccessMs(10), 9);
    }

    [Property(MaxTest = 200)]
    public bool Forwarding_rtt_is_symmetric_and_never_negative(NormalFloat x1, NormalFloat y1, NormalFloat x2, NormalFloat y2)
    {
        var rtt = new RttModel();
        var a = new Site("a", x1.Get % 1e4, y1.Get % 1e4);
        var b = new Site("b", x2.Get % 1e4, y2.Get % 1e4);
        double ab = rtt.BetweenSitesMs(a, b);
        return ab >= 0 && Math.Abs(ab - rtt.BetweenSitesMs(b, a)) < 1e-9;
    }

    [Fact]
    public void The_step_of_a_trace_is_its_median_gap_so_one_hole_does_not_change_it()
    {
        var key = new TrafficKey("*", TraceTable.DefaultType, "s1");
        var trace = new TraceTable("t", [0, 60, 120, 300, 360], null, [key], [[1, 2, 3, 4, 5]], FillReport.None);

        Assert.Equal(60, trace.StepSeconds);
        Assert.Equal(420, trace.DurationSeconds);
        Assert.Equal("*/default/s1", key.ToString());
    }

    [Fact]
    public void A_trace_whose_time_does_not_increase_is_refused()
    {
        var key = new TrafficKey("*", TraceTable.DefaultType, "s1");

        Assert.Throws<ArgumentException>(() => new TraceTable("t", [0, 60, 60], null, [key], [[1, 2, 3]], FillReport.None));
        Assert.Throws<ArgumentException>(() => new TraceTable("t", [0, 60], null, [key], [[1]], FillReport.None));
    }

    [Fact]
    public void Bad_input_errors_name_the_file_line_and_field()
    {
        var e = new InvalidInputException("trace.csv", "not a number", line: 12, field: "cell_4");

        Assert.Contains("trace.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains("12", e.Message, StringComparison.Ordinal);
        Assert.Contains("cell_4", e.Message, StringComparison.Ordinal);
    }
}
