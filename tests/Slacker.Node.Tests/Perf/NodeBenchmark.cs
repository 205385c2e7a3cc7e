using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Slacker.Node.Attach;
using Slacker.Native;
using Slacker.Node.Tests.Infrastructure;
using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Perf;

/// <summary>The measurements of docs/perf/node.md, against a real server process and the real kernel path.</summary>
internal static class NodeBenchmark
{
    private const long BigFileBytes = 512L << 20;

    /// <param name="parts">Which measurements: "attach", "seq", "random" (random needs seq).</param>
    public static async Task<string> RunAsync(int runs, ISet<string> parts, Action<string> log)
    {
        await using var harness = await NodeHarness.StartAsync();
        var report = new StringBuilder();
        report.AppendLine(CultureInfo.InvariantCulture, $"runs per cell: {runs} (median reported), {Environment.ProcessorCount} CPUs, load average {File.ReadAllText("/proc/loadavg").Trim()}");
        report.AppendLine();
        report.AppendLine("| measurement | median | runs |");
        report.AppendLine("|---|---:|---|");
        if (parts.Contains("attach"))
        {
            await MeasureAttachAsync(harness, runs, report, log);
        }

        if (parts.Contains("seq") || parts.Contains("random"))
        {
            await MeasureSequentialAsync(harness, runs, parts.Contains("random"), report, log);
        }

        report.AppendLine();
        report.AppendLine(CultureInfo.InvariantCulture, $"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
        return report.ToString();
    }

    private static async Task MeasureAttachAsync(NodeHarness harness, int runs, StringBuilder report, Action<string> log)
    {
        // Attach + mount of a clone of a 16 GiB volume.
        var small = harness.Directory.Sub("tree16");
        Directory.CreateDirectory(small);
        Ext4Image.WriteRandomTree(small, files: 50, maxFileBytes: 1 << 20, seed: 16);
        var image16 = harness.Directory.Sub("image16.ext4");
        Ext4Image.Build(image16, 16L << 30, small);
        var clock = Stopwatch.StartNew();
        var import16 = await VolumeImporter.ImportAsync(harness.Store, image16);
        log($"imported 16 GiB image in {clock.ElapsedMilliseconds} ms: {import16.UploadedChunks} chunks uploaded, {import16.ZeroChunks} zero chunks");
        File.Delete(image16);

        var coldAttach = new List<double>();
        var warmAttach = new List<double>();
        var warmNode = NodeStorage.Open(new NodeOptions { Root = harness.Directory.Sub("node-warm16") }, harness.Store);
        for (var run = -1; run < runs; run++)
        {
            var coldNode = NodeStorage.Open(new NodeOptions { Root = harness.Directory.Sub($"node-cold16-{run + 1}") }, harness.Store);
            coldAttach.Add(await TimeAttachAsync(harness, coldNode, import16.Snapshot.Id));
            warmAttach.Add(await TimeAttachAsync(harness, warmNode, import16.Snapshot.Id));
        }

        coldAttach.RemoveAt(0); // the first run also warms up the JIT and the server
        warmAttach.RemoveAt(0); // the first warm run filled the cache
        Row(report, "attach + mount a clone of a 16 GiB volume, cold node cache (ms)", coldAttach);
        Row(report, "attach + mount a clone of a 16 GiB volume, warm node cache (ms)", warmAttach);
    }

    private static async Task MeasureSequentialAsync(NodeHarness harness, int runs, bool randomReads, StringBuilder report, Action<string> log)
    {
        // Sequential read of a 512 MiB file: local loop device vs lazy (cold / warm).
        var clock = Stopwatch.StartNew();
        var tree = harness.Directory.Sub("treeseq");
        Directory.CreateDirectory(tree);
        var bytes = new byte[1 << 20];
        var random = new Random(1);
        await using (var file = File.Create(Path.Combine(tree, "big.bin")))
        {
            for (long written = 0; written < BigFileBytes; written += bytes.Length)
            {
                random.NextBytes(bytes);
                file.Write(bytes);
            }
        }

        var image = harness.Directory.Sub("imageseq.ext4");
        Ext4Image.Build(image, 1L << 30, tree);
        Directory.Delete(tree, recursive: true);
        clock.Restart();
        var import = await VolumeImporter.ImportAsync(harness.Store, image);
        log($"imported 1 GiB image with a 512 MiB file in {clock.ElapsedMilliseconds} ms");

        var local = new List<double>();
        var cold = new List<double>();
        var warm = new List<double>();
        var coldNodeCpu = new List<double>();
        var coldServerCpu = new List<double>();
        var loads = new List<string>();

        // Deleted only after the last run: this VM's root ext4 has no journal, and there ext4's inode allocator skips
        // every inode freed in the last 60 s (360 s while its inode-table block is dirty, which new files in the
        // same block make it) with a linear scan. The cache is a few pack files now, but a build from before the
        // packs (compared with this harness) made 8 000 files per run, and deleting them made every file create
        // of the next run pay (measured: up to 60 % of the node's CPU time). For the same reason, start such a
        // measurement at least 6 minutes after the last mass deletion on that file system.
        var coldRoots = new List<string>();
        var seqWarmNode = NodeStorage.Open(new NodeOptions { Root = harness.Directory.Sub("node-warmseq") }, harness.Store);
        await ReadLazyAsync(harness, seqWarmNode, import.Snapshot.Id); // fills the warm cache
        for (var run = 0; run < runs; run++)
        {
            loads.Add(File.ReadAllText("/proc/loadavg").Split(' ')[0]);
            Quiesce(harness);
            using (Profiler.Start($"local-{run}"))
            {
                local.Add(ReadLocal(harness, image));
            }

            var coldNode = NodeStorage.Open(new NodeOptions { Root = harness.Directory.Sub($"node-coldseq-{run}") }, harness.Store);
            Quiesce(harness);
            var nodeCpu = CpuSeconds("self");
            var serverCpu = CpuSeconds(harness.Server.Pid.ToString(CultureInfo.InvariantCulture));
            var threads = ThreadCpu(Environment.ProcessId).Concat(ThreadCpu(harness.Server.Pid)).ToList();
            using (Profiler.Start($"cold-{run}"))
            {
                cold.Add(await ReadLazyAsync(harness, coldNode, import.Snapshot.Id));
            }

            coldNodeCpu.Add(CpuSeconds("self") - nodeCpu);
            coldServerCpu.Add(CpuSeconds(harness.Server.Pid.ToString(CultureInfo.InvariantCulture)) - serverCpu);
            LogThreadCpu(threads, ThreadCpu(Environment.ProcessId).Concat(ThreadCpu(harness.Server.Pid)).ToList(), log);
            coldRoots.Add(coldNode.Paths.Root);
            Quiesce(harness);
            using (Profiler.Start($"warm-{run}"))
            {
                warm.Add(await ReadLazyAsync(harness, seqWarmNode, import.Snapshot.Id));
            }

            log($"run {run} (load {loads[^1]}): local {local[^1]:0} MiB/s, cold {cold[^1]:0} MiB/s (CPU s: node {coldNodeCpu[^1]:0.00}, server {coldServerCpu[^1]:0.00}), warm {warm[^1]:0} MiB/s");
        }

        coldRoots.ForEach(root => Directory.Delete(root, recursive: true));
        Row(report, "sequential read 512 MiB file, local image through a plain loop device (MiB/s)", local);
        Row(report, "sequential read 512 MiB file, lazy clone, cold node cache (MiB/s)", cold);
        Row(report, "sequential read 512 MiB file, lazy clone, warm node cache (MiB/s)", warm);
        report.AppendLine(CultureInfo.InvariantCulture, $"| cold / local | {Median(cold) / Median(local):P0} | |");
        report.AppendLine(CultureInfo.InvariantCulture, $"| warm / local | {Median(warm) / Median(local):P0} | |");
        Row(report, "cold read: CPU seconds of the node process (FUSE, fetcher, cache) per 512 MiB", coldNodeCpu, "0.00");
        Row(report, "cold read: CPU seconds of the server process per 512 MiB", coldServerCpu, "0.00");
        report.AppendLine(CultureInfo.InvariantCulture, $"| 1-minute load average at the start of each run | | {string.Join(" / ", loads)} |");
        if (!randomReads)
        {
            return;
        }

        // 4 KiB random reads of cached chunks straight from the FUSE file.
        var dataChunks = NonZeroChunks(image, 64 << 10);
        foreach (var threads in new[] { 1, 4 })
        {
            var rates = new List<double>();
            var volumeId = await harness.CloneAsync(import.Snapshot.Id);
            var attached = await new VolumeAttacher(seqWarmNode).AttachAsync(volumeId);
            try
            {
                for (var run = 0; run < runs; run++)
                {
                    rates.Add(RandomReads(attached.FusePath, dataChunks, threads, TimeSpan.FromSeconds(3)));
                }

                var stats = attached.Volume.StatsSnapshot();
                log($"{threads} thread(s): {stats}");
                Row(report, $"4 KiB random reads from the node cache via the FUSE file, {threads} thread(s) (req/s)", rates);
                report.AppendLine(CultureInfo.InvariantCulture, $"| (that volume: {stats.CacheHits} cache hits, {stats.ChunksFetched} chunks fetched) | | |");
            }
            finally
            {
                attached.Detach();
            }
        }
    }

    /// <summary>
    /// Writes back the node's file system before a measurement, so that no run pays for the previous run's
    /// writeback (512 MiB of cache files). syncfs of that one file system, never a global sync: a global sync
    /// also waits for every other mount on the machine, and one served by a dead FUSE server hangs it for good.
    /// </summary>
    private static void Quiesce(NodeHarness harness) => Tool.Run("sync", "-f", harness.Directory.Path);

    /// <summary>CPU seconds per (process, thread name), summed over threads of one name.</summary>
    private static IEnumerable<(string Name, double Seconds)> ThreadCpu(int pid)
    {
        var result = new Dictionary<string, double>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var open = stat.IndexOf('(', StringComparison.Ordinal);
                var close = stat.LastIndexOf(')');
                var name = $"{pid}:{stat[(open + 1)..close]}";
                var fields = stat[(close + 2)..].Split(' ');
                result[name] = result.GetValueOrDefault(name) + ((long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0);
            }
            catch (IOException)
            {
                // The thread ended meanwhile.
            }
        }

        return result.Select(p => (p.Key, p.Value));
    }

