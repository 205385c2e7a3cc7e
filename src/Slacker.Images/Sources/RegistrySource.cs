using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Oci;

namespace Slacker.Images.Sources;

/// <summary>
/// An image in any registry (<c>docker://</c>). Each blob is downloaded once into a private temp directory,
/// verified on the way, and served from there; the directory goes when the source is disposed.
/// </summary>
public sealed class RegistrySource : IImageSource
{
    private readonly RegistryReference _reference;
    private readonly ImageSourceOptions _options;
    private readonly RegistryClient _client;
    private readonly string _blobDirectory;
    private readonly SemaphoreSlim _download = new(1, 1);

    public RegistrySource(RegistryReference reference, ImageSourceOptions options)
    {
        _reference = reference;
        _options = options;
        _client = RegistryClient.For(reference, options.HttpHandler);
        _blobDirectory = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "slacker-pull-" + Guid.NewGuid().ToString("N"));
        Description = "docker://" + reference;
    }

    public string Description { get; }

    public async Task<SourceImage> ResolveAsync(CancellationToken cancellationToken = default)
    {
        var document = await _client.GetManifestAsync(_reference.Repository, _reference.Reference, cancellationToken).ConfigureAwait(false);
        if (document.IsIndex)
        {
            var chosen = PlatformSelector.Choose(document.Index!, _options.Platform, Description);
            document = await _client.GetManifestAsync(_reference.Repository, chosen.Digest, cancellationToken).ConfigureAwait(false);
            if (document.IsIndex)
            {
                throw new ImageFormatException($"{Description}: the index names another index; nested indexes are not supported.");
            }
        }

        var config = document.Manifest!.Config!;
        if (config.Size > 64 << 20)
        {
            throw new ImageFormatException($"{Description}: the config claims {config.Size} bytes; over 64 MiB is refused.");
        }

        await using var stream = await OpenBlobAsync(config, cancellationToken).ConfigureAwait(false);
        var bytes = new byte[config.Size];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        return new SourceImage(document, ImageConfigDocument.Parse(bytes)) { SourceTags = [_reference.ToString()] };
    }

    public async Task<Stream> OpenBlobAsync(OciDescriptor descriptor, CancellationToken cancellationToken = default)
    {
        var digest = ManifestDocument.ValidateDescriptor(descriptor, descriptor.Digest);
        var path = Path.Combine(_blobDirectory, digest.Hex);
        await _download.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (!File.Exists(path))
            {
                await DownloadAsync(descriptor, digest, path, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _download.Release();
        }

        // Verified again on every read: the temp file is ours, but the check is cheap next to the work it guards.
        return new VerifyingReadStream(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan),
            digest, descriptor.Size, $"{Description} blob {digest}");
    }

    private async Task DownloadAsync(OciDescriptor descriptor, Digest digest, string path, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_blobDirectory);
        var partial = path + ".partial";
        try
        {
            await using (var remote = await _client.OpenBlobAsync(_reference.Repository, digest, cancellationToken).ConfigureAwait(false))
            await using (var verifying = new VerifyingReadStream(remote, digest, descriptor.Size, $"{Description} blob {digest}"))
            await using (var file = File.Create(partial))
            {
                await verifying.CopyToAsync(file, cancellationToken).ConfigureAwait(false);
            }

            File.Move(partial, path);
        }
        finally
        {
            File.Delete(partial);
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _download.Dispose();
        if (Directory.Exists(_blobDirectory))
        {
            Directory.Delete(_blobDirectory, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
