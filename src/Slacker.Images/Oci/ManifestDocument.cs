using System.Text.Json;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Images.Oci;

/// <summary>
/// A manifest or index exactly as stored (its bytes define its digest), with the parsed and validated form.
/// Parsing is strict: an unknown media type, a missing field or a malformed digest is an error that names it.
/// </summary>
public sealed class ManifestDocument
{
    private ManifestDocument(string mediaType, byte[] bytes, OciManifest? manifest, OciIndex? index)
    {
        MediaType = mediaType;
        Bytes = bytes;
        Digest = Digest.Compute(bytes);
        Manifest = manifest;
        Index = index;
    }

    public string MediaType { get; }

    public byte[] Bytes { get; }

    public Digest Digest { get; }

    public OciManifest? Manifest { get; }

    public OciIndex? Index { get; }

    public bool IsIndex => Index is not null;

    /// <summary>The blobs (config, layers) or manifests this document names, plus its subject.</summary>
    public IReadOnlyList<OciDescriptor> References
    {
        get
        {
            var list = new List<OciDescriptor>();
            if (Manifest is { } m)
            {
                list.Add(m.Config!);
                list.AddRange(m.Layers!);
            }
            else
            {
                list.AddRange(Index!.Manifests!);
            }

            return list;
        }
    }

    public OciDescriptor? Subject => Manifest?.Subject ?? Index?.Subject;

    public string? ArtifactType => Manifest is { } m ? m.ArtifactType ?? m.Config?.MediaType : Index?.ArtifactType;

    public OciDescriptor ToDescriptor() => new() { MediaType = MediaType, Digest = Digest.ToString(), Size = Bytes.Length };

    /// <summary>Parses a manifest or index. <paramref name="contentType"/> is the HTTP Content-Type, used when the document has no mediaType.</summary>
    public static ManifestDocument Parse(byte[] bytes, string? contentType = null)
    {
        ManifestProbe probe;
        try
        {
            probe = JsonSerializer.Deserialize(bytes, ImagesJsonContext.Default.ManifestProbe)
                ?? throw new ImageFormatException("The manifest is JSON null: send an OCI image manifest or index.");
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"The manifest cannot be read as an OCI manifest or index: it is not a JSON object of that shape ({e.Message}).", e);
        }

        var mediaType = probe.MediaType;
        if (string.IsNullOrEmpty(mediaType))
        {
            mediaType = ImageMediaTypes.IsManifestOrIndex(contentType)
                ? contentType!
                : probe.Manifests is not null ? MediaTypes.OciIndex : MediaTypes.OciManifest;
        }

        if (mediaType is ImageMediaTypes.DockerManifestSchema1 or ImageMediaTypes.DockerManifestSchema1Signed || probe.SchemaVersion == 1)
        {
            throw new ImageFormatException("Docker image manifest schema 1 is not supported: re-push the image with a current docker, podman or skopeo (schema 2 / OCI).");
        }

        if (!ImageMediaTypes.IsManifestOrIndex(mediaType))
        {
            throw new ImageFormatException($"Unknown manifest media type '{mediaType}': expected {MediaTypes.OciManifest}, {MediaTypes.OciIndex}, {MediaTypes.DockerManifest} or {MediaTypes.DockerManifestList}.");
        }

        if (probe.SchemaVersion != 2)
        {
            throw new ImageFormatException($"The manifest has schemaVersion {(probe.SchemaVersion?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing")}: it must be 2.");
        }

        try
        {
            if (ImageMediaTypes.IsIndex(mediaType))
            {
                var index = JsonSerializer.Deserialize(bytes, ImagesJsonContext.Default.OciIndex)!;
                if (index.Manifests is null)
                {
                    throw new ImageFormatException("The image index has no 'manifests' field: an index must list its manifests (the list may be empty).");
                }

                for (var i = 0; i < index.Manifests.Count; i++)
                {
                    ValidateDescriptor(index.Manifests[i], $"manifests[{i}]");
                }

                ValidateOptional(index.Subject, "subject");
                return new ManifestDocument(mediaType, bytes, null, index);
            }

            var manifest = JsonSerializer.Deserialize(bytes, ImagesJsonContext.Default.OciManifest)!;
            if (manifest.Config is null)
            {
                throw new ImageFormatException("The image manifest has no 'config' descriptor: every image manifest names its config blob.");
            }

            if (manifest.Layers is null)
            {
                throw new ImageFormatException("The image manifest has no 'layers' field: list the layers (an empty list is allowed for artifacts).");
            }

            ValidateDescriptor(manifest.Config, "config");
            for (var i = 0; i < manifest.Layers.Count; i++)
            {
                ValidateDescriptor(manifest.Layers[i], $"layers[{i}]");
            }

            ValidateOptional(manifest.Subject, "subject");
            return new ManifestDocument(mediaType, bytes, manifest, null);
        }
        catch (JsonException e)
        {
            throw new ImageFormatException($"The {mediaType} document does not have the expected shape ({e.Message}).", e);
        }
    }

    private static void ValidateOptional(OciDescriptor? descriptor, string where)
    {
        if (descriptor is not null)
        {
            ValidateDescriptor(descriptor, where);
        }
    }

    /// <summary>Checks one descriptor; <paramref name="where"/> names it in the error (e.g. "layers[2]").</summary>
    public static Digest ValidateDescriptor(OciDescriptor descriptor, string where)
    {
        if (!ImageMediaTypes.IsWellFormed(descriptor.MediaType))
        {
            throw new ImageFormatException($"Descriptor {where} has media type '{descriptor.MediaType}', which is not of the form type/subtype.");
        }

        if (descriptor.Size < 0)
        {
            throw new ImageFormatException($"Descriptor {where} has a negative size {descriptor.Size}.");
        }

        return ParseDigest(descriptor.Digest, $"descriptor {where}");
    }

    /// <summary>Parses a digest field, saying which one was bad and why.</summary>
    public static Digest ParseDigest(string? text, string where)
    {
        if (Digest.TryParse(text, out var digest))
        {
            return digest;
        }

        var hint = text is not null && text.Contains(':', StringComparison.Ordinal) && !text.StartsWith(Digest.Prefix, StringComparison.Ordinal)
            ? " Only sha256 digests are supported."
            : "";
        throw new ImageFormatException($"The digest '{text}' of {where} is malformed: expected 'sha256:' and 64 lowercase hex digits.{hint}");
    }
}
