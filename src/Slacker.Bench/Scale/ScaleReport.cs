using System.Globalization;
using System.Text;
using Slacker.Bench.Report;

namespace Slacker.Bench.Scale;

/// <summary>scale.md: every figure computed from this run's scale.jsonl, with the command that reproduces it.</summary>
public static class ScaleReport
{
    /// <summary>
    /// How far above one node's bytes a node of a crowd may fetch and still count as fetching "the same": a node's
    /// read-ahead and startup-profile prefetch run in the background, so what it has fetched when its job is done
    /// varies by a few chunks. Fewer bytes (a prefetch that had not finished) is no cost to the cluster; more would be.
    /// </summary>
    private const double SameBytes = 0.05;

    public static string Render(IReadOnlyList<ScaleRecord> records, ScaleOptions options)
    {
        var md = new StringBuilder();
        var run = records.FirstOrDefault(r => r.Kind == "run");
        md.AppendLine($"# Scale: {Join(options.NodeCounts)} nodes start {run?.Image ?? options.Image} at once").AppendLine();
        md.AppendLine($"Measured {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC: {run?.Message}.").AppendLine();
        md.AppendLine("```");
        md.AppendLine($"slacker bench --scale --images {options.Image} --nodes {Join(options.NodeCounts)} --servers {Join(options.ServerCounts)} --reps {options.Reps}");
        md.AppendLine("```").AppendLine();
        md.AppendLine("Each node runs in its own network namespace with its own data dir and an empty chunk cache; node *i* talks to server *i* mod *servers*. " +
            "Start is HelloBench's run (from `slacker run` to the job done), per node, over every node of every wave of the row. " +
            "Bytes out is the servers' `slacker_chunk_bytes_served_total` during a wave. A warm-up wave (one node per server, below) ran first and is not in the table.").AppendLine();

        var starts = records.Where(r => r.Kind == "start" && r.Warmup != true).ToList();
        var waves = records.Where(r => r.Kind == "wave" && r.Warmup != true).ToList();
        md.AppendLine("| servers | nodes | waves | start median | start p95 | median vs 1 node | fetched per node (median; min-max) | servers' bytes out per wave (median) | out per node | per server (median) | slowest node of a wave (median) |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var group in starts.GroupBy(r => (r.Servers!.Value, r.Nodes!.Value)).OrderBy(g => g.Key))
        {
            var (servers, nodes) = group.Key;
            var seconds = group.Select(r => r.Seconds ?? double.NaN).ToList();
            var fetched = group.Where(r => r.BytesFetched is not null).Select(r => (double)r.BytesFetched!.Value).ToList();
            var myWaves = waves.Where(w => w.Servers == servers && w.Nodes == nodes).ToList();
            var bytesOut = BenchSummary.Median(myWaves.Select(w => (double?)w.ServerBytesOut));
            var perServer = Enumerable.Range(0, servers)
                .Select(i => BenchSummary.Median(myWaves.Select(w => w.ServerBytesOutBy is { } by && by.Count > i ? (double?)by[i] : null)))
                .ToList();
            var ratio = MedianStart(starts, servers, nodes) / MedianStart(starts, servers, 1);
            md.AppendLine(Invariant(
                $"| {servers} | {nodes} | {myWaves.Count} | {Ms(BenchSummary.Median(seconds.Select(s => (double?)s)))} | {Ms(BenchSummary.Percentile(seconds, 95))} | {X(ratio)} | {Mb(BenchSummary.Median(fetched.Select(f => (double?)f)))} ({Mb(fetched.DefaultIfEmpty(double.NaN).Min())}-{Mb(fetched.DefaultIfEmpty(double.NaN).Max())}) | {Mb(bytesOut)} | {Mb(bytesOut / nodes)} | {string.Join(" / ", perServer.Select(Mb))} | {Ms(BenchSummary.Median(group.GroupBy(r => r.Rep).Select(w => w.Max(r => r.Seconds))))} |"));
        }

        RenderCpu(md, waves);
        RenderGoals(md, starts, options);

        var warmup = records.Where(r => r.Kind == "start" && r.Warmup == true).ToList();
        if (warmup.Count > 0)
        {
            md.AppendLine().AppendLine("## Warm-up wave: servers' caches cold, every chunk read from S3").AppendLine();
            md.AppendLine("| node | server | start | fetched |").AppendLine("|---|---|---|---|");
            foreach (var r in warmup)
            {
                md.AppendLine(Invariant($"| {r.Node} | {r.Server} | {Ms(r.Seconds)} | {Mb(r.BytesFetched)} |"));
            }
        }

        var failures = records.Where(r => r.Kind == "failure").ToList();
        if (failures.Count > 0)
        {
            md.AppendLine().AppendLine("## Failures").AppendLine();
            foreach (var f in failures)
            {
                md.AppendLine(Invariant($"- {f.Servers} server(s), {f.Nodes} node(s), rep {f.Rep}: {f.Message?.Split('\n')[0]}"));
            }
        }

        return md.ToString();
    }

    /// <summary>Issue "scale-out": N nodes at once no worse than 2x one node, and each fetching what one node fetches.</summary>
    private static void RenderGoals(StringBuilder md, List<ScaleRecord> starts, ScaleOptions options)
    {
        var most = options.NodeCounts.Max();
        if (most == 1 || !options.NodeCounts.Contains(1))
        {
            return;
        }

        md.AppendLine().AppendLine($"## Goals ({most} nodes at once against 1 node)").AppendLine();
        md.AppendLine("| goal | measured | verdict |").AppendLine("|---|---|---|");
        foreach (var servers in options.ServerCounts)
        {
            var ratio = MedianStart(starts, servers, most) / MedianStart(starts, servers, 1);
            Row(md, $"{servers} server(s): median start of {most} nodes <= 2x 1 node's", X(ratio), double.IsFinite(ratio) ? ratio <= 2 : null);
            var one = MedianFetched(starts, servers, 1);
            var many = starts.Where(r => r.Servers == servers && r.Nodes == most && r.BytesFetched is not null).Select(r => (double)r.BytesFetched!.Value).ToList();
            var above = many.Count == 0 || one is not > 0 ? double.NaN : (many.Max() - one.Value) / one.Value;
            Row(md, Invariant($"{servers} server(s): no node of {most} fetches more than 1 node's median + {SameBytes * 100:0}%"),
                double.IsFinite(above) ? Invariant($"1 node {Mb(one)}; {most} nodes {Mb(many.Min())}-{Mb(many.Max())} (most {above * 100:+0.0;-0.0}%)") : "—",
                double.IsFinite(above) ? above <= SameBytes : null);
        }
    }

    /// <summary>What a wave cost: on 2 cores, the machine's busy time says whether the CPU or the servers set the pace.</summary>
    private static void RenderCpu(StringBuilder md, List<ScaleRecord> waves)
    {
        if (waves.All(w => w.MachineCpuSeconds is null))
        {
            return;
        }

        md.AppendLine().AppendLine($"## What a wave costs this machine ({Environment.ProcessorCount} cores)").AppendLine();
        md.AppendLine("Wave: from the first `run` until every node's job was done, its stats read and its container removed. Busy: CPU seconds of every process on the machine over the wave.").AppendLine();
        md.AppendLine("| servers | nodes | wave (median) | machine busy (median) | of all cores | CPU per node start | servers' CPU (median) | servers' CPU per MB sent |");
        md.AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var group in waves.GroupBy(w => (w.Servers!.Value, w.Nodes!.Value)).OrderBy(g => g.Key))
        {
            var (servers, nodes) = group.Key;
            var wall = BenchSummary.Median(group.Select(w => w.WaveSeconds));
            var busy = BenchSummary.Median(group.Select(w => w.MachineCpuSeconds));
            var serverCpu = BenchSummary.Median(group.Select(w => w.ServerCpuSeconds));
            var perMb = BenchSummary.Median(group.Select(w => w.ServerBytesOut is > 0 ? w.ServerCpuSeconds / (w.ServerBytesOut / 1e6) : null));
            md.AppendLine(Invariant(
                $"| {servers} | {nodes} | {Ms(wall)} | {Ms(busy)} | {Pct(busy / (wall * Environment.ProcessorCount))} | {Ms(busy / nodes)} | {Ms(serverCpu)} | {Ms(perMb)} |"));
        }
    }

