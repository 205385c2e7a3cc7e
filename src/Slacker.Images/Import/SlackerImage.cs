using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Oci;

namespace Slacker.Images.Import;

/// <summary>
/// The Slacker image format: an OCI image manifest whose config is the original image's config (so Env,
/// Entrypoint, Cmd, WorkingDir, User, ExposedPorts and Labels carry over) and whose one layer, of media type
/// <see cref="SlackerImageLayer.MediaType"/>, is the small JSON document naming the snapshot. Every byte is
/// derived from the source image and the snapshot, so importing an image twice gives the same manifest digest.
/// </summary>
public sealed class SlackerImage
{
    public const string SnapshotAnnotation = "dev.slacker.snapshot";

    private SlackerImage(byte[] config, byte[] layer, byte[] manifest)
    {
        ConfigBytes = config;
        LayerBytes = layer;
        ManifestBytes = manifest;
        Manifest = ManifestDocument.Parse(manifest);
        Layer = JsonSerializer.Deserialize(layer, CoreJsonContext.Default.SlackerImageLayer)!;
        Config = ImageConfigDocument.Parse(config);
    }

    public byte[] ConfigBytes { get; }

    public byte[] LayerBytes { get; }

    public byte[] ManifestBytes { get; }

    public ManifestDocument Manifest { get; }

    public SlackerImageLayer Layer { get; }

    public ImageConfigDocument Config { get; }

    public Digest Snapshot => Digest.Parse(Layer.Snapshot);

    public static SlackerImage Create(OciImageConfig original, SlackerImageLayer layer, string source)
    {
        var layerBytes = JsonSerializer.SerializeToUtf8Bytes(layer, CoreJsonContext.Default.SlackerImageLayer);
        var layerDigest = Digest.Compute(layerBytes);
        var history = (original.History ?? []).Select(h => h with { EmptyLayer = true }).ToList();
        history.Add(new OciHistory
        {
            Created = original.Created,
            CreatedBy = $"slacker import {source}",
            Comment = $"all layers flattened into snapshot {layer.Snapshot}",
        });
        var config = original with
        {
            RootFs = new OciRootFs { DiffIds = [layerDigest.ToString()] },
            History = history,
        };
        var configBytes = ImageConfigDocument.Serialize(config);
        var manifest = new OciManifest
        {
            MediaType = MediaTypes.OciManifest,
            Config = new OciDescriptor { MediaType = MediaTypes.OciConfig, Digest = Digest.Compute(configBytes).ToString(), Size = configBytes.Length },
            Layers = [new OciDescriptor { MediaType = SlackerImageLayer.MediaType, Digest = layerDigest.ToString(), Size = layerBytes.Length }],
            Annotations = new Dictionary<string, string> { [SnapshotAnnotation] = layer.Snapshot },
        };
        return new SlackerImage(configBytes, layerBytes, JsonSerializer.SerializeToUtf8Bytes(manifest, ImagesJsonContext.Default.OciManifest));
    }

    /// <summary>An existing Slacker image from its exact bytes (as stored in a registry or the local store).</summary>
    public static SlackerImage FromParts(byte[] config, byte[] layer, byte[] manifest) => new(config, layer, manifest);

    /// <summary>Recognises a Slacker image among manifests; null (with the reason) for anything else.</summary>
    public static SlackerImageLayer? TryReadLayer(ManifestDocument manifest, Func<OciDescriptor, byte[]> readBlob, out string? why)
    {
        why = null;
        if (manifest.Manifest is not { Layers: { Count: 1 } layers } || layers[0].MediaType != SlackerImageLayer.MediaType)
        {
            why = manifest.IsIndex
                ? "it is an index of several images, not a Slacker image"
                : $"its layers are standard ({string.Join(", ", manifest.Manifest!.Layers!.Select(l => l.MediaType).Distinct())}), not a Slacker snapshot; convert it first ('slacker convert')";
            return null;
        }

        if (layers[0].Size > 64 * 1024)
        {
            why = $"its snapshot layer claims {layers[0].Size} bytes; a Slacker layer is a small JSON document";
            return null;
        }

        var bytes = readBlob(layers[0]);
        if (!Digest.Parse(layers[0].Digest).Matches(bytes))
        {
            why = $"its snapshot layer does not hash to {layers[0].Digest}";
            return null;
        }

        try
        {
            var layer = JsonSerializer.Deserialize(bytes, CoreJsonContext.Default.SlackerImageLayer);
            if (layer is null || !Digest.TryParse(layer.Snapshot, out _) || ChunkGeometry.Validate(layer.Size, layer.ChunkSize) is not null)
            {
                why = "its snapshot layer does not name a valid snapshot and geometry";
                return null;
            }

            return layer;
        }
        catch (JsonException e)
        {
            why = $"its snapshot layer is not valid JSON ({e.Message})";
            return null;
        }
    }
}