    private static void LogThreadCpu(List<(string Name, double Seconds)> before, List<(string Name, double Seconds)> after, Action<string> log)
    {
        var start = before.ToDictionary(t => t.Name, t => t.Seconds);
        var used = after.Select(t => (t.Name, Seconds: t.Seconds - start.GetValueOrDefault(t.Name))).Where(t => t.Seconds >= 0.05).OrderByDescending(t => t.Seconds);
        log("  CPU s by thread: " + string.Join(", ", used.Select(t => $"{t.Name} {t.Seconds:0.00}")));
    }

    /// <summary>User + system CPU seconds that process <paramref name="pid"/> ("self" for this one) has used.</summary>
    private static double CpuSeconds(string pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
    }

    private static async Task<double> TimeAttachAsync(NodeHarness harness, NodeStorage node, string snapshot)
    {
        var clone = await harness.CloneAsync(snapshot);
        var clock = Stopwatch.StartNew();
        var attached = await new VolumeAttacher(node).AttachAsync(clone);
        try
        {
            _ = Directory.EnumerateFileSystemEntries(attached.MountPath).Count();
            return clock.Elapsed.TotalMilliseconds;
        }
        finally
        {
            attached.Detach();
        }
    }

    private static async Task<double> ReadLazyAsync(NodeHarness harness, NodeStorage node, string snapshot)
    {
        var attached = await new VolumeAttacher(node).AttachAsync(await harness.CloneAsync(snapshot));
        try
        {
            var rate = ReadFile(Path.Combine(attached.MountPath, "big.bin"));
            var fuse = attached.FuseStats;
            Console.WriteLine($"  FUSE: {fuse.ReadRequests} reads, {fuse.BytesRead / Math.Max(1, fuse.ReadRequests) / 1024} KiB average; volume: {attached.Volume.StatsSnapshot()}");
            return rate;
        }
        finally
        {
            attached.Detach();
        }
    }

