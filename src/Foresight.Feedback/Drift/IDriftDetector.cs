namespace Foresight.Feedback.Drift;

/// <summary>A sequential change detector on a stream (typically forecast errors), so the retrain trigger can swap detectors.</summary>
public interface IDriftDetector
{
    /// <summary>Points seen since the last reset.</summary>
    long Count { get; }

    /// <summary>Current test statistic; drift is reported when it exceeds the detector's threshold.</summary>
    double Statistic { get; }

    /// <summary>Adds one point; true when drift is detected, after which the detector has reset.</summary>
    bool Add(double x);

    void Reset();
}
