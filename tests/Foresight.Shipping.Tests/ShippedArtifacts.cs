namespace Foresight.Shipping.Tests;

/// <summary>
/// One <c>dotnet publish -r linux-x64</c> (the self-contained single file) and one <c>dotnet pack</c> (the dotnet tool)
/// of src/Foresight.Cli, as the README tells users to make them, into a temporary folder shared by the tests.
/// </summary>
public sealed class ShippedArtifacts : IAsyncLifetime
{
    public const string Version = "0.1.0";

    /// <summary>Builds, publishes and packs take minutes on a busy two-core machine.</summary>
    private static readonly TimeSpan s_buildTimeout = TimeSpan.FromMinutes(20);

    public string Root { get; } = Directory.CreateTempSubdirectory("foresight-shipping-").FullName;

    public string PublishDir => Path.Combine(Root, "publish");

    public string PackageDir => Path.Combine(Root, "packages");

    /// <summary>The one file publish produced (the only one the image copies).</summary>
    public string Binary => Path.Combine(PublishDir, "foresight");

    public async Task InitializeAsync()
    {
        // --disable-build-servers: no MSBuild node or compiler server outlives the test.
        (int code, string output) = await Repo.RunAsync(Repo.Dotnet,
            ["publish", Repo.CliProject, "-c", "Release", "-r", "linux-x64", "-o", PublishDir, "--disable-build-servers"], Repo.Root, timeout: s_buildTimeout);
        Assert.True(code == 0, "dotnet publish failed:\n" + output);

        (code, output) = await Repo.RunAsync(Repo.Dotnet,
            ["pack", Repo.CliProject, "-c", "Release", "-o", PackageDir, "--disable-build-servers"], Repo.Root, timeout: s_buildTimeout);
        Assert.True(code == 0, "dotnet pack failed:\n" + output);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Root, recursive: true);
        return Task.CompletedTask;
    }
}
