using System.Diagnostics;
using System.Globalization;
using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Drivers;
using Slacker.Bench.Parity;
using Slacker.Bench.Report;
using Slacker.Native.Processes;

namespace Slacker.Bench.Runner;

/// <summary>
/// Builds the corpus, then for every image, rep and system runs one cycle (clean, prepare, push, forget, pull,
/// run), writing every measurement to results.jsonl as it happens, and renders the report at the end.
/// </summary>
public static class BenchRunner
{
    public static readonly string[] SmokeImages = ["debian", "busybox"];
    public static readonly string[] SmokeSystems = ["slacker", "docker"];
    private static readonly string[] KnownSystems = ["slacker", SlackerDriver.ClusterName, "docker", "podman"];

    /// <returns>Process exit code: 0 when everything asked for was measured (or, with --smoke, the output is well formed).</returns>
    public static async Task<int> RunAsync(BenchOptions options, TextWriter log, CancellationToken cancellationToken)
    {
        if (options.Smoke)
        {
            options = options with { Images = SmokeImages, Systems = SmokeSystems, Reps = 1 };
        }

        if (options.Reps < 1)
        {
            throw new CorpusException($"--reps must be at least 1, got {options.Reps}.");
        }

        if (options.Systems.FirstOrDefault(s => !KnownSystems.Contains(s)) is { } unknown)
        {
            throw new CorpusException($"--systems names '{unknown}'; known systems are {string.Join(", ", KnownSystems)}.");
        }

        var corpus = LoadCorpus(options);
        var entries = Select(corpus, options.Images);
        log.WriteLine($"[bench] corpus {corpus.Source}: {string.Join(", ", entries.Select(e => e.Name))}");

        var images = new List<BenchImage>();
        var buildFailures = new List<(string Image, string Message)>();
        foreach (var entry in entries)
        {
            try
            {
                var layout = await CorpusBuilder.BuildAsync(entry, options.CacheDirectory, m => log.WriteLine($"[corpus] {m}"), cancellationToken);
                images.Add(new BenchImage(entry, layout));
                log.WriteLine($"[bench] {entry.Name}: {layout.Reference} ({layout.CompressedBytes / 1e6:0.0} MB gz, {layout.Layers.Count} layers)");
            }
            catch (Exception ex) when (ex is InvalidOperationException or IOException or ProcessFailedException)
            {
                log.WriteLine($"[bench] {entry.Name}: build failed: {ex.Message}");
                buildFailures.Add((entry.Name, ex.Message));
            }
        }

        if (options.BuildOnly)
        {
            foreach (var image in images)
            {
                Console.WriteLine($"{image.Name}\t{image.Layout.Reference}");
            }

            return buildFailures.Count == 0 ? 0 : 1;
        }

        Directory.CreateDirectory(options.OutputDirectory);
        var workExisted = Directory.Exists(options.WorkDirectory);
        Directory.CreateDirectory(options.WorkDirectory);
        var resultsPath = Path.Combine(options.OutputDirectory, ReportWriter.ResultsFile);
        using (var records = new RecordLog(resultsPath))
        {
            records.Write(RunRecord(options, corpus));
            foreach (var (image, message) in buildFailures)
            {
                records.Write(new BenchRecord { Kind = "failure", Image = image, Op = "build", Message = message, Time = DateTimeOffset.UtcNow });
            }

            foreach (var image in images)
            {
                records.Write(new BenchRecord
                {
                    Kind = "image",
                    Image = image.Name,
                    Category = image.Entry.Category,
                    Mode = image.Entry.Mode.ToString().ToLowerInvariant(),
                    CompressedBytes = image.Layout.CompressedBytes,
                    UncompressedBytes = image.Layout.UncompressedBytes,
                    Layers = image.Layout.Layers.Count,
                    Reference = image.Layout.Reference,
                });
            }

            try
            {
                await MeasureAsync(options, images, records, log, cancellationToken);
            }
            finally
            {
                // Every system removes its own dirs; what is left empty is the runner's, and so is the work dir if it made it.
                DeleteIfEmpty(Path.Combine(options.WorkDirectory, "mounts"));
                if (!workExisted)
                {
                    DeleteIfEmpty(options.WorkDirectory);
                }
            }
        }

        var summary = ReportWriter.Write(resultsPath, options.OutputDirectory);
        log.WriteLine($"[bench] results: {resultsPath}; report: {Path.Combine(options.OutputDirectory, ReportWriter.MarkdownFile)}");
        if (options.Smoke)
        {
            // The smoke exists to prove both sides of the comparison work here: a skipped system is a failure.
            var problems = OutputValidator.Validate(options.OutputDirectory);
            problems.AddRange(summary.Systems.Where(s => s.Status != "ok").Select(s => $"{s.Name} was {s.Status}: {s.Message}"));

            foreach (var problem in problems)
            {
                log.WriteLine($"[smoke] problem: {problem}");
            }

            log.WriteLine(problems.Count == 0 ? "[smoke] output is well formed" : $"[smoke] {problems.Count} problem(s)");
            return problems.Count == 0 ? 0 : 1;
        }

        return summary.Failures.Count == 0 ? 0 : 1;
    }

