namespace Slacker.Node.Tests.Perf;

/// <summary>A fact that is skipped unless SLACKER_PERF=1: measurements are reported, never asserted.</summary>
public sealed class NodePerfFactAttribute : FactAttribute
{
    public NodePerfFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SLACKER_PERF") != "1")
        {
            Skip = "performance measurement: set SLACKER_PERF=1 to run";
        }
    }
}
