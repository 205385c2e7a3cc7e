using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Ext4;
using Slacker.Images.Import;
using Slacker.Images.Oci;

namespace Slacker.Images.Export;

public enum ExportFormat
{
    DockerArchive,
    OciLayout,
}

/// <summary>
/// `slacker export`: a Slacker image back to a standard one. The snapshot's chunks are fetched into a raw
/// file, which is loop-mounted read-only and written out as one layer; the config keeps Env, Cmd and the rest.
/// The result is a docker-archive that `docker load` accepts, or an OCI image layout.
/// </summary>
public static class ImageExporter
{
    public static async Task ExportAsync(BlockStoreClient blocks, SlackerImage image, string repoTag, ExportFormat format, string destination, string workDirectory, CancellationToken cancellationToken = default)
    {
        var work = Path.Combine(workDirectory, "slacker-export-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var raw = Path.Combine(work, "rootfs.ext4");
            await SnapshotReader.WriteRawAsync(blocks, image.Snapshot, raw, cancellationToken).ConfigureAwait(false);
            var tar = Path.Combine(work, "layer.tar");
            await using (var loop = await LoopDevice.AttachAsync(raw, readOnly: true, cancellationToken).ConfigureAwait(false))
            {
                await using var mount = Ext4Mount.Mount(loop.Device, work, readOnly: true);
                await using var output = File.Create(tar);
                TreeTarWriter.Write(mount.MountPoint, output);
            }

            Digest diffId;
            await using (var stream = File.OpenRead(tar))
            {
                diffId = await Digest.ComputeAsync(stream, cancellationToken).ConfigureAwait(false);
            }

            var history = (image.Config.Config.History ?? []).Select(h => h with { EmptyLayer = true }).ToList();
            history.Add(new OciHistory { Created = image.Config.Config.Created, CreatedBy = $"slacker export of snapshot {image.Snapshot}" });
            var config = ImageConfigDocument.Serialize(image.Config.Config with { RootFs = new OciRootFs { DiffIds = [diffId.ToString()] }, History = history });
            if (format == ExportFormat.DockerArchive)
            {
                WriteDockerArchive(destination, repoTag, config, tar, diffId);
            }
            else
            {
                await WriteOciLayoutAsync(destination, repoTag, config, tar, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static void WriteDockerArchive(string path, string repoTag, byte[] config, string layerTar, Digest diffId)
    {
        var configName = Digest.Compute(config).Hex + ".json";
        var layerName = diffId.Hex + "/layer.tar";
        var manifest = JsonSerializer.SerializeToUtf8Bytes<IReadOnlyList<DockerArchiveEntry>>(
            [new DockerArchiveEntry { Config = configName, RepoTags = [repoTag], Layers = [layerName] }], ImagesJsonContext.Default.IReadOnlyListDockerArchiveEntry);
        var temp = path + ".partial";
        using (var file = File.Create(temp))
        using (var writer = new TarWriter(file, TarEntryFormat.Pax))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, diffId.Hex + "/") { Mode = (UnixFileMode)0x1ED });
            using (var layer = File.OpenRead(layerTar))
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, layerName) { DataStream = layer, Mode = (UnixFileMode)0x1A4 });
            }

            Add(writer, configName, config);
            Add(writer, "manifest.json", manifest);
        }

        File.Move(temp, path, overwrite: true);
    }

    private static async Task WriteOciLayoutAsync(string directory, string tag, byte[] config, string layerTar, CancellationToken cancellationToken)
    {
        var blobs = Path.Combine(directory, "blobs", "sha256");
        Directory.CreateDirectory(blobs);
        await File.WriteAllTextAsync(Path.Combine(directory, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", cancellationToken).ConfigureAwait(false);
        var gzipped = Path.Combine(blobs, "layer.partial");
        await using (var input = File.OpenRead(layerTar))
        await using (var output = File.Create(gzipped))
        await using (var gzip = new GZipStream(output, CompressionLevel.Fastest))
        {
            await input.CopyToAsync(gzip, cancellationToken).ConfigureAwait(false);
        }

        Digest layerDigest;
        await using (var stream = File.OpenRead(gzipped))
        {
            layerDigest = await Digest.ComputeAsync(stream, cancellationToken).ConfigureAwait(false);
        }

        File.Move(gzipped, Path.Combine(blobs, layerDigest.Hex), overwrite: true);
        var configDescriptor = await WriteBlobAsync(blobs, config, MediaTypes.OciConfig, cancellationToken).ConfigureAwait(false);
        var manifest = JsonSerializer.SerializeToUtf8Bytes(new OciManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = configDescriptor,
            Layers = [new OciDescriptor { MediaType = MediaTypes.OciLayerTarGzip, Digest = layerDigest.ToString(), Size = new FileInfo(Path.Combine(blobs, layerDigest.Hex)).Length }],
        }, ImagesJsonContext.Default.OciManifest);
        var manifestDescriptor = await WriteBlobAsync(blobs, manifest, MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
        var refName = tag.Contains(':', StringComparison.Ordinal) ? tag[(tag.LastIndexOf(':') + 1)..] : tag;
        var index = new OciIndex
        {
            MediaType = MediaTypes.OciIndex,
            Manifests = [manifestDescriptor with { Annotations = new Dictionary<string, string> { [Sources.OciLayoutSource.RefNameAnnotation] = refName } }],
        };
        await File.WriteAllBytesAsync(Path.Combine(directory, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, ImagesJsonContext.Default.OciIndex), cancellationToken).ConfigureAwait(false);
    }

    private static async Task<OciDescriptor> WriteBlobAsync(string blobs, byte[] data, string mediaType, CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(data);
        await File.WriteAllBytesAsync(Path.Combine(blobs, digest.Hex), data, cancellationToken).ConfigureAwait(false);
        return new OciDescriptor { MediaType = mediaType, Digest = digest.ToString(), Size = data.Length };
    }

    private static void Add(TarWriter writer, string name, byte[] data) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
}
