using Slacker.Images.Distribution;

namespace Slacker.Images.Sources;

public sealed record ImageSourceOptions
{
    /// <summary>Which image of a multi-platform index to take; null means this machine's linux platform.</summary>
    public string? Platform { get; init; }

    /// <summary>Speak plain http to the registry even when it is not on localhost.</summary>
    public bool Insecure { get; init; }

    /// <summary>Where a registry source keeps the blobs it downloaded; deleted when the source is disposed.</summary>
    public string? TempDirectory { get; init; }

    public HttpMessageHandler? HttpHandler { get; init; }
}

public static class ImageSources
{
    public static IImageSource Open(string source, ImageSourceOptions? options = null) =>
        Open(ImageSourceReference.Parse(source), options ?? new ImageSourceOptions());

    public static IImageSource Open(ImageSourceReference reference, ImageSourceOptions options) => reference.Transport switch
    {
        ImageTransport.DockerArchive => DockerArchiveSource.Open(reference.Path, reference.Reference, options),
        ImageTransport.OciLayout => new OciLayoutSource(reference.Path, reference.Reference, options),
        _ => new RegistrySource(RegistryReference.Parse(reference.Path, options.Insecure), options),
    };
}
