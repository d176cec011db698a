using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Xunit;
using Foresight.Core.Traffic;

namespace Foresight.Ingest.Tests;

/// <summary>
/// Jitter and dropped steps do not change the grid: every kept row lands on its own step, and the steps dropped are
/// exactly the steps filled.
/// </summary>
public sealed class TimeGridPropertyTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// Any step, any phase of the grid, any set of dropped steps, any jitter within ±a quarter step (a spread under
    /// half a step; wider is ambiguous, see <see cref="TimeGrid"/>): the rows get their true steps back.
    /// </summary>
    [Property(MaxTest = 500)]
    public bool Any_phase_and_jitter_within_a_quarter_step_gives_the_true_steps(
        PositiveInt stepRaw, int phaseRaw, bool[] keep, int[] jitterRaw, bool fractionalStep)
    {
        double step = fractionalStep ? (stepRaw.Get % 100_000) / 1000.0 + 0.001 : (stepRaw.Get % 86_400) + 1;
        double phase = Fraction(phaseRaw) * step;
        long[] truth = KeptSteps(keep);
        double origin = 1_700_000_000 + phase;   // a Unix time, so the round grid is not trivially the true one
        double[] absolute = truth.Select((k, i) => (k * step) + (0.249 * step * Signed(jitterRaw, i))).ToArray();
        double[] relative = absolute.Select(a => a - absolute[0]).ToArray();

        TimeGrid.Placement grid = TimeGrid.Place(relative, origin + absolute[0], step);

        return grid.Collision == -1
            && grid.Slots.SequenceEqual(truth.Select(k => k - truth[0]))
            && grid.MissingSteps == truth[^1] - truth[0] + 1 - truth.Length;
    }

    /// <summary>
    /// A 5-minute export on the round grid (:00, :05, …) with any steps dropped and timestamps up to 29 s off
    /// (under a tenth of a step) is read back onto exactly that grid, its dropped steps filled and counted. The step
    /// is given: with most steps dropped, no inference could tell the step (see the next property for that).
    /// </summary>
    [Property(MaxTest = 100)]
    public bool A_jittered_export_with_dropped_steps_is_read_onto_its_grid(bool[] keep, int[] jitterRaw, PositiveInt[] readings)
    {
        const int step = 300;
        long[] truth = KeptSteps(keep);
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.FromHours(1));
        var csv = new StringBuilder("timestamp,value,other\n");
        var expected = new Dictionary<long, double>();
        for (int i = 0; i < truth.Length; i++)
        {
            int jitter = (int)Math.Round(29 * Signed(jitterRaw, i));
            double value = readings.Length == 0 ? i : readings[i % readings.Length].Get % 10_000;
            expected[truth[i] - truth[0]] = value;
            DateTimeOffset at = start.AddSeconds((truth[i] * step) + jitter);
            csv.Append(CultureInfo.InvariantCulture, $"{at:yyyy-MM-ddTHH:mm:sszzz},{value},7\n");
        }

        string file = _dir.Write($"export-{Guid.NewGuid():N}.csv", csv.ToString());
        TraceTable trace = TraceReader.Read(file, new TraceReadOptions { RegularGrid = true, StepSeconds = step });

        long slots = truth[^1] - truth[0] + 1;
        long dropped = slots - truth.Length;
        bool onGrid = trace.RowCount == slots
            && trace.TimeSeconds.Select((t, j) => t == j * (double)step).All(ok => ok)
            && trace.StartTime == start.AddSeconds(truth[0] * step);
        bool kept = expected.All(p => trace.Values[0][p.Key] == p.Value);
        bool counted = trace.Fills.FilledSteps == dropped
            && trace.Fills.FilledCells == dropped * 2
            && trace.Fills.FilledEmptyCells == 0
            && trace.Fills.GridStepSeconds == step
            && trace.Values[1].All(v => v == 7);
        return onGrid && kept && counted;
    }

    /// <summary>
    /// With at most a quarter of the steps dropped and jitter under a twentieth of a step, the inferred step is
    /// the true one (a common interval) however long the cut-out gaps are.
    /// </summary>
    [Property(MaxTest = 300)]
    public bool The_inferred_step_is_the_true_one(byte stepIndex, bool[] dropMask, int[] jitterRaw, PositiveInt lengthRaw)
    {
        double[] commonSteps = [1, 5, 10, 15, 30, 60, 300, 600, 900, 3600, 86400];
        double step = commonSteps[stepIndex % commonSteps.Length];
        int n = 50 + (lengthRaw.Get % 400);
        var kept = new List<long>();
        int dropped = 0;
        for (int k = 0; k < n; k++)
        {
            bool drop = k > 0 && k < n - 1 && dropMask.Length > 0 && dropMask[k % dropMask.Length] && dropped < n / 4;
            if (drop)
            {
                dropped++;
            }
            else
            {
                kept.Add(k);
            }
        }

        double[] times = kept.Select((k, i) => (k * step) + (0.049 * step * Signed(jitterRaw, i))).ToArray();

        return TimeGrid.InferStep(times) == step;
    }

    // The kept steps: always the first and the last, and those 'keep' marks (cycled) in between; at least two.
    private static long[] KeptSteps(bool[] keep)
    {
        int n = Math.Max(2, keep.Length + 2);
        return Enumerable.Range(0, n).Where(k => k == 0 || k == n - 1 || keep[(k - 1) % keep.Length]).Select(k => (long)k).ToArray();
    }

    // A value in (-1, 1) from an arbitrary int, cycling through 'raw'.
    private static double Signed(int[] raw, int i) => raw.Length == 0 ? 0 : (2 * Fraction(raw[i % raw.Length])) - 1;

    // A value in [0, 1) from an arbitrary int.
    private static double Fraction(int raw) => (raw & 0x7FFFFFFF) % 10_000 / 10_000.0;
}
