using System.CommandLine;
using System.Runtime.Versioning;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Layers;
using Slacker.Images.Sources;
using Slacker.Node;
using Slacker.Node.Volumes;
using Spectre.Console;

namespace Slacker.Cli.Commands;

/// <summary>
/// `slacker import SOURCE NAME[:TAG]`: a standard image (docker-archive:PATH, oci:PATH[:REF], docker://HOST/REPO:TAG)
/// flattened into one ext4 snapshot on the server and tagged there as a Slacker image.
/// </summary>
[SupportedOSPlatform("linux")]
public static class ImportCommand
{
    public static readonly Option<string?> Platform = new("--platform") { Description = "os/arch[/variant] to take from a multi-platform image (default: this machine's)." };
    public static readonly Option<bool> Insecure = new("--insecure") { Description = "Speak plain http to the source registry (loopback registries always are)." };
    public static readonly Option<string?> FreeSpace = new("--free-space") { Description = "Free space in the image's file system, e.g. 512M or 2G (default: max(256M, a quarter of the content))." };
    public static readonly Option<string?> MaxUnpacked = new("--max-unpacked-bytes") { Description = "Refuse images that unpack to more than this, e.g. 32G (the default), against decompression bombs." };
    public static readonly Option<int> ChunkSize = new("--chunk-size") { Description = "Chunk size of the volume in bytes (power of two, 4K..1M).", DefaultValueFactory = _ => ChunkGeometry.DefaultChunkSize };

    public static Command Create()
    {
        var source = new Argument<string>("source") { Description = "docker-archive:PATH, oci:PATH[:REF] or docker://HOST[:PORT]/REPO:TAG." };
        var name = new Argument<string>("name") { Description = "NAME[:TAG] to give the image on the server." };
        var command = new Command("import", "Import a standard image as a flattened Slacker image (snapshot) on the server.")
        {
            Platform, Insecure, FreeSpace, MaxUnpacked, ChunkSize, ImagesCommand.NodeData, source, name,
        };
        command.SetAction((parse, ct) => ImagesCommand.RunAsync(() =>
            RunImportAsync(parse, parse.GetValue(source)!, ImageName.Parse(parse.GetValue(name)!), parse.GetValue(Insecure), ct)));
        return command;
    }

    /// <summary>The import itself, shared with `convert`: progress on a terminal, plain lines otherwise.</summary>
    public static async Task<int> RunImportAsync(ParseResult parse, string source, ImageName name, bool insecure, CancellationToken ct)
    {
        var service = ImagesCommand.Service(parse);
        using var http = CliGlobals.CreateHttpClient(parse);
        var blocks = new BlockStoreClient(http);
        using var registry = service.ServerRegistry();
        var limits = LayerLimits.Default;
        if (parse.GetValue(MaxUnpacked) is { } max)
        {
            limits = limits with { MaxUncompressedBytes = ParseSize(max, "--max-unpacked-bytes") };
        }

        var options = new ImportOptions
        {
            Limits = limits,
            FreeSpaceBytes = parse.GetValue(FreeSpace) is { } free ? ParseSize(free, "--free-space") : null,
            ChunkSize = parse.GetValue(ChunkSize),
        };
        await using var image = ImageSources.Open(source, new ImageSourceOptions { Platform = parse.GetValue(Platform), Insecure = insecure });
        var importer = new ImageImporter(blocks, registry, (path, chunkSize, label, token) => UploadAsync(blocks, path, chunkSize, label, token));

        ImportedImage result;
        if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
        {
            result = await AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new SpinnerColumn())
                .StartAsync(async progress =>
                {
                    var task = progress.AddTask($"import {name}", maxValue: 100);
                    var reporter = new Reporter(p =>
                    {
                        task.Description = Markup.Escape(p.Message.Length > 70 ? p.Message[..70] + "…" : p.Message);
                        task.Value = Percent(p);
                    });
                    var imported = await importer.ImportAsync(image, name, options with { Progress = reporter }, ct);
                    task.Value = 100;
                    return imported;
                });
        }
        else
        {
            result = await importer.ImportAsync(image, name, options with { Progress = new Reporter(p => Console.WriteLine(p.Message)) }, ct);
        }

        // Like docker import/load, the image is now also known on this node.
        await service.Local.AddAsync(name.ToString(), result.Image, ct);
        foreach (var warning in result.Warnings)
        {
            Console.WriteLine("warning: " + warning);
        }

        Console.WriteLine($"Imported {name}: {result.Manifest}");
        Console.WriteLine($"  snapshot {result.Snapshot}, {ImagesCommand.Size(result.VolumeSize)} volume, {result.Chunks - result.ZeroChunks} data chunks, "
            + $"uploaded {result.UploadedChunks} new ({ImagesCommand.Size(result.UploadedBytes)}) in {result.Duration.TotalSeconds:0.0} s");
        return 0;
    }

    private static double Percent(ImportProgress p) => p.Stage switch
    {
        ImportStage.Resolving => 1,
        ImportStage.Verifying => 2 + (30.0 * (p.Layer - 1) / Math.Max(1, p.Layers)),
        ImportStage.Formatting => 33,
        ImportStage.Applying => 35 + (40.0 * (p.Layer - 1) / Math.Max(1, p.Layers)),
        ImportStage.Sealing => 76,
        ImportStage.Uploading => 80,
        ImportStage.Publishing => 97,
        _ => 100,
    };

    public static async Task<VolumeUpload> UploadAsync(BlockStoreClient blocks, string path, int chunkSize, string label, CancellationToken ct)
    {
        var result = await VolumeImporter.ImportAsync(new BlockStoreClientAdapter(blocks), path, chunkSize, label, cancellationToken: ct);
        return new VolumeUpload(result.Volume.Id, result.Snapshot, result.Chunks, result.ZeroChunks, result.UploadedChunks, result.UploadedBytes);
    }

    /// <summary>512M, 2G, 1T or plain bytes.</summary>
    public static long ParseSize(string text, string option)
    {
        var multiplier = char.ToUpperInvariant(text[^1]) switch { 'K' => 1L << 10, 'M' => 1L << 20, 'G' => 1L << 30, 'T' => 1L << 40, _ => 1L };
        var digits = multiplier == 1 ? text : text[..^1];
        return long.TryParse(digits, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= 0
            ? checked(value * multiplier)
            : throw new ArgumentException($"{option} '{text}' is not a size: write e.g. 512M, 2G or a number of bytes.");
    }

    /// <summary>Reports synchronously, in order (Progress&lt;T&gt; would post to the thread pool and reorder lines).</summary>
    private sealed class Reporter(Action<ImportProgress> report) : IProgress<ImportProgress>
    {
        public void Report(ImportProgress value) => report(value);
    }
}
