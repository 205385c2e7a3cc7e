using System.Globalization;

namespace Slacker.Bench.Processes;

/// <summary>Reads counters out of a server's /metrics page (the Prometheus text format).</summary>
public static class PrometheusText
{
    /// <summary>The value of counter <paramref name="name"/> (the first sample, labels ignored), or 0 when it is absent.</summary>
    public static long Counter(string text, string name)
    {
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal) || line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }
}