    private static async Task MeasureAsync(BenchOptions options, List<BenchImage> images, RecordLog records, TextWriter log, CancellationToken cancellationToken)
    {
        await using var registryScope = new AsyncScope();
        var systems = new List<IBenchSystem>();
        try
        {
            DistributionRegistry? registry = null;
            foreach (var name in options.Systems)
            {
                IBenchSystem? system = null;
                string? reason;
                if (name is "docker" or "podman" && registry is null)
                {
                    try
                    {
                        registry = await DistributionRegistry.StartAsync(options.WorkDirectory, cancellationToken);
                        registryScope.Add(registry);
                    }
                    catch (InvalidOperationException ex)
                    {
                        records.Write(SystemRecord(name, "skipped", null, ex.Message));
                        continue;
                    }
                }

                system = name switch
                {
                    "docker" => new DockerDriver(options.WorkDirectory, registry!, DockerEngine.DefaultClient),
                    "podman" => new PodmanDriver(options.WorkDirectory, registry!),
                    SlackerDriver.ClusterName => new SlackerDriver(options.SlackerCli ?? "slacker", options.WorkDirectory, SlackerBackend.Cluster),
                    _ => new SlackerDriver(options.SlackerCli ?? "slacker", options.WorkDirectory),
                };
                reason = await system.StartAsync(cancellationToken);
                if (reason is not null)
                {
                    log.WriteLine($"[bench] {name}: skipped: {reason}");
                    records.Write(SystemRecord(name, "skipped", null, reason));
                    await system.DisposeAsync();
                    continue;
                }

                var version = await system.VersionAsync(cancellationToken);
                log.WriteLine($"[bench] {name}: {version}");
                records.Write(SystemRecord(name, "ok", version, null));
                systems.Add(system);
            }

            foreach (var image in images)
            {
                for (var rep = 1; rep <= options.Reps; rep++)
                {
                    foreach (var system in systems)
                    {
                        await CycleAsync(system, image, rep, options, records, log, cancellationToken);
                    }
                }
            }

            if (options.Parity)
            {
                foreach (var image in images.Where(i => i.Entry.Parity is not null))
                {
                    foreach (var system in systems.OfType<IContainerCliSystem>())
                    {
                        await ParityRunner.RunAsync(system, image, options.ParitySeconds, options.Reps, records, log, cancellationToken);
                    }
                }
            }
        }
        finally
        {
            foreach (var system in systems)
            {
                await system.DisposeAsync();
            }
        }
    }

