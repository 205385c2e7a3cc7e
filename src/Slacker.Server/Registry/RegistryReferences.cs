using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Core.Storage;
using Slacker.Images.Oci;

namespace Slacker.Server.Registry;

/// <summary>
/// What a stored manifest keeps alive in the server's stores: its config and layer blobs and, for a Slacker
/// image, its snapshot. Each is a named reference owned by "registry:REPO@DIGEST", added before the manifest
/// becomes visible and removed after it is gone, so a crash in between can only leak, never lose.
/// </summary>
public sealed class RegistryReferences(IMetadataStore metadata, IChunkStore blobs)
{
    public const int MaxSnapshotLayerBytes = 64 * 1024;

    public static string Owner(string repo, Digest manifest) => $"registry:{repo}@{manifest}";

    /// <summary>The snapshot a Slacker image layer names, checked to exist on this server (unless the layer names another server).</summary>
    public async Task<Digest?> ReadSnapshotAsync(OciDescriptor layer, CancellationToken ct)
    {
        if (layer.Size > MaxSnapshotLayerBytes)
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", $"the Slacker snapshot layer {layer.Digest} is {layer.Size} bytes; it is a small JSON document (at most {MaxSnapshotLayerBytes}).");
        }

        var bytes = await blobs.ReadAllAsync(Digest.Parse(layer.Digest), ct)
            ?? throw new RegistryApiException(400, "MANIFEST_BLOB_UNKNOWN", $"the manifest names blob {layer.Digest}, which is not in this repository: push it first.");
        SlackerImageLayer? snapshotLayer;
        try
        {
            snapshotLayer = JsonSerializer.Deserialize(bytes, CoreJsonContext.Default.SlackerImageLayer);
        }
        catch (JsonException e)
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", $"the Slacker snapshot layer {layer.Digest} is not valid JSON ({e.Message}).");
        }

        if (snapshotLayer is null || !Digest.TryParse(snapshotLayer.Snapshot, out var snapshot))
        {
            throw new RegistryApiException(400, "MANIFEST_INVALID", $"the Slacker snapshot layer {layer.Digest} does not name a snapshot digest.");
        }

        if (await metadata.GetSnapshotAsync(snapshot, ct) is not null)
        {
            return snapshot;
        }

        // An image whose chunks live on another Slacker server: this registry only carries its manifest.
        if (snapshotLayer.Server is null)
        {
            throw new RegistryApiException(400, "MANIFEST_BLOB_UNKNOWN",
                $"the Slacker image names snapshot {snapshot}, which this server does not have: import the image here ('slacker import') instead of pushing only its manifest.", snapshot.ToString());
        }

        return null;
    }

    public async Task AddAsync(string repo, Digest manifest, IEnumerable<Digest> targets, CancellationToken ct)
    {
        var owner = Owner(repo, manifest);
        foreach (var target in targets)
        {
            await metadata.AddReferenceAsync(target, owner, ct);
        }
    }

    public async Task RemoveAsync(string repo, ManifestRow row, CancellationToken ct)
    {
        var digest = Digest.Parse(row.Digest);
        var owner = Owner(repo, digest);
        ManifestDocument document;
        try
        {
            document = ManifestDocument.Parse(row.Bytes, row.MediaType);
        }
        catch (ImageFormatException)
        {
            return;
        }

        if (document.Manifest is null)
        {
            return;
        }

        foreach (var descriptor in document.References)
        {
            var target = Digest.Parse(descriptor.Digest);
            await metadata.RemoveReferenceAsync(target, owner, ct);
            if (descriptor.MediaType == SlackerImageLayer.MediaType && await blobs.ReadAllAsync(target, ct) is { } bytes)
            {
                try
                {
                    if (JsonSerializer.Deserialize(bytes, CoreJsonContext.Default.SlackerImageLayer) is { } layer && Digest.TryParse(layer.Snapshot, out var snapshot))
                    {
                        await metadata.RemoveReferenceAsync(snapshot, owner, ct);
                    }
                }
                catch (JsonException)
                {
                    // Validated when the manifest was stored; nothing was referenced if it cannot be read now.
                }
            }
        }
    }
}
