using System.CommandLine;
using Slacker.Bench.Build;
using Slacker.Bench.Corpus;
using Slacker.Bench.Runner;

namespace Slacker.Bench;

/// <summary>The `bench` command: HelloBench over the corpus, for slacker and the systems it is compared with.</summary>
public static class BenchCommand
{
    /// <summary>
    /// How long a host should let the command clean up after Ctrl+C/SIGTERM (InvocationConfiguration.ProcessTerminationTimeout):
    /// the daemons the bench started are stopped by PID and their mounts removed, which takes seconds.
    /// </summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(90);

    public static Command Create()
    {
        var corpus = new Option<string?>("--corpus")
        {
            Description = "Corpus file (default: bench/corpus.json of the checkout you are in, else the built-in corpus).",
        };
        var systems = new Option<string>("--systems")
        {
            Description = "Comma-separated systems to measure: slacker, slacker-cluster (server on PostgreSQL + Ceph S3, started by the bench), docker, podman.",
            DefaultValueFactory = _ => "slacker,docker,podman",
        };
        var reps = new Option<int>("--reps")
        {
            Description = "Push/pull/run cycles per image and system.",
            DefaultValueFactory = _ => 3,
        };
        var images = new Option<string?>("--images")
        {
            Description = "Comma-separated image names (default: all images of the corpus).",
        };
        var output = new Option<string>("--out")
        {
            Description = "Directory for results.jsonl, report.md and the SVG charts.",
            DefaultValueFactory = _ => Path.Combine("bench", "out", DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", System.Globalization.CultureInfo.InvariantCulture)),
        };
        var smoke = new Option<bool>("--smoke")
        {
            Description = "Quick check: debian and busybox, one rep, slacker and docker; exits non-zero unless the output is well formed.",
        };
        var cache = new Option<string>("--cache")
        {
            Description = "Corpus build cache (base rootfs, layers, OCI layouts).",
            DefaultValueFactory = _ => CorpusBuilder.CacheDirFromEnvironment(),
        };
        var work = new Option<string?>("--work")
        {
            Description = "Scratch dir for the daemons the bench starts (default: <out>/work).",
        };
        var buildOnly = new Option<bool>("--build-only")
        {
            Description = "Only build the corpus images and print their oci:PATH:TAG references.",
        };
        var slackerCli = new Option<string?>("--slacker-cli")
        {
            Description = "The slacker CLI the slacker driver runs (default: env SLACKER_CLI, else this slacker). It starts its own server and node on loopback under --work.",
            DefaultValueFactory = _ => Drivers.SlackerExecutable.Default(),
        };

        var reportOnly = new Option<string?>("--report")
        {
            Description = "Only render report.md and the SVG charts from an existing results.jsonl (into its directory, or --out if given).",
        };
        var parity = new Option<bool>("--parity")
        {
            Description = "After the cycles, run the long-running parity load (pgbench, redis-benchmark) on images whose corpus entry has 'parity'.",
        };
        var paritySeconds = new Option<int>("--parity-seconds")
        {
            Description = "Measuring time of each parity load run.",
            DefaultValueFactory = _ => 20,
        };

        var scale = new Option<bool>("--scale")
        {
            Description = "Scale benchmark instead of HelloBench: a cluster on PostgreSQL + Ceph S3, and --nodes nodes (network namespaces, empty caches) starting one image (--images, default python) at once, against --servers servers. Writes scale.md.",
        };
        var nodes = new Option<string>("--nodes")
        {
            Description = "With --scale: comma-separated node counts, one wave each.",
            DefaultValueFactory = _ => "1,2,4,8",
        };
        var servers = new Option<string>("--servers")
        {
            Description = "With --scale: comma-separated server counts.",
            DefaultValueFactory = _ => "1,2",
        };

        var command = new Command("bench", "HelloBench: time push, pull and run of the corpus images with slacker, docker and podman.")
        {
            corpus, systems, reps, images, output, smoke, cache, work, buildOnly, slackerCli, parity, paritySeconds, reportOnly, scale, nodes, servers,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(reportOnly) is { } results)
            {
                var into = parse.GetResult(output) is { Implicit: false } ? parse.GetValue(output)! : Path.GetDirectoryName(Path.GetFullPath(results))!;
                try
                {
                    Report.ReportWriter.Write(results, into);
                    Console.WriteLine(Path.Combine(into, Report.ReportWriter.MarkdownFile));
                    return 0;
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException)
                {
                    await Console.Error.WriteLineAsync($"error: cannot render {results}: {ex.Message}");
                    return 2;
                }
            }

            var outDir = Path.GetFullPath(parse.GetValue(output)!);
            if (parse.GetValue(scale))
            {
                return await RunScaleAsync(parse, outDir, cancellationToken);
            }

            var options = new BenchOptions
            {
                CorpusPath = parse.GetValue(corpus),
                Systems = Split(parse.GetValue(systems)),
                Reps = parse.GetValue(reps),
                Images = Split(parse.GetValue(images)),
                OutputDirectory = outDir,
                CacheDirectory = Path.GetFullPath(parse.GetValue(cache)!),
                WorkDirectory = Path.GetFullPath(parse.GetValue(work) ?? Path.Combine(outDir, "work")),
                Smoke = parse.GetValue(smoke),
                BuildOnly = parse.GetValue(buildOnly),
                Parity = parse.GetValue(parity),
                ParitySeconds = parse.GetValue(paritySeconds),
                SlackerCli = parse.GetValue(slackerCli),
            };
            try
            {
                return await BenchRunner.RunAsync(options, Console.Error, cancellationToken);
            }
            catch (CorpusException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return 2;
            }
        });
        return command;
    }

    private static async Task<int> RunScaleAsync(ParseResult parse, string outDir, CancellationToken cancellationToken)
    {
        var options = (Command)parse.CommandResult.Command;
        T Get<T>(string name) => parse.GetValue(options.Options.OfType<Option<T>>().Single(o => o.Name == name))!;
        if (Get<string?>("--slacker-cli") is not { } cli)
        {
            await Console.Error.WriteLineAsync("error: --scale starts slacker servers and nodes: pass --slacker-cli PATH or set SLACKER_CLI.");
            return 2;
        }

        try
        {
            var images = Split(Get<string?>("--images"));
            if (images.Count > 1)
            {
                throw new CorpusException($"--scale starts one image at once on every node; --images names {images.Count}.");
            }

            var scaleOptions = new Scale.ScaleOptions
            {
                Image = images.FirstOrDefault() ?? "python",
                NodeCounts = Counts(Get<string>("--nodes"), "--nodes"),
                ServerCounts = Counts(Get<string>("--servers"), "--servers"),
                Reps = Get<int>("--reps"),
                CorpusPath = Get<string?>("--corpus"),
                OutputDirectory = outDir,
                CacheDirectory = Path.GetFullPath(Get<string>("--cache")),
                WorkDirectory = Path.GetFullPath(Get<string?>("--work") ?? Path.Combine(outDir, "work")),
                SlackerCli = cli,
            };
            return await Scale.ScaleRunner.RunAsync(scaleOptions, Console.Error, cancellationToken);
        }
        catch (CorpusException ex)
        {
            await Console.Error.WriteLineAsync($"error: {ex.Message}");
            return 2;
        }
    }

    private static List<int> Counts(string value, string option) =>
        Split(value).Select(v => int.TryParse(v, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : throw new CorpusException($"{option} takes positive whole numbers separated by commas, e.g. 1,2,4,8; got '{v}'.")).ToList();

    private static List<string> Split(string? value) =>
        string.IsNullOrWhiteSpace(value) ? [] : value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
