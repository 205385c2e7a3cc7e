using Xunit.Abstractions;

namespace Slacker.Fuse.Tests;

/// <summary>Runs only when SLACKER_PERF=1; throughput is reported, never asserted.</summary>
public sealed class FusePerfTests(ITestOutputHelper output)
{
    [PerfFact]
    public void Measure_fuse_request_rate_and_throughput()
    {
        var table = FuseBenchmark.Run(TimeSpan.FromSeconds(3), runs: 5, output.WriteLine);
        output.WriteLine(table);
    }
}

/// <summary>A fact that is skipped unless SLACKER_PERF=1.</summary>
public sealed class PerfFactAttribute : FactAttribute
{
    public PerfFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("SLACKER_PERF") != "1")
        {
            Skip = "performance measurement: set SLACKER_PERF=1 to run";
        }
    }
}
