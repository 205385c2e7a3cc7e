using System.Diagnostics;
using System.Globalization;
using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Drivers;
using Slacker.Bench.Runner;
using Slacker.Native.Processes;

namespace Slacker.Bench.Scale;

/// <summary>
/// `slacker bench --scale`: one image, pushed once into a cluster on PostgreSQL + Ceph S3, then started by 1, 2,
/// 4, 8... nodes at once, each on its own simulated host with an empty cache, against 1 and 2 servers. Every
/// wave runs on freshly started nodes; per node it records the container start (HelloBench's run: from
/// `slacker run` to the job done) and the bytes it fetched, and per wave the chunk bytes the servers sent.
/// A warm-up wave first (one node per server, left out of the figures) puts every configuration on the same
/// server-side state: the servers' object read caches hold the image, as they do in a cluster that serves it.
/// </summary>
public static class ScaleRunner
{
    public const string ResultsFile = "scale.jsonl";
    public const string ReportFile = "scale.md";

    public static async Task<int> RunAsync(ScaleOptions options, TextWriter log, CancellationToken ct)
    {
        var problem = Validate(options);
        if (problem is not null)
        {
            throw new CorpusException(problem);
        }

        var entry = BenchRunner.LoadCorpus(options.CorpusPath, options.CacheDirectory)[options.Image];
        if (entry.Mode == RunMode.Http)
        {
            throw new CorpusException(
                $"--scale cannot time '{entry.Name}': its job is done at an HTTP answer, which the bench probes on its own host's 127.0.0.1, not on each node's; pick an image whose job exits or logs a line (e.g. python, postgres).");
        }

        var layout = await CorpusBuilder.BuildAsync(entry, options.CacheDirectory, m => log.WriteLine($"[corpus] {m}"), ct);
        var image = new BenchImage(entry, layout);
        Directory.CreateDirectory(options.OutputDirectory);
        var resultsPath = Path.Join(options.OutputDirectory, ResultsFile);
        var records = new List<ScaleRecord>();
        await using (var writer = new StreamWriter(resultsPath, append: false) { AutoFlush = true })
        {
            void Write(ScaleRecord record)
            {
                records.Add(record);
                writer.WriteLine(record.ToJson());
            }

            var slacker = SlackerExecutable.Cli(options.SlackerCli);
            var servers = options.ServerCounts.Max();
            var hosts = Math.Max(options.NodeCounts.Max(), servers);
            var version = (await slacker.MustAsync("slacker --version", ["--version"], ct)).StandardOutput.Trim();
            await using var cluster = await ScaleCluster.StartAsync(slacker, Path.Join(options.WorkDirectory, "scale"), servers, hosts, log, ct);
            Write(new ScaleRecord
            {
                Kind = "run",
                Image = image.Name,
                Message = string.Create(CultureInfo.InvariantCulture,
                    $"{Environment.ProcessorCount} cores, {GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / (1L << 30)} GiB; {cluster.Storage.Description}; image {layout.Reference} ({layout.CompressedBytes / 1e6:0.0} MB gz); slacker {version}"),
            });

            await PushAsync(cluster, image, log, ct);
            await WaveAsync(cluster, image, servers, servers, rep: 0, warmup: true, options, Write, log, ct);
            foreach (var serverCount in options.ServerCounts)
            {
                foreach (var nodeCount in options.NodeCounts)
                {
                    for (var rep = 1; rep <= options.Reps; rep++)
                    {
                        await WaveAsync(cluster, image, serverCount, nodeCount, rep, warmup: false, options, Write, log, ct);
                    }
                }
            }
        }

        var reportPath = Path.Join(options.OutputDirectory, ReportFile);
        await File.WriteAllTextAsync(reportPath, ScaleReport.Render(records, options), ct);
        log.WriteLine($"[scale] results {resultsPath}");
        Console.WriteLine(reportPath);
        return records.Any(r => r.Kind == "failure") ? 1 : 0;
    }

    internal static string? Validate(ScaleOptions options) =>
        options.NodeCounts.Count == 0 || options.NodeCounts.Any(n => n is < 1 or > 64) ? "--nodes takes node counts from 1 to 64, e.g. 1,2,4,8."
        : options.ServerCounts.Count == 0 || options.ServerCounts.Any(n => n is < 1 or > 8) ? "--servers takes server counts from 1 to 8, e.g. 1,2."
        : options.Reps < 1 ? $"--reps must be at least 1, got {options.Reps}."
        : null;

    /// <summary>The developer's side: import the image on a node and push it, once; every wave pulls this.</summary>
    private static async Task PushAsync(ScaleCluster cluster, BenchImage image, TextWriter log, CancellationToken ct)
    {
        await using var builder = await cluster.StartNodeAsync(host: 0, server: 0, "builder", ct);
        var stopwatch = Stopwatch.StartNew();
        await builder.Cli.MustAsync($"slacker import of {image.Name}", ["import", image.Layout.Reference, SlackerDriver.Reference(image)], ct);
        await builder.Cli.MustAsync($"slacker push of {image.Name}", ["push", SlackerDriver.Reference(image)], ct);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[scale] {image.Name} imported and pushed in {stopwatch.Elapsed.TotalSeconds:0.0} s"));
    }