    private static double MedianStart(List<ScaleRecord> starts, int servers, int nodes) =>
        BenchSummary.Median(starts.Where(r => r.Servers == servers && r.Nodes == nodes).Select(r => r.Seconds)) ?? double.NaN;

    private static double? MedianFetched(List<ScaleRecord> starts, int servers, int nodes) =>
        BenchSummary.Median(starts.Where(r => r.Servers == servers && r.Nodes == nodes).Select(r => (double?)r.BytesFetched));

    private static void Row(StringBuilder md, string goal, string measured, bool? met) =>
        md.AppendLine($"| {goal} | {measured} | {(met is null ? "not measured" : met.Value ? "met" : "**not met**")} |");

    private static string Join(IEnumerable<int> values) => string.Join(",", values);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Ms(double? seconds) => seconds is { } s && double.IsFinite(s) ? Invariant($"{s * 1000:0} ms") : "—";

    private static string Mb(double? bytes) => bytes is { } b && double.IsFinite(b) ? Invariant($"{b / 1e6:0.00} MB") : "—";

    private static string Mb(long? bytes) => Mb((double?)bytes);

    private static string Pct(double? fraction) => fraction is { } f && double.IsFinite(f) ? Invariant($"{f * 100:0}%") : "—";

    private static string X(double ratio) => double.IsFinite(ratio) ? Invariant($"{ratio:0.00}x") : "—";
}
