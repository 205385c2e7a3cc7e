using Slacker.Core.Api;

namespace Slacker.Images.Oci;

/// <summary>Media types beyond <see cref="MediaTypes"/> that image import, export and the registry must tell apart.</summary>
public static class ImageMediaTypes
{
    public const string DockerManifestSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerManifestSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string DockerLayerTar = "application/vnd.docker.image.rootfs.diff.tar";
    public const string DockerLayerZstd = "application/vnd.docker.image.rootfs.diff.tar.zstd";
    public const string DockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public const string OciNondistributableTar = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public const string OciNondistributableGzip = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public const string OciNondistributableZstd = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    public const string OciEmpty = "application/vnd.oci.empty.v1+json";

    public static bool IsImageManifest(string? mediaType) =>
        mediaType is MediaTypes.OciManifest or MediaTypes.DockerManifest;

    public static bool IsIndex(string? mediaType) =>
        mediaType is MediaTypes.OciIndex or MediaTypes.DockerManifestList;

    public static bool IsManifestOrIndex(string? mediaType) => IsImageManifest(mediaType) || IsIndex(mediaType);

    /// <summary>A file-system layer that import can apply: a tar stream, maybe compressed.</summary>
    public static bool IsLayer(string mediaType) => mediaType is
        MediaTypes.OciLayerTar or MediaTypes.OciLayerTarGzip or MediaTypes.OciLayerTarZstd or
        MediaTypes.DockerLayerTarGzip or DockerLayerTar or DockerLayerZstd;

    public static bool IsForeignLayer(string mediaType) => mediaType is
        DockerForeignLayer or OciNondistributableTar or OciNondistributableGzip or OciNondistributableZstd;

    public static bool IsConfig(string mediaType) => mediaType is MediaTypes.OciConfig or MediaTypes.DockerConfig;

    /// <summary>RFC 6838 shape "type/subtype" with the characters the OCI spec allows; rejects empty and odd strings.</summary>
    public static bool IsWellFormed(string? mediaType)
    {
        if (string.IsNullOrEmpty(mediaType) || mediaType.Length > 255)
        {
            return false;
        }

        var slash = mediaType.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == mediaType.Length - 1 || mediaType.IndexOf('/', slash + 1) >= 0)
        {
            return false;
        }

        foreach (var c in mediaType)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '+' or '-' or '_' or '!' or '#' or '$' or '&' or '^'))
            {
                return false;
            }
        }

        return true;
    }
}