    private static async Task WaveAsync(
        ScaleCluster cluster, BenchImage image, int servers, int nodes, int rep, bool warmup, ScaleOptions options, Action<ScaleRecord> write, TextWriter log, CancellationToken ct)
    {
        var label = string.Create(CultureInfo.InvariantCulture, $"{servers} server(s), {nodes} node(s), {(warmup ? "warm-up" : $"rep {rep}")}");
        var started = new List<ScaleNode>();
        try
        {
            var starting = Enumerable.Range(0, nodes)
                .Select(i => cluster.StartNodeAsync(host: i, server: i % servers, string.Create(CultureInfo.InvariantCulture, $"s{servers}n{nodes}r{rep}-{i}"), ct))
                .ToList();
            try
            {
                await Task.WhenAll(starting);
            }
            finally
            {
                // WhenAll waited for every start: the nodes that did come up are stopped below, whichever failed.
                started.AddRange(starting.Where(t => t.IsCompletedSuccessfully).Select(t => t.Result));
            }

            var pulls = await Task.WhenAll(started.Select(n => TimeAsync(() => n.Cli.MustAsync($"slacker pull on {n.Host.Namespace}", ["pull", SlackerDriver.Reference(image)], ct))));
            var before = await cluster.BytesServedAsync(ct);
            var (machineBefore, serversBefore) = (CpuTime.MachineBusySeconds(), cluster.ServerCpuSeconds());
            var wave = Stopwatch.StartNew();
            var runs = await Task.WhenAll(started.Select((n, i) => StartContainerAsync(n, image, Path.Join(options.WorkDirectory, "scale-scratch", string.Create(CultureInfo.InvariantCulture, $"{rep}-{i}")), ct)));
            wave.Stop();
            var (machineAfter, serversAfter) = (CpuTime.MachineBusySeconds(), cluster.ServerCpuSeconds());
            var after = await cluster.BytesServedAsync(ct);
            for (var i = 0; i < runs.Length; i++)
            {
                write(new ScaleRecord
                {
                    Kind = "start", Servers = servers, Nodes = nodes, Rep = rep, Warmup = warmup ? true : null, Node = i, Server = started[i].Server,
                    Seconds = runs[i].Elapsed.TotalSeconds, PullSeconds = pulls[i].TotalSeconds, BytesFetched = runs[i].BytesFetched, BytesRead = runs[i].BytesRead,
                });
            }

            var by = after.Zip(before, (a, b) => a - b).ToList();
            write(new ScaleRecord
            {
                Kind = "wave", Servers = servers, Nodes = nodes, Rep = rep, Warmup = warmup ? true : null,
                ServerBytesOut = by.Sum(), ServerBytesOutBy = by,
                WaveSeconds = wave.Elapsed.TotalSeconds, MachineCpuSeconds = machineAfter - machineBefore, ServerCpuSeconds = serversAfter - serversBefore,
            });
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"[scale] {label}: start median {Median(runs.Select(r => r.Elapsed.TotalSeconds)) * 1000:0} ms, max {runs.Max(r => r.Elapsed.TotalSeconds) * 1000:0} ms; fetched {Median(runs.Select(r => (double)(r.BytesFetched ?? 0))) / 1e6:0.0} MB per node; servers sent {by.Sum() / 1e6:0.0} MB"));
        }
        catch (Exception ex) when (ex is InvalidOperationException or ProcessFailedException or TimeoutException or InvalidDataException or HttpRequestException)
        {
            log.WriteLine($"[scale] {label}: failed: {ex.Message}");
            write(new ScaleRecord { Kind = "failure", Servers = servers, Nodes = nodes, Rep = rep, Warmup = warmup ? true : null, Message = ex.Message });
        }
        finally
        {
            foreach (var node in started)
            {
                await node.DisposeAsync();
            }

            var scratch = Path.Join(options.WorkDirectory, "scale-scratch");
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static async Task<RunResult> StartContainerAsync(ScaleNode node, BenchImage image, string scratch, CancellationToken ct)
    {
        var request = new RunRequest
        {
            Entry = image.Entry,
            ContainerName = $"scale-{image.Name}-{Guid.NewGuid().ToString("N")[..8]}",
            Mounts = BenchRunner.ScratchMounts(image.Entry, scratch),
        };
        SlackerDriver.RunStats stats = default;
        var result = await HelloJob.RunAsync(node.Cli, SlackerDriver.Reference(image), request, isRunning: null, ct, async token =>
        {
            var output = await node.Cli.MustAsync($"slacker stats on {node.Host.Namespace}", ["stats", request.ContainerName, "--format", "json"], token);
            stats = SlackerDriver.ReadStats(output.StandardOutput);
        });
        return result with { BytesFetched = stats.Fetched, BytesRead = stats.Read };
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task> operation)
    {
        var stopwatch = Stopwatch.StartNew();
        await operation();
        return stopwatch.Elapsed;
    }

    internal static double Median(IEnumerable<double> values) => Report.BenchSummary.Median(values.Select(v => (double?)v)) ?? double.NaN;
}