    private static double ReadLocal(NodeHarness harness, string image)
    {
        var mount = harness.Directory.Sub("local-mnt");
        Directory.CreateDirectory(mount);
        using var loop = LoopDevice.Attach(image, readOnly: true, directIo: true);
        Tool.Run("mount", "-t", "ext4", "-o", "ro,noatime", loop.DevicePath, mount);
        try
        {
            return ReadFile(Path.Combine(mount, "big.bin"));
        }
        finally
        {
            Tool.Run("umount", mount);
        }
    }

    private static double ReadFile(string path)
    {
        var buffer = new byte[1 << 20];
        var clock = Stopwatch.StartNew();
        long total = 0;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0))
        {
            int n;
            while ((n = stream.Read(buffer)) > 0)
            {
                total += n;
            }
        }

        return total / (1024.0 * 1024.0) / clock.Elapsed.TotalSeconds;
    }

    private static List<long> NonZeroChunks(string image, int chunkSize)
    {
        var result = new List<long>();
        var buffer = new byte[chunkSize];
        using var stream = File.OpenRead(image);
        for (long index = 0; stream.Read(buffer) == chunkSize; index++)
        {
            if (buffer.AsSpan().ContainsAnyExcept((byte)0))
            {
                result.Add(index);
            }
        }

        return result;
    }

    private static unsafe double RandomReads(string fusePath, List<long> chunks, int threads, TimeSpan duration)
    {
        long total = 0;
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            var fd = Libc.Open(fusePath, Libc.O_RDONLY | Libc.O_DIRECT | Libc.O_CLOEXEC);
            var buffer = (byte*)NativeMemory.AlignedAlloc(4096, 4096);
            var random = new Random(t);
            long done = 0;
            try
            {
                start.SignalAndWait();
                var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
                while (Stopwatch.GetTimestamp() < until)
                {
                    var offset = (chunks[random.Next(chunks.Count)] * (64 << 10)) + (random.Next(16) * 4096L);
                    if (Libc.Pread(fd, buffer, 4096, offset) != 4096)
                    {
                        throw new IOException($"pread at {offset} failed: errno {Libc.LastErrno}");
                    }

                    done++;
                }
            }
            finally
            {
                Interlocked.Add(ref total, done);
                NativeMemory.AlignedFree(buffer);
                Libc.Close(fd);
            }
        })).ToList();
        workers.ForEach(w => w.Start());
        start.SignalAndWait();
        var clock = Stopwatch.StartNew();
        workers.ForEach(w => w.Join());
        return total / clock.Elapsed.TotalSeconds;
    }

    private static void Row(StringBuilder report, string name, List<double> values, string format = "0") =>
        report.AppendLine(CultureInfo.InvariantCulture, $"| {name} | **{Median(values).ToString(format, CultureInfo.InvariantCulture)}** | {string.Join(" / ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)))} |");

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
