using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Images.Oci;

/// <summary>
/// Writes an OCI image layout directory (oci-layout, index.json, blobs/sha256/HEX) holding one image, named in
/// index.json by its <c>org.opencontainers.image.ref.name</c> annotation, as skopeo, podman and
/// <c>slacker import oci:DIR:REF</c> read it.
/// </summary>
public static class OciLayoutWriter
{
    /// <summary>The layout's blob store: layer writers put their blobs in its sha256/ before <see cref="Write"/>.</summary>
    public static string BlobStore(string layoutDir) => Path.Combine(layoutDir, "blobs");

    /// <summary>
    /// Writes the config and the manifest as blobs, then index.json and oci-layout. The layer blobs named by
    /// <paramref name="layers"/> must already be in <see cref="BlobStore"/>. Returns the manifest's descriptor.
    /// </summary>
    public static OciDescriptor Write(string layoutDir, string refName, byte[] config, IReadOnlyList<OciDescriptor> layers)
    {
        var configDescriptor = WriteBlob(layoutDir, MediaTypes.OciConfig, config);
        var manifest = new OciManifest { MediaType = MediaTypes.OciManifest, Config = configDescriptor, Layers = layers };
        var manifestDescriptor = WriteBlob(layoutDir, MediaTypes.OciManifest, JsonSerializer.SerializeToUtf8Bytes(manifest, ImagesJsonContext.Default.OciManifest));
        var index = new OciIndex
        {
            MediaType = MediaTypes.OciIndex,
            Manifests = [manifestDescriptor with { Annotations = new Dictionary<string, string> { [Sources.OciLayoutSource.RefNameAnnotation] = refName } }],
        };
        File.WriteAllBytes(Path.Combine(layoutDir, "index.json"), JsonSerializer.SerializeToUtf8Bytes(index, ImagesJsonContext.Default.OciIndex));
        File.WriteAllBytes(Path.Combine(layoutDir, "oci-layout"), JsonSerializer.SerializeToUtf8Bytes(new OciLayoutMarker(), ImagesJsonContext.Default.OciLayoutMarker));
        return manifestDescriptor;
    }

    /// <summary>Stores <paramref name="content"/> under its digest and returns its descriptor.</summary>
    public static OciDescriptor WriteBlob(string layoutDir, string mediaType, byte[] content)
    {
        var digest = Digest.Compute(content);
        var blobs = Path.Combine(BlobStore(layoutDir), "sha256");
        Directory.CreateDirectory(blobs);
        File.WriteAllBytes(Path.Combine(blobs, digest.Hex), content);
        return new OciDescriptor { MediaType = mediaType, Digest = digest.ToString(), Size = content.Length };
    }
}
