using Slacker.Images.Export;

namespace Slacker.Bench.Oci;

/// <summary>An image in an OCI image layout directory, addressed as <c>oci:PATH:TAG</c> by skopeo, podman and slacker.</summary>
public sealed record OciLayoutRef(string Path, string Tag)
{
    /// <summary>Digest of the image manifest.</summary>
    public required string ManifestDigest { get; init; }

    /// <summary>The layers, base first.</summary>
    public required IReadOnlyList<LayerBlob> Layers { get; init; }

    /// <summary>What a pull downloads: the gzip layers plus config and manifest are negligible.</summary>
    public long CompressedBytes => Layers.Sum(l => l.Size);

    /// <summary>The image's file data as tar: roughly what a flattened file system holds.</summary>
    public long UncompressedBytes => Layers.Sum(l => l.UncompressedSize);

    public string Reference => $"oci:{Path}:{Tag}";

    public override string ToString() => Reference;
}
