using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Import;
using Slacker.Images.Oci;

namespace Slacker.Images.Store;

/// <summary>One image known to this node: its name, the Slacker manifest and what the snapshot layer says.</summary>
public sealed record LocalImage(string Name, Digest Manifest, SlackerImageLayer Layer, DateTimeOffset Added)
{
    public Digest Snapshot => Digest.Parse(Layer.Snapshot);
}

/// <summary>
/// The node's local image store: an OCI image layout under the node's data directory (default
/// /var/lib/slacker/node/images). index.json names each image by its org.opencontainers.image.ref.name
/// annotation; blobs/sha256 holds the Slacker manifest, config and snapshot layer, a few KiB per image,
/// which is why a pull costs the same for any image size. Being a standard layout, any OCI tool can read it,
/// and the node agent shares it. Writers take an exclusive lock and replace index.json atomically.
/// </summary>
public sealed class LocalImageStore
{
    public const string DefaultDirectory = "/var/lib/slacker/node/images";
    public const string AddedAnnotation = "dev.slacker.added";

    private readonly string _directory;

    public LocalImageStore(string directory) => _directory = Path.GetFullPath(directory);

    public string Root => _directory;

    private string IndexPath => Path.Combine(_directory, "index.json");

    private string BlobPath(Digest digest) => Path.Combine(_directory, "blobs", "sha256", digest.Hex);

    public static LocalImageStore Default(string? nodeRoot = null) =>
        new(nodeRoot is null ? DefaultDirectory : Path.Combine(nodeRoot, "images"));

    /// <summary>Records <paramref name="image"/> under <paramref name="name"/>, replacing what the name pointed to.</summary>
    public async Task AddAsync(string name, SlackerImage image, CancellationToken cancellationToken = default)
    {
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        foreach (var bytes in new[] { image.ConfigBytes, image.LayerBytes, image.ManifestBytes })
        {
            await WriteBlobAsync(bytes, cancellationToken).ConfigureAwait(false);
        }

        var manifests = ReadIndex().Where(d => RefName(d) != name).ToList();
        manifests.Add(image.Manifest.ToDescriptor() with
        {
            Annotations = new Dictionary<string, string>
            {
                [Sources.OciLayoutSource.RefNameAnnotation] = name,
                [SlackerImage.SnapshotAnnotation] = image.Layer.Snapshot,
                [AddedAnnotation] = DateTimeOffset.UtcNow.ToString("O"),
            },
        });
        WriteIndex(manifests);
    }

    public IReadOnlyList<LocalImage> List()
    {
        var images = new List<LocalImage>();
        foreach (var descriptor in ReadIndex())
        {
            if (TryLoad(descriptor) is { } image)
            {
                images.Add(image);
            }
        }

        return images.OrderBy(i => i.Name, StringComparer.Ordinal).ToList();
    }

    public LocalImage? Find(string name) => ReadIndex().Where(d => RefName(d) == name).Select(TryLoad).FirstOrDefault(i => i is not null);

    /// <summary>The exact manifest, config and layer bytes, re-verified against their digests.</summary>
    public SlackerImage ReadImage(LocalImage image)
    {
        var manifest = ManifestDocument.Parse(ReadBlob(image.Manifest));
        var config = ReadBlob(Digest.Parse(manifest.Manifest!.Config!.Digest));
        var layer = ReadBlob(Digest.Parse(manifest.Manifest.Layers![0].Digest));
        return SlackerImage.FromParts(config, layer, manifest.Bytes);
    }

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken = default)
    {
        using var held = await LockAsync(cancellationToken).ConfigureAwait(false);
        var manifests = ReadIndex();
        var kept = manifests.Where(d => RefName(d) != name).ToList();
        if (kept.Count == manifests.Count)
        {
            return false;
        }

        WriteIndex(kept);
        PruneBlobs(kept);
        return true;
    }

    private void PruneBlobs(IReadOnlyList<OciDescriptor> kept)
    {
        var live = new HashSet<string>(StringComparer.Ordinal);
        foreach (var descriptor in kept)
        {
            var digest = Digest.Parse(descriptor.Digest);
            live.Add(digest.Hex);
            if (File.Exists(BlobPath(digest)))
            {
                foreach (var reference in ManifestDocument.Parse(File.ReadAllBytes(BlobPath(digest))).References)
                {
                    live.Add(Digest.Parse(reference.Digest).Hex);
                }
            }
        }

        foreach (var file in Directory.EnumerateFiles(Path.Combine(_directory, "blobs", "sha256")))
        {
            if (!live.Contains(Path.GetFileName(file)))
            {
                File.Delete(file);
            }
        }
    }

    private LocalImage? TryLoad(OciDescriptor descriptor)
    {
        try
        {
            var manifest = ManifestDocument.Parse(ReadBlob(Digest.Parse(descriptor.Digest)));
            var layer = SlackerImage.TryReadLayer(manifest, d => ReadBlob(Digest.Parse(d.Digest)), out _);
            var added = descriptor.Annotations?.GetValueOrDefault(AddedAnnotation) is { } text && DateTimeOffset.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var when)
                ? when
                : DateTimeOffset.UnixEpoch;
            return layer is null ? null : new LocalImage(RefName(descriptor), manifest.Digest, layer, added);
        }
        catch (Exception e) when (e is IOException or ImageFormatException or FormatException)
        {
            return null;
        }
    }

    private static string RefName(OciDescriptor descriptor) => descriptor.Annotations?.GetValueOrDefault(Sources.OciLayoutSource.RefNameAnnotation) ?? "";

    private byte[] ReadBlob(Digest digest)
    {
        var bytes = File.ReadAllBytes(BlobPath(digest));
        return digest.Matches(bytes) ? bytes : throw new ImageFormatException($"{BlobPath(digest)} does not hash to {digest}: the local image store is corrupt; remove the image and pull it again.");
    }

    private async Task WriteBlobAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        var path = BlobPath(Digest.Compute(bytes));
        if (File.Exists(path))
        {
            return;
        }

        var temp = path + ".tmp";
        await File.WriteAllBytesAsync(temp, bytes, cancellationToken).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
    }

    private List<OciDescriptor> ReadIndex()
    {
        if (!File.Exists(IndexPath))
        {
            return [];
        }

        var index = ManifestDocument.Parse(File.ReadAllBytes(IndexPath), MediaTypes.OciIndex);
        return [.. index.Index!.Manifests!];
    }

    private void WriteIndex(IReadOnlyList<OciDescriptor> manifests)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(new OciIndex { MediaType = MediaTypes.OciIndex, Manifests = manifests }, ImagesJsonContext.Default.OciIndex);
        var temp = IndexPath + ".tmp";
        File.WriteAllBytes(temp, bytes);
        File.Move(temp, IndexPath, overwrite: true);
    }

    /// <summary>An exclusive lock on the store (flock through FileShare.None), waiting for other writers.</summary>
    private async Task<IDisposable> LockAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.Combine(_directory, "blobs", "sha256"));
        var marker = Path.Combine(_directory, "oci-layout");
        if (!File.Exists(marker))
        {
            await File.WriteAllTextAsync(marker, "{\"imageLayoutVersion\":\"1.0.0\"}", cancellationToken).ConfigureAwait(false);
        }

        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(Path.Combine(_directory, ".lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
