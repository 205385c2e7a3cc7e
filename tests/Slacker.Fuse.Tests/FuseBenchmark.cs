using System.Diagnostics;
using System.Globalization;
using System.Text;
using Slacker.Native;

namespace Slacker.Fuse.Tests;

/// <summary>
/// Throughput of the FUSE server with an in-memory file, so the numbers are the protocol path alone: every client
/// op is O_DIRECT (and the server answers OPEN with FOPEN_DIRECT_IO), so each one is one FUSE request.
/// Reports medians over several runs. Used by `dotnet Slacker.Fuse.Tests.dll perf` and the opt-in perf test.
/// </summary>
internal static class FuseBenchmark
{
    private const int FileSize = 256 << 20;

    public static string Run(TimeSpan duration, int runs, Action<string> progress)
    {
        var file = new MemoryFile(FileSize);
        Random.Shared.NextBytes(file.Data);
        using var mounted = new MountedFile(file);
        var rows = new List<(string Name, string Unit, double Median, double Min, double Max, string RequestSize)>();
        var stats = mounted.Session.Stats;

        void Measure(string name, string unit, Func<double> once)
        {
            once(); // warm-up: JIT, page tables, kernel caches
            var (requests, bytes) = (stats.ReadRequests + stats.WriteRequests, stats.BytesRead + stats.BytesWritten);
            var samples = Enumerable.Range(0, runs).Select(_ => once()).Order().ToArray();
            var perRequest = (stats.BytesRead + stats.BytesWritten - bytes) / Math.Max(1.0, stats.ReadRequests + stats.WriteRequests - requests);
            rows.Add((name, unit, samples[samples.Length / 2], samples[0], samples[^1], $"{perRequest / 1024:F0} KiB"));
            progress($"{name}: median {samples[samples.Length / 2]:F0} {unit}");
        }

        Measure("4 KiB random read, 1 thread", "req/s", () => RandomOps(mounted.Path, 1, 4096, write: false, duration));
        Measure("4 KiB random read, 4 threads", "req/s", () => RandomOps(mounted.Path, 4, 4096, write: false, duration));
        Measure("4 KiB random write, 4 threads", "req/s", () => RandomOps(mounted.Path, 4, 4096, write: true, duration));
        Measure("1 MiB sequential read, 1 thread", "MiB/s", () => Sequential(mounted.Path, 1 << 20, duration));

        using (var loop = LoopDevice.Attach(mounted.Path, readOnly: false, directIo: true))
        {
            Measure("loop dev 4 KiB random read, 4 threads", "req/s", () => RandomOps(loop.DevicePath, 4, 4096, write: false, duration));
            Measure("loop dev 1 MiB sequential read", "MiB/s", () => Sequential(loop.DevicePath, 1 << 20, duration));
        }

        var table = new StringBuilder();
        table.AppendLine(CultureInfo.InvariantCulture, $"| workload ({runs} runs x {duration.TotalSeconds:0.#} s) | median | min | max | unit | bytes per FUSE request |");
        table.AppendLine("|---|---:|---:|---:|---|---:|");
        foreach (var row in rows)
        {
            table.AppendLine(CultureInfo.InvariantCulture, $"| {row.Name} | {row.Median:F0} | {row.Min:F0} | {row.Max:F0} | {row.Unit} | {row.RequestSize} |");
        }

        table.AppendLine(CultureInfo.InvariantCulture, $"\nserver stats: {mounted.Session.Stats}");
        return table.ToString();
    }

    private static double RandomOps(string path, int threads, int blockSize, bool write, TimeSpan duration)
    {
        var blocks = new FileInfo(path).Length is > 0 and var length ? length / blockSize : FileSize / blockSize;
        long total = 0;
        var stopwatch = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, threads).Select(_ => new Thread(() =>
        {
            using var native = new NativeFile(path, direct: true, capacity: blockSize);
            var random = new Random();
            long ops = 0;
            var end = duration.Ticks;
            while (stopwatch.Elapsed.Ticks < end)
            {
                var offset = random.NextInt64(blocks) * blockSize;
                var result = write ? native.WriteAt(offset, blockSize) : native.ReadAt(offset, blockSize);
                if (result != blockSize)
                {
                    throw new IOException($"{(write ? "write" : "read")} at {offset} returned {result}");
                }

                ops++;
            }

            Interlocked.Add(ref total, ops);
        })).ToList();
        workers.ForEach(worker => worker.Start());
        workers.ForEach(worker => worker.Join());
        return total / stopwatch.Elapsed.TotalSeconds;
    }

    private static double Sequential(string path, int blockSize, TimeSpan duration)
    {
        var size = new FileInfo(path).Length is > 0 and var length ? length : FileSize;
        using var native = new NativeFile(path, direct: true, capacity: blockSize);
        long bytes = 0;
        var stopwatch = Stopwatch.StartNew();
        while (stopwatch.Elapsed < duration)
        {
            for (long offset = 0; offset < size && stopwatch.Elapsed < duration; offset += blockSize)
            {
                var result = native.ReadAt(offset, blockSize);
                if (result <= 0)
                {
                    throw new IOException($"read at {offset} returned {result}");
                }

                bytes += result;
            }
        }

        return bytes / stopwatch.Elapsed.TotalSeconds / (1 << 20);
    }
}
