using System.Globalization;
using System.Text;

namespace Slacker.Server.Metrics;

/// <summary>A Prometheus histogram with fixed buckets, updated with Interlocked only: no lock on the request path.</summary>
public sealed class LatencyHistogram
{
    /// <summary>Upper bounds in seconds; chunk reads sit in the sub-millisecond buckets, snapshots and gc further up.</summary>
    public static readonly double[] Bounds = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

    private readonly long[] _counts = new long[Bounds.Length + 1];
    private long _sumMicroseconds;

    public void Observe(double seconds)
    {
        var bucket = Array.BinarySearch(Bounds, seconds);
        Interlocked.Increment(ref _counts[bucket >= 0 ? bucket : ~bucket]);
        Interlocked.Add(ref _sumMicroseconds, (long)(seconds * 1e6));
    }

    public long Count
    {
        get
        {
            long total = 0;
            for (var i = 0; i < _counts.Length; i++)
            {
                total += Volatile.Read(ref _counts[i]);
            }

            return total;
        }
    }

    public void WriteTo(StringBuilder text, string name, string labels)
    {
        long cumulative = 0;
        for (var i = 0; i < Bounds.Length; i++)
        {
            cumulative += Volatile.Read(ref _counts[i]);
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"{Bounds[i]}\"}} {cumulative}\n");
        }

        cumulative += Volatile.Read(ref _counts[^1]);
        text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{{labels},le=\"+Inf\"}} {cumulative}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_sum{{{labels}}} {Volatile.Read(ref _sumMicroseconds) / 1e6}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_count{{{labels}}} {cumulative}\n");
    }
}
