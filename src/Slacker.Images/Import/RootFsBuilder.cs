using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Ext4;
using Slacker.Images.Layers;
using Slacker.Images.Oci;
using Slacker.Images.Sources;
using Slacker.Native;

namespace Slacker.Images.Import;

/// <summary>The flattened file system of an image as a raw ext4 file; disposing deletes it.</summary>
public sealed class BuiltRootFs : IDisposable
{
    internal BuiltRootFs(string workDirectory, string imagePath, Ext4Layout layout, IReadOnlyList<LayerScan> scans, IReadOnlyList<string> warnings)
    {
        WorkDirectory = workDirectory;
        ImagePath = imagePath;
        Layout = layout;
        Scans = scans;
        Warnings = warnings;
    }

    public string WorkDirectory { get; }

    public string ImagePath { get; }

    public Ext4Layout Layout { get; }

    public IReadOnlyList<LayerScan> Scans { get; }

    public IReadOnlyList<string> Warnings { get; }

    public void Dispose()
    {
        if (Directory.Exists(WorkDirectory))
        {
            Directory.Delete(WorkDirectory, recursive: true);
        }
    }
}

/// <summary>
/// Turns a standard image into one flattened ext4 file: a scan pass verifies every layer (digest, diff_id,
/// tar rules, limits) and measures it; then a fresh ext4 is made, loop-mounted, the layers applied in order,
/// unmounted and sealed. Nothing leaves this machine here, so a refused image changes no store.
/// </summary>
public static class RootFsBuilder
{
    public static async Task<BuiltRootFs> BuildAsync(IImageSource source, SourceImage image, ImportOptions options, CancellationToken cancellationToken = default)
    {
        var layers = image.Layers;
        CheckLayerTypes(source, layers);
        var diffIds = image.Config.DiffIds;
        if (diffIds.Count != layers.Count)
        {
            throw new ImageFormatException($"{source.Description}: the manifest has {layers.Count} layers but the config lists {diffIds.Count} diff_ids; the image is inconsistent.");
        }

        var budget = new UncompressedBudget(options.Limits.MaxUncompressedBytes);
        var scans = new List<LayerScan>();
        for (var i = 0; i < layers.Count; i++)
        {
            var layer = layers[i];
            Report(options, ImportStage.Verifying, i + 1, layers.Count, $"verifying layer {i + 1}/{layers.Count} {layer.Digest} ({layer.Size} bytes)");
            var blob = await source.OpenBlobAsync(layer, cancellationToken).ConfigureAwait(false);
            var scan = await Task.Run(() =>
            {
                using (blob)
                {
                    return LayerScanner.Scan(blob, layer.Digest, budget, options.Limits);
                }
            }, cancellationToken).ConfigureAwait(false);
            if (scan.DiffId != diffIds[i])
            {
                throw new LayerRejectedException(layer.Digest, null, LayerRule.DigestMismatch,
                    $"its uncompressed content hashes to {scan.DiffId} but the image config's diff_ids[{i}] is {diffIds[i]}; the image is corrupt or was tampered with.");
            }

            scans.Add(scan);
        }

        var layout = Ext4Sizing.Plan(scans, image.Config.Digest, image.Config.Config.Created, options.FreeSpaceBytes, options.ChunkSize);
        var work = Path.Combine(options.WorkDirectory, "slacker-import-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var file = Path.Combine(work, "rootfs.ext4");
            Report(options, ImportStage.Formatting, 0, layers.Count, $"making a {layout.SizeBytes >> 20} MiB ext4 with {layout.Inodes} inodes");
            await Ext4Format.CreateAsync(file, layout, cancellationToken).ConfigureAwait(false);
            var warnings = await ApplyAsync(source, layers, file, work, options, cancellationToken).ConfigureAwait(false);
            Report(options, ImportStage.Sealing, 0, layers.Count, "sealing the file system");
            await Ext4Format.SealAsync(file, layout, cancellationToken).ConfigureAwait(false);
            return new BuiltRootFs(work, file, layout, scans, warnings);
        }
        catch
        {
            Directory.Delete(work, recursive: true);
            throw;
        }
    }

    private static async Task<IReadOnlyList<string>> ApplyAsync(IImageSource source, IReadOnlyList<OciDescriptor> layers, string file, string work, ImportOptions options, CancellationToken cancellationToken)
    {
        // Buffered, as losetup makes it: the applier writes through ext4 into the image file's page cache.
        using var loop = LoopDevice.Attach(file, readOnly: false, directIo: false);
        var mount = Ext4Mount.Mount(loop.DevicePath, work, readOnly: false);
        try
        {
            Directory.Delete(Path.Combine(mount.MountPoint, "lost+found"));
            var warnings = await PinnedThread.RunAsync(() =>
            {
                var budget = new UncompressedBudget(options.Limits.MaxUncompressedBytes);
                using var applier = new LayerApplier(mount.MountPoint, options.Limits, budget);
                for (var i = 0; i < layers.Count; i++)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    Report(options, ImportStage.Applying, i + 1, layers.Count, $"applying layer {i + 1}/{layers.Count} {layers[i].Digest}");
                    using var blob = source.OpenBlobAsync(layers[i], cancellationToken).GetAwaiter().GetResult();
                    applier.Apply(blob, layers[i].Digest);
                }

                applier.Finish();
                return applier.Warnings.ToList();
            }).ConfigureAwait(false);
            mount.Unmount();
            return warnings;
        }
        finally
        {
            await mount.DisposeAsync().ConfigureAwait(false);
        }
    }

    private static void CheckLayerTypes(IImageSource source, IReadOnlyList<OciDescriptor> layers)
    {
        foreach (var layer in layers)
        {
            if (layer.MediaType == SlackerImageLayer.MediaType)
            {
                throw new ImageFormatException($"{source.Description} is already a Slacker image (its layer is a snapshot): use 'slacker pull' or 'slacker tag', not import.");
            }

            if (ImageMediaTypes.IsForeignLayer(layer.MediaType))
            {
                throw new ImageFormatException($"{source.Description}: layer {layer.Digest} is a foreign/non-distributable layer ({layer.MediaType}); slacker does not fetch layers from external URLs.");
            }

            if (!ImageMediaTypes.IsLayer(layer.MediaType))
            {
                throw new ImageFormatException($"{source.Description}: layer {layer.Digest} has media type '{layer.MediaType}', which is not a file-system layer (tar, tar+gzip or tar+zstd).");
            }
        }
    }

    internal static void Report(ImportOptions options, ImportStage stage, int layer, int layers, string message) =>
        options.Progress?.Report(new ImportProgress(stage, layer, layers, message));
}
