using System.Text.Json;
using Slacker.Core.Model;

namespace Slacker.Images.Oci;

/// <summary>An image config blob: its exact bytes (they define its digest) and the strictly validated form.</summary>
public sealed class ImageConfigDocument
{
    private ImageConfigDocument(byte[] bytes, OciImageConfig config)
    {
        Bytes = bytes;
        Config = config;
        Digest = Digest.Compute(bytes);
    }

    public byte[] Bytes { get; }

    public OciImageConfig Config { get; }

    public Digest Digest { get; }

    public IReadOnlyList<Digest> DiffIds =>
        Config.RootFs!.DiffIds.Select((d, i) => ManifestDocument.ParseDigest(d, $"config rootfs.diff_ids[{i}]")).ToArray();

    public static ImageConfigDocument Parse(byte[] bytes)
    {
        OciImageConfig config;
        try
        {
            config = JsonSerializer.Deserialize(bytes, ImagesJsonContext.Default.OciImageConfig)
                ?? throw new ImageFormatException("The image config is JSON null.");
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"The image config is not a valid OCI image config ({e.Message}).", e);
        }

        if (string.IsNullOrEmpty(config.Architecture) || string.IsNullOrEmpty(config.Os))
        {
            throw new ImageFormatException("The image config lacks 'architecture' or 'os': both are required by the OCI image spec.");
        }

        if (config.RootFs is null || config.RootFs.Type != "layers")
        {
            throw new ImageFormatException($"The image config's rootfs type is '{config.RootFs?.Type ?? "missing"}': it must be 'layers'.");
        }

        for (var i = 0; i < config.RootFs.DiffIds.Count; i++)
        {
            ManifestDocument.ParseDigest(config.RootFs.DiffIds[i], $"config rootfs.diff_ids[{i}]");
        }

        return new ImageConfigDocument(bytes, config);
    }

    public static byte[] Serialize(OciImageConfig config) =>
        JsonSerializer.SerializeToUtf8Bytes(config, ImagesJsonContext.Default.OciImageConfig);
}
