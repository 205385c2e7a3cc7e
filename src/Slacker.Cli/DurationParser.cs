using System.Globalization;

namespace Slacker.Cli;

/// <summary>Durations on the command line: 0, 500ms, 30s, 10m, 2h (a bare number is seconds).</summary>
public static class DurationParser
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = default;
        var units = new (string Suffix, double Seconds)[] { ("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("", 1) };
        foreach (var (suffix, seconds) in units)
        {
            if (text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)
                && double.TryParse(text.AsSpan(0, text.Length - suffix.Length), NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
                && value >= 0)
            {
                duration = TimeSpan.FromSeconds(value * seconds);
                return true;
            }
        }

        return false;
    }
}
