using System.Diagnostics;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Sources;

namespace Slacker.Images.Import;

/// <summary>A raw disk image turned into a server volume and its first snapshot, with what it cost.</summary>
public sealed record VolumeUpload(string VolumeId, SnapshotInfo Snapshot, long Chunks, long ZeroChunks, long UploadedChunks, long UploadedBytes);

/// <summary>
/// Uploads a raw disk image as a volume and snapshots it: the node's VolumeImporter (the one implementation,
/// shared with `slacker commit`), passed in so that this library does not depend on the node agent.
/// </summary>
public delegate Task<VolumeUpload> VolumeUploader(string imagePath, int chunkSize, string label, CancellationToken cancellationToken);

/// <summary>What an import produced and what it cost.</summary>
public sealed record ImportedImage(
    ImageName Name,
    Digest Manifest,
    Digest Snapshot,
    long VolumeSize,
    long Chunks,
    long ZeroChunks,
    long UploadedChunks,
    long UploadedBytes,
    TimeSpan Duration,
    IReadOnlyList<string> Warnings,
    SlackerImage Image);

/// <summary>
/// `slacker import`: standard image -> flattened ext4 (see <see cref="RootFsBuilder"/>) -> volume and snapshot
/// on the server (only chunks it lacks are sent) -> Slacker-format manifest in the server's registry.
/// Every check on the image happens before the first byte is uploaded; if publishing fails after the snapshot
/// exists, the snapshot is released so gc can take it back.
/// </summary>
public sealed class ImageImporter(BlockStoreClient blocks, RegistryClient registry, VolumeUploader uploadVolume)
{
    public async Task<ImportedImage> ImportAsync(IImageSource source, ImageName name, ImportOptions options, CancellationToken cancellationToken = default)
    {
        if (!name.IsOnDefaultServer)
        {
            throw new ArgumentException($"import writes to the Slacker server; name the image without a host ('{name.Repository}:{name.Tag}'), then 'slacker push' it elsewhere.");
        }

        var clock = Stopwatch.StartNew();
        RootFsBuilder.Report(options, ImportStage.Resolving, 0, 0, $"resolving {source.Description}");
        var image = await source.ResolveAsync(cancellationToken).ConfigureAwait(false);
        using var built = await RootFsBuilder.BuildAsync(source, image, options, cancellationToken).ConfigureAwait(false);

        RootFsBuilder.Report(options, ImportStage.Uploading, 0, image.Layers.Count, $"uploading the chunks the server lacks ({built.Layout.SizeBytes >> 20} MiB volume)");
        var upload = await uploadVolume(built.ImagePath, options.ChunkSize, name.ToString(), cancellationToken).ConfigureAwait(false);
        var snapshot = Digest.Parse(upload.Snapshot.Id);
        try
        {
            // The snapshot outlives the volume it was taken from; the tag (through the manifest) is what keeps it.
            await blocks.DeleteVolumeAsync(upload.VolumeId, cancellationToken).ConfigureAwait(false);
            var slacker = SlackerImage.Create(image.Config.Config,
                new SlackerImageLayer(snapshot.ToString(), options.ChunkSize, upload.Snapshot.Size), source.Description);
            RootFsBuilder.Report(options, ImportStage.Publishing, 0, image.Layers.Count, $"tagging {name}");
            var manifest = await SlackerImagePublisher.PublishAsync(registry, name.Repository, name.Tag, slacker, cancellationToken).ConfigureAwait(false);
            RootFsBuilder.Report(options, ImportStage.Done, 0, image.Layers.Count, $"{name} is {manifest} (snapshot {snapshot})");
            return new ImportedImage(name, manifest, snapshot, upload.Snapshot.Size, upload.Chunks, upload.ZeroChunks, upload.UploadedChunks, upload.UploadedBytes, clock.Elapsed, built.Warnings, slacker);
        }
        finally
        {
            // Released either way: on success the manifest's reference keeps it; on failure gc may reclaim it.
            await blocks.ReleaseSnapshotAsync(snapshot, CancellationToken.None).ConfigureAwait(false);
        }
    }
}
