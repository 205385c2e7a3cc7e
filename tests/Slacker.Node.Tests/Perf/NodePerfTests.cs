using Xunit.Abstractions;

namespace Slacker.Node.Tests.Perf;

/// <summary>docs/perf/node.md: attach time, cold/warm sequential read vs a local loop device, 4 KiB cache-hit rate.</summary>
[Collection(Kernel.KernelCollection.Name)]
public sealed class NodePerfTests(ITestOutputHelper output)
{
    [NodePerfFact]
    public async Task Measure_attach_sequential_read_and_cache_hit_rate()
    {
        var runs = int.TryParse(Environment.GetEnvironmentVariable("SLACKER_PERF_RUNS"), out var n) ? n : 5;
        var parts = (Environment.GetEnvironmentVariable("SLACKER_PERF_PARTS") ?? "attach,seq,random").Split(',', StringSplitOptions.TrimEntries).ToHashSet();
        var report = await NodeBenchmark.RunAsync(runs, parts, output.WriteLine);
        output.WriteLine(report);
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), "slacker-node-perf.md"), report);
    }
}
