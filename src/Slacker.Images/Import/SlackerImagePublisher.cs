using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;

namespace Slacker.Images.Import;

/// <summary>Writes a Slacker image (config, snapshot layer, manifest) to a registry under a tag.</summary>
public static class SlackerImagePublisher
{
    public static async Task<Digest> PublishAsync(RegistryClient registry, string repository, string tag, SlackerImage image, CancellationToken cancellationToken = default)
    {
        await registry.PushBlobAsync(repository, Digest.Compute(image.ConfigBytes), image.ConfigBytes.Length, () => new MemoryStream(image.ConfigBytes), cancellationToken).ConfigureAwait(false);
        await registry.PushBlobAsync(repository, Digest.Compute(image.LayerBytes), image.LayerBytes.Length, () => new MemoryStream(image.LayerBytes), cancellationToken).ConfigureAwait(false);
        return await registry.PutManifestAsync(repository, tag, image.ManifestBytes, MediaTypes.OciManifest, cancellationToken).ConfigureAwait(false);
    }
}
