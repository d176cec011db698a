namespace Foresight.Cli.Controller;

/// <summary>Reads the current request rate per site of one app.</summary>
public interface ITrafficObserver
{
    /// <summary>Requests per second per site, in the order of <see cref="KubernetesApp.Sites"/> (0 where nothing was reported).</summary>
    ValueTask<double[]> ObserveAsync(KubernetesApp app, CancellationToken cancellationToken);

    /// <summary>What was missing from the last observation of <paramref name="app"/> (empty when nothing was).</summary>
    IReadOnlyList<ObservationWarning> Warnings(string app) => [];
}