    private static async Task CycleAsync(IBenchSystem system, BenchImage image, int rep, BenchOptions options, RecordLog records, TextWriter log, CancellationToken cancellationToken)
    {
        var step = "clean";
        var scratch = Path.Combine(options.WorkDirectory, "mounts", $"{image.Name}-{system.Name}-{rep}");
        try
        {
            await system.CleanAsync(image, cancellationToken);
            step = "prepare";
            await system.PrepareAsync(image, cancellationToken);
            step = "push";
            Measure(records, system, image, rep, "push", await TimeAsync(() => system.PushAsync(image, cancellationToken)));
            step = "forget";
            await system.ForgetLocalAsync(image, cancellationToken);
            step = "pull";
            Measure(records, system, image, rep, "pull", await TimeAsync(() => system.PullAsync(image, cancellationToken)));
            step = "run";
            var request = new RunRequest
            {
                Entry = image.Entry,
                ContainerName = $"hb-{image.Name}-{rep}-{Guid.NewGuid().ToString("N")[..8]}",
                Mounts = ScratchMounts(image.Entry, scratch),
            };
            var result = await system.RunAsync(image, request, cancellationToken);
            records.Write(new BenchRecord
            {
                Kind = "measure",
                System = system.Name,
                Image = image.Name,
                Rep = rep,
                Op = "run",
                Seconds = result.Elapsed.TotalSeconds,
                BytesFetched = result.BytesFetched,
                BytesRead = result.BytesRead,
                SystemImageBytes = result.ImageBytes,
                Time = DateTimeOffset.UtcNow,
            });
            var cycle = records.Records.Where(r => r.Kind == "measure" && r.System == system.Name && r.Image == image.Name && r.Rep == rep).ToList();
            log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"[bench] {system.Name,-7} {image.Name,-9} rep {rep}: {string.Join("  ", cycle.Select(r => $"{r.Op} {r.Seconds:0.000}s"))}"));
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            log.WriteLine($"[bench] {system.Name} {image.Name} rep {rep}: {step} failed: {ex.Message}");
            records.Write(new BenchRecord { Kind = "failure", System = system.Name, Image = image.Name, Rep = rep, Op = step, Message = ex.Message, Time = DateTimeOffset.UtcNow });
        }
        finally
        {
            if (Directory.Exists(scratch))
            {
                Directory.Delete(scratch, recursive: true);
            }
        }
    }

    private static void DeleteIfEmpty(string directory)
    {
        if (Directory.Exists(directory) && !Directory.EnumerateFileSystemEntries(directory).Any())
        {
            Directory.Delete(directory);
        }
    }

    /// <summary>Jobs write into their mounts (gcc's a.out, javac's classes); each run gets fresh copies of the asset dirs.</summary>
    internal static List<MountSpec> ScratchMounts(CorpusEntry entry, string scratch)
    {
        var mounts = new List<MountSpec>();
        for (var i = 0; i < entry.Mounts.Count; i++)
        {
            var copy = Path.Combine(scratch, i.ToString(CultureInfo.InvariantCulture));
            CopyDirectory(entry.Mounts[i].Source, copy);
            mounts.Add(entry.Mounts[i] with { Source = copy });
        }

        return mounts;
    }

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (var file in Directory.EnumerateFiles(source))
        {
            File.Copy(file, Path.Combine(destination, Path.GetFileName(file)));
        }

        foreach (var dir in Directory.EnumerateDirectories(source))
        {
            CopyDirectory(dir, Path.Combine(destination, Path.GetFileName(dir)));
        }
    }

    private static async Task<TimeSpan> TimeAsync(Func<Task> operation)
    {
        var stopwatch = Stopwatch.StartNew();
        await operation();
        return stopwatch.Elapsed;
    }

    private static void Measure(RecordLog records, IBenchSystem system, BenchImage image, int rep, string op, TimeSpan elapsed) =>
        records.Write(new BenchRecord { Kind = "measure", System = system.Name, Image = image.Name, Rep = rep, Op = op, Seconds = elapsed.TotalSeconds, Time = DateTimeOffset.UtcNow });

    private static BenchRecord SystemRecord(string name, string status, string? version, string? message) =>
        new() { Kind = "system", System = name, Status = status, Version = version, Message = message, Time = DateTimeOffset.UtcNow };

    private static BenchRecord RunRecord(BenchOptions options, CorpusFile corpus) => new()
    {
        Kind = "run",
        Time = DateTimeOffset.UtcNow,
        Host = Environment.MachineName,
        Kernel = File.Exists("/proc/sys/kernel/osrelease") ? File.ReadAllText("/proc/sys/kernel/osrelease").Trim() : Environment.OSVersion.VersionString,
        Cpus = Environment.ProcessorCount,
        MemoryBytes = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes,
        Command = Environment.GetCommandLineArgs() is { Length: > 0 } argv ? string.Join(' ', argv.Skip(1).Prepend(Path.GetFileName(argv[0]))) : null,
        Corpus = corpus.Source,
        Reps = options.Reps,
    };

    private static CorpusFile LoadCorpus(BenchOptions options) => LoadCorpus(options.CorpusPath, options.CacheDirectory);

    /// <summary>--corpus, else the checkout's bench/corpus.json, else the built-in corpus.</summary>
    internal static CorpusFile LoadCorpus(string? corpusPath, string cacheDirectory)
    {
        if (corpusPath is { } path)
        {
            return CorpusFile.Load(path);
        }

        return DefaultCorpus.FindInCheckout(Environment.CurrentDirectory) is { } checkout
            ? CorpusFile.Load(checkout)
            : DefaultCorpus.Load(cacheDirectory);
    }

    private static List<CorpusEntry> Select(CorpusFile corpus, IReadOnlyList<string> names) =>
        names.Count == 0 ? corpus.Entries.ToList() : names.Select(n => corpus[n]).ToList();

    /// <summary>Disposes what was added, last first, even when the measuring loop throws.</summary>
    private sealed class AsyncScope : IAsyncDisposable
    {
        private readonly Stack<IAsyncDisposable> _items = new();

        public void Add(IAsyncDisposable item) => _items.Push(item);

        public async ValueTask DisposeAsync()
        {
            while (_items.TryPop(out var item))
            {
                await item.DisposeAsync();
            }
        }
    }
}
