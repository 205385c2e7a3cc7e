using System.Text.Json;
using Slacker.Images.Oci;

namespace Slacker.Images.Sources;

/// <summary>
/// An OCI image layout directory (oci-layout, index.json, blobs/sha256/HEX). <c>REF</c> selects the manifest
/// whose <c>org.opencontainers.image.ref.name</c> annotation matches; with no REF the layout must hold one image.
/// </summary>
public sealed class OciLayoutSource : IImageSource
{
    public const string RefNameAnnotation = "org.opencontainers.image.ref.name";

    private readonly string _root;
    private readonly string? _reference;
    private readonly ImageSourceOptions _options;

    public OciLayoutSource(string root, string? reference, ImageSourceOptions options)
    {
        _root = root;
        _reference = reference;
        _options = options;
        Description = "oci:" + root + (reference is null ? "" : ":" + reference);
    }

    public string Description { get; }

    public async Task<SourceImage> ResolveAsync(CancellationToken cancellationToken = default)
    {
        if (!File.Exists(Path.Combine(_root, "oci-layout")))
        {
            throw new ImageFormatException($"{Description}: there is no oci-layout file; the directory is not an OCI image layout (create one with 'skopeo copy ... oci:{_root}:TAG').");
        }

        var indexBytes = await File.ReadAllBytesAsync(Path.Combine(_root, "index.json"), cancellationToken).ConfigureAwait(false);
        var index = ManifestDocument.Parse(indexBytes, Core.Api.MediaTypes.OciIndex);
        if (!index.IsIndex)
        {
            throw new ImageFormatException($"{Description}: index.json is not an image index.");
        }

        var manifests = index.Index!.Manifests!;
        var chosen = _reference is null
            ? manifests.Count == 1
                ? manifests[0]
                : throw new ImageFormatException($"{Description} holds {manifests.Count} images: add :REF, one of {string.Join(", ", manifests.Select(RefName))}.")
            : manifests.FirstOrDefault(m => RefName(m) == _reference)
                ?? throw new ImageFormatException($"{Description}: no image has ref name '{_reference}'; the layout has {string.Join(", ", manifests.Select(RefName))}.");

        var document = await ReadManifestAsync(chosen, cancellationToken).ConfigureAwait(false);
        if (document.IsIndex)
        {
            document = await ReadManifestAsync(PlatformSelector.Choose(document.Index!, _options.Platform, Description), cancellationToken).ConfigureAwait(false);
        }

        if (document.IsIndex)
        {
            throw new ImageFormatException($"{Description}: an index inside an index inside index.json is not supported.");
        }

        var configDescriptor = document.Manifest!.Config!;
        var configBytes = await ReadSmallBlobAsync(configDescriptor, cancellationToken).ConfigureAwait(false);
        return new SourceImage(document, ImageConfigDocument.Parse(configBytes)) { SourceTags = _reference is null ? [] : [_reference] };
    }

    private static string RefName(OciDescriptor descriptor) => descriptor.Annotations?.GetValueOrDefault(RefNameAnnotation) ?? descriptor.Digest;

    private async Task<ManifestDocument> ReadManifestAsync(OciDescriptor descriptor, CancellationToken cancellationToken)
    {
        var bytes = await ReadSmallBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
        return ManifestDocument.Parse(bytes, descriptor.MediaType);
    }

    private async Task<byte[]> ReadSmallBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken)
    {
        if (descriptor.Size > 64 << 20)
        {
            throw new ImageFormatException($"{Description}: {descriptor.MediaType} {descriptor.Digest} claims {descriptor.Size} bytes; a JSON document over 64 MiB is refused.");
        }

        await using var stream = await OpenBlobAsync(descriptor, cancellationToken).ConfigureAwait(false);
        var bytes = new byte[descriptor.Size];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        await ((VerifyingReadStream)stream).DrainAndVerifyAsync(cancellationToken).ConfigureAwait(false);
        return bytes;
    }

    public Task<Stream> OpenBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken = default)
    {
        var digest = ManifestDocument.ValidateDescriptor(descriptor, descriptor.Digest);
        var path = Path.Combine(_root, "blobs", "sha256", digest.Hex);
        if (!File.Exists(path))
        {
            throw new ImageFormatException($"{Description}: blob {digest} ({descriptor.MediaType}) is missing from blobs/sha256; the layout is incomplete.");
        }

        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        return Task.FromResult<Stream>(new VerifyingReadStream(file, digest, descriptor.Size, $"{Description} blob {digest}"));
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
