using Foresight.Core;
using Foresight.Simulation.Scenarios;

namespace Foresight.Simulation.Tests.Scenarios;

public sealed class BuiltInScenariosTests
{
    public static TheoryData<string> Names => new(BuiltInScenarios.Names);

    [Fact]
    public void Every_trace_in_the_shared_data_has_a_scenario_and_milan_is_the_default()
    {
        Assert.Equal(["milan", "bikenyc", "melbourne", "bayarea", "nasa", "melbourne-reopening", "milan-moved", "milan-degraded"], BuiltInScenarios.Names);
        Assert.Equal("milan", BuiltInScenarios.Default);
        Assert.All(BuiltInScenarios.Names, name => Assert.True(BuiltInScenarios.Contains(name), name));
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Loads_and_its_data_paths_resolve(string name)
    {
        _ = TestData.Root;
        ScenarioSpec spec = BuiltInScenarios.Load(name);

        Assert.Equal(name, spec.Name);
        Assert.Contains("where users, and so their traffic, are", spec.Description, StringComparison.Ordinal);
        Assert.StartsWith(DataPaths.DataPrefix, spec.Trace, StringComparison.Ordinal);
        Assert.True(File.Exists(spec.ResolveTracePath()), spec.ResolveTracePath());
        if (spec.Sources is not null)
        {
            Assert.True(File.Exists(spec.ResolveSourcesPath()), spec.ResolveSourcesPath());
        }

        Assert.Equal(0.7, spec.TargetUtilization);
        Assert.All(spec.Apps, a => Assert.Null(a.Profile.Validate()));
        Assert.All(spec.Apps, a => Assert.NotNull(a.PeakRps));
        Assert.InRange(spec.Apps.Sum(a => a.Share ?? 0), 0.999, 1.001);
    }

    [Fact]
    public void Milan_has_three_apps_that_differ_in_slo_and_cold_start()
    {
        ScenarioSpec spec = BuiltInScenarios.Load("milan");

        Assert.True(spec.Apps.Count >= 3);
        Assert.Equal(spec.Apps.Count, spec.Apps.Select(a => a.Profile.LatencySloMs).Distinct().Count());
        Assert.Equal(spec.Apps.Count, spec.Apps.Select(a => a.Profile.ColdStartSeconds).Distinct().Count());
        Assert.Equal(60, spec.TimeScale);
        Assert.Equal((SiteMethod.KMeans, 8), (spec.Sites.Method, spec.Sites.K));
    }

    [Fact]
    public void Nasa_is_one_region_in_real_time()
    {
        ScenarioSpec spec = BuiltInScenarios.Load("nasa");

        Assert.Equal(SiteMethod.Single, spec.Sites.Method);
        Assert.Equal(1, spec.TimeScale);
        Assert.Null(spec.Sources);
        Assert.Equal(2000, spec.Apps.Sum(a => a.PeakRps!.Value));
    }

    [Fact]
    public void An_unknown_name_is_bad_input_listing_the_built_ins()
    {
        var e = Assert.Throws<InvalidInputException>(() => BuiltInScenarios.Load("atlantis"));

        Assert.Contains("milan, bikenyc, melbourne, bayarea, nasa", e.Problem, StringComparison.Ordinal);
    }
}

public sealed class DataPathsTests
{
    [Fact]
    public void The_environment_variable_wins()
    {
        string? root = DataPaths.FindDataRoot("/somewhere/data", ["/"]);

        Assert.Equal(Path.GetFullPath("/somewhere/data"), root);
    }

    [Fact]
    public void Walks_up_to_a_sibling_shared_data_folder()
    {
        // The CI layout: <parent>/clone/src/... with <parent>/shared/data beside the clone.
        string parent = Directory.CreateTempSubdirectory("foresight-data-").FullName;
        try
        {
            string data = Directory.CreateDirectory(Path.Combine(parent, "shared", "data")).FullName;
            string deep = Directory.CreateDirectory(Path.Combine(parent, "clone", "tests", "bin")).FullName;

            Assert.Equal(data, DataPaths.FindDataRoot(null, [deep]));
            Assert.Equal(data, DataPaths.FindDataRoot("  ", ["/", deep]));
        }
        finally
        {
            Directory.Delete(parent, recursive: true);
        }
    }

    [Fact]
    public void Finds_the_shared_data_folder_of_this_checkout()
    {
        _ = TestData.Root;
        string? root = DataPaths.FindDataRoot();

        Assert.NotNull(root);
        Assert.True(File.Exists(Path.Combine(root, "milan_telecom_cdr_hourly", "milan_cells.csv")), root);
    }

    [Theory]
    [InlineData("data:nasa_http_jul1995/requests_per_second.csv.gz", "nasa_http_jul1995/requests_per_second.csv.gz")]
    [InlineData("data:/milan_telecom_cdr_hourly/milan_cells.csv", "milan_telecom_cdr_hourly/milan_cells.csv")]
    public void Data_references_resolve_into_the_data_folder(string reference, string relative)
    {
        string root = TestData.Root;

        Assert.Equal(Path.GetFullPath(Path.Combine(root, relative)), DataPaths.Resolve(reference, "/ignored"));
    }

    [Theory]
    [InlineData("traces/a.csv", "/base/dir", "/base/dir/traces/a.csv")]
    [InlineData("../a.csv", "/base/dir", "/base/a.csv")]
    [InlineData("/abs/a.csv", "/base/dir", "/abs/a.csv")]
    public void Other_paths_are_relative_to_the_scenario(string path, string baseDirectory, string expected)
    {
        Assert.Equal(expected, DataPaths.Resolve(path, baseDirectory));
    }
}
