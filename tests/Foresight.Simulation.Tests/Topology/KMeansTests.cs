using Foresight.Simulation.Topology;

namespace Foresight.Simulation.Tests.Topology;

public sealed class KMeansTests
{
    private static readonly (double X, double Y)[] _blobCentres = [(0, 0), (10, 0), (5, 8)];

    /// <summary>30 points in each of three blobs of radius 1 around <see cref="_blobCentres"/>, blob by blob.</summary>
    private static (double[] X, double[] Y) ThreeBlobs()
    {
        var random = new Random(1234);
        var x = new List<double>();
        var y = new List<double>();
        foreach ((double cx, double cy) in _blobCentres)
        {
            for (int i = 0; i < 30; i++)
            {
                double angle = random.NextDouble() * 2 * Math.PI;
                double radius = random.NextDouble();
                x.Add(cx + (radius * Math.Cos(angle)));
                y.Add(cy + (radius * Math.Sin(angle)));
            }
        }

        return (x.ToArray(), y.ToArray());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(7)]
    [InlineData(42)]
    [InlineData(-99)]
    public void Recovers_three_blobs(int seed)
    {
        (double[] x, double[] y) = ThreeBlobs();

        KMeansResult result = KMeans.Cluster(x, y, null, 3, seed);

        Assert.Equal(3, result.K);
        var labels = new HashSet<int>();
        for (int blob = 0; blob < 3; blob++)
        {
            int label = result.Assignment[blob * 30];
            Assert.All(result.Assignment.Skip(blob * 30).Take(30), a => Assert.Equal(label, a));
            labels.Add(label);
            Assert.True(
                Math.Abs(result.CenterX[label] - _blobCentres[blob].X) < 0.5 && Math.Abs(result.CenterY[label] - _blobCentres[blob].Y) < 0.5,
                $"blob {blob} centre found at ({result.CenterX[label]}, {result.CenterY[label]})");
        }

        Assert.Equal(3, labels.Count);
    }

    [Fact]
    public void Same_seed_gives_the_same_clusters()
    {
        (double[] x, double[] y) = ThreeBlobs();

        KMeansResult first = KMeans.Cluster(x, y, null, 5, 42);
        KMeansResult second = KMeans.Cluster(x, y, null, 5, 42);

        Assert.Equal(first.CenterX, second.CenterX);
        Assert.Equal(first.CenterY, second.CenterY);
        Assert.Equal(first.Assignment, second.Assignment);
        Assert.Equal(first.Inertia, second.Inertia);
    }

    public static TheoryData<double[], double[], double[]?, double, double> OneCluster => new()
    {
        // x, y, weights, expected centre
        { [0, 4], [0, 0], [3, 1], 1, 0 },
        { [0, 1, 100], [0, 0, 100], [1, 1, 0], 0.5, 0 },
        { [0, 2], [0, 2], null, 1, 1 },
        { [0, 2], [0, 2], [0, 0], 1, 1 },
    };

    [Theory]
    [MemberData(nameof(OneCluster))]
    public void A_centre_is_the_weighted_mean_and_zero_weights_do_not_pull(double[] x, double[] y, double[]? weights, double cx, double cy)
    {
        KMeansResult result = KMeans.Cluster(x, y, weights, 1, 42);

        Assert.Equal(cx, result.CenterX[0], 12);
        Assert.Equal(cy, result.CenterY[0], 12);
    }

    [Fact]
    public void K_is_clamped_to_the_distinct_weighted_positions()
    {
        double[] x = [0, 0, 1, 1, 5];
        double[] y = [0, 0, 1, 1, 5];

        KMeansResult result = KMeans.Cluster(x, y, [1, 1, 1, 1, 0], 8, 42);

        Assert.Equal(2, result.K);
        Assert.Equal(2, KMeans.DistinctWeightedPositions(x, y, [1, 1, 1, 1, 0]));
        Assert.Equal(3, KMeans.DistinctWeightedPositions(x, y, null));
    }

    [Fact]
    public void Every_point_is_assigned_to_its_nearest_centre()
    {
        (double[] x, double[] y) = ThreeBlobs();

        KMeansResult result = KMeans.Cluster(x, y, null, 6, 3);

        for (int i = 0; i < x.Length; i++)
        {
            double own = Distance(x[i], y[i], result.CenterX[result.Assignment[i]], result.CenterY[result.Assignment[i]]);
            for (int c = 0; c < result.K; c++)
            {
                Assert.True(own <= Distance(x[i], y[i], result.CenterX[c], result.CenterY[c]) + 1e-12);
            }
        }
    }

    private static double Distance(double x1, double y1, double x2, double y2) => Math.Sqrt(((x1 - x2) * (x1 - x2)) + ((y1 - y2) * (y1 - y2)));
}
