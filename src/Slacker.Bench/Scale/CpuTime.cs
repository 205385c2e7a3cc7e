using System.Globalization;

namespace Slacker.Bench.Scale;

/// <summary>
/// CPU time from /proc, to name what limits a wave on this machine: the whole machine's busy time
/// (/proc/stat) and one process's own (/proc/PID/stat), in seconds.
/// </summary>
public static class CpuTime
{
    /// <summary>The kernel's USER_HZ: /proc counts in these ticks; it is 100 on every Linux architecture .NET runs on.</summary>
    private const double TicksPerSecond = 100;

    /// <summary>Seconds all CPUs were busy since boot (user, nice, system, irq, softirq, steal; not idle or iowait).</summary>
    public static double MachineBusySeconds()
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        // cpu user nice system idle iowait irq softirq steal ...
        long Field(int i) => fields.Length > i ? long.Parse(fields[i], CultureInfo.InvariantCulture) : 0;
        return (Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / TicksPerSecond;
    }

    /// <summary>Seconds of CPU process <paramref name="pid"/> has used (user + system), or 0 when it is gone.</summary>
    public static double ProcessSeconds(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }

        // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
        var fields = text[(text.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
    }
}
