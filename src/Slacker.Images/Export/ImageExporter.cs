using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Ext4;
using Slacker.Images.Import;
using Slacker.Images.Oci;
using Slacker.Native;

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

            // A docker-archive holds the plain tar; an OCI layout gets the gzip blob straight in its own store.
            var blobStore = format == ExportFormat.DockerArchive ? Path.Combine(work, "blobs") : OciLayoutWriter.BlobStore(destination);
            LayerBlob layer;
            using (var loop = LoopDevice.Attach(raw, readOnly: true, directIo: false))
            {
                await using var mount = Ext4Mount.Mount(loop.DevicePath, work, readOnly: true);
                layer = await LayerBlobWriter.WriteAsync(
                    mount.MountPoint, new TreeTarOptions(), blobStore, format == ExportFormat.DockerArchive ? null : CompressionLevel.Fastest, cancellationToken).ConfigureAwait(false);
            }

            var history = (image.Config.Config.History ?? []).Select(h => h with { EmptyLayer = true }).ToList();
            history.Add(new OciHistory { Created = image.Config.Config.Created, CreatedBy = $"slacker export of snapshot {image.Snapshot}" });
            var config = ImageConfigDocument.Serialize(image.Config.Config with { RootFs = new OciRootFs { DiffIds = [layer.DiffId.ToString()] }, History = history });
            if (format == ExportFormat.DockerArchive)
            {
                WriteDockerArchive(destination, repoTag, config, Path.Combine(blobStore, "sha256", layer.Digest.Hex), layer.DiffId);
            }
            else
            {
                var refName = repoTag.Contains(':', StringComparison.Ordinal) ? repoTag[(repoTag.LastIndexOf(':') + 1)..] : repoTag;
                OciLayoutWriter.Write(destination, refName, config, [new OciDescriptor { MediaType = MediaTypes.OciLayerTarGzip, Digest = layer.Digest.ToString(), Size = layer.Size }]);
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

    private static void Add(TarWriter writer, string name, byte[] data) =>
        writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data), Mode = (UnixFileMode)0x1A4 });
}
