using Slacker.Images.Oci;

namespace Slacker.Images.Sources;

/// <summary>
/// Where a standard image comes from (docker-archive, oci layout, registry). Every blob stream it hands out is
/// checked against its descriptor: reading it to the end throws if the size or SHA-256 does not match.
/// </summary>
public interface IImageSource : IAsyncDisposable
{
    /// <summary>The source as the user wrote it, for messages.</summary>
    string Description { get; }

    Task<SourceImage> ResolveAsync(CancellationToken cancellationToken = default);

    Task<Stream> OpenBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken = default);
}

/// <summary>One resolved image: its manifest, its config and the layers to apply bottom-up.</summary>
public sealed record SourceImage(ManifestDocument Manifest, ImageConfigDocument Config)
{
    public IReadOnlyList<OciDescriptor> Layers => Manifest.Manifest!.Layers!;

    /// <summary>Tags the source itself records (docker save RepoTags, an OCI layout ref name), for messages.</summary>
    public IReadOnlyList<string> SourceTags { get; init; } = [];
}
