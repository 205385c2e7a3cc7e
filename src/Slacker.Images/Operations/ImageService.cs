using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Images.Distribution;
using Slacker.Images.Import;
using Slacker.Images.Oci;
using Slacker.Images.Store;

namespace Slacker.Images.Operations;

/// <summary>Where an image was found: this node's store, or a registry (and which one).</summary>
public sealed record ResolvedImage(ImageName Name, SlackerImage Image, string Origin);

/// <summary>
/// pull, push, tag, rmi and inspect over the local image store, the default server (its registry and block
/// store) and any other OCI registry. A Slacker image is three small documents, so every one of these costs
/// the same whatever the image's size.
/// </summary>
public sealed class ImageService(Uri server, LocalImageStore local, HttpMessageHandler? handler = null)
{
    public Uri Server { get; } = server;

    public LocalImageStore Local { get; } = local;

    /// <summary>The registry of the Slacker server (cluster) this service stores images in.</summary>
    public RegistryClient ServerRegistry() => new(Server, handler);

    public RegistryClient RegistryFor(ImageName name) =>
        name.IsOnDefaultServer ? ServerRegistry() : RegistryClient.For(RegistryReference.Parse(name + ""), handler);

    public BlockStoreClient BlocksFor(SlackerImageLayer layer, out HttpClient http)
    {
        http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        http.BaseAddress = layer.Server is { } other ? new Uri(other.EndsWith('/') ? other : other + "/") : Server;
        http.Timeout = TimeSpan.FromMinutes(10);
        return new BlockStoreClient(http);
    }

    /// <summary>Reads a Slacker image from the registry that <paramref name="name"/> names.</summary>
    public async Task<ResolvedImage> FetchAsync(ImageName name, CancellationToken cancellationToken = default)
    {
        using var registry = RegistryFor(name);
        var manifest = await registry.GetManifestAsync(name.Repository, name.Tag, cancellationToken).ConfigureAwait(false);
        if (manifest.IsIndex)
        {
            var chosen = Sources.PlatformSelector.Choose(manifest.Index!, null, name.ToString());
            manifest = await registry.GetManifestAsync(name.Repository, chosen.Digest, cancellationToken).ConfigureAwait(false);
        }

        var blobs = new Dictionary<string, byte[]>();
        foreach (var descriptor in manifest.Manifest?.Layers?.Take(1).Append(manifest.Manifest.Config!) ?? [])
        {
            if (descriptor.Size <= 4 << 20)
            {
                blobs[descriptor.Digest] = await ReadBlobAsync(registry, name.Repository, descriptor, cancellationToken).ConfigureAwait(false);
            }
        }

        var layer = SlackerImage.TryReadLayer(manifest, d => blobs.GetValueOrDefault(d.Digest) ?? [], out var why)
            ?? throw new ImageFormatException($"{name} is not a Slacker image: {why}.");
        var config = blobs.GetValueOrDefault(manifest.Manifest!.Config!.Digest)
            ?? throw new ImageFormatException($"{name}: the config blob is missing or too large.");
        ImageConfigDocument.Parse(config);
        return new ResolvedImage(name, SlackerImage.FromParts(config, blobs[manifest.Manifest.Layers![0].Digest], manifest.Bytes), registry.BaseUri.ToString());
    }

    /// <summary>This node's copy if it has one, else the registry's.</summary>
    public async Task<ResolvedImage> ResolveAsync(ImageName name, CancellationToken cancellationToken = default)
    {
        if (Local.Find(name.ToString()) is { } image)
        {
            return new ResolvedImage(name, Local.ReadImage(image), "local");
        }

        return await FetchAsync(name, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Pull: resolve the manifest, check that it is a Slacker image and that its snapshot exists on the server
    /// holding its chunks, and record it in the local store. No chunk moves; the node fetches them on first read.
    /// </summary>
    public async Task<ResolvedImage> PullAsync(ImageName name, CancellationToken cancellationToken = default)
    {
        var resolved = await FetchAsync(name, cancellationToken).ConfigureAwait(false);
        var blocks = BlocksFor(resolved.Image.Layer, out var http);
        using (http)
        {
            try
            {
                await blocks.GetSnapshotAsync(resolved.Image.Snapshot, cancellationToken).ConfigureAwait(false);
            }
            catch (BlockStoreException e) when (e.StatusCode == 404)
            {
                throw new ImageFormatException($"{name} names snapshot {resolved.Image.Snapshot}, which the server {http.BaseAddress} does not have: the image was deleted there, or was pushed to this registry from another Slacker server.");
            }
        }

        await Local.AddAsync(name.ToString(), resolved.Image, cancellationToken).ConfigureAwait(false);
        return resolved;
    }

    /// <summary>
    /// Push: write the image's manifest, config and snapshot layer to the registry its name designates. On a
    /// foreign registry the layer records this server's address, so that pullers know where the chunks are.
    /// </summary>
    public async Task<Digest> PushAsync(ImageName name, CancellationToken cancellationToken = default)
    {
        var source = Local.Find(name.ToString()) is { } local
            ? Local.ReadImage(local)
            : name.IsOnDefaultServer
                ? (await FetchAsync(name, cancellationToken).ConfigureAwait(false)).Image
                : throw new ArgumentException($"There is no local image {name}: tag one first ('slacker tag SOURCE {name}').");

        var image = !name.IsOnDefaultServer && source.Layer.Server is null
            ? Retarget(source, source.Layer with { Server = Server.ToString() })
            : source;

        using var registry = RegistryFor(name);
        return await SlackerImagePublisher.PublishAsync(registry, name.Repository, name.Tag, image, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The same image with a different snapshot layer document (its config's diff_id follows).</summary>
    private static SlackerImage Retarget(SlackerImage source, SlackerImageLayer layer)
    {
        var history = source.Config.Config.History ?? [];
        var original = source.Config.Config with { History = history.Take(Math.Max(0, history.Count - 1)).ToList() };
        var sourceName = (history.Count > 0 ? history[^1].CreatedBy : null)?.Replace("slacker import ", "", StringComparison.Ordinal) ?? "";
        return SlackerImage.Create(original, layer, sourceName);
    }

    /// <summary>docker tag: a second local name for an image (from this node or from the default server).</summary>
    public async Task TagAsync(ImageName source, ImageName target, CancellationToken cancellationToken = default)
    {
        var resolved = await ResolveAsync(source, cancellationToken).ConfigureAwait(false);
        await Local.AddAsync(target.ToString(), resolved.Image, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes the local name; with <paramref name="fromRegistry"/> also deletes the tag in the registry and,
    /// when no tag there names the manifest any more, the manifest, which lets gc reclaim the snapshot.
    /// </summary>
    public async Task<(bool Local, bool Registry)> RemoveAsync(ImageName name, bool fromRegistry, CancellationToken cancellationToken = default)
    {
        var removedLocal = await Local.RemoveAsync(name.ToString(), cancellationToken).ConfigureAwait(false);
        var removedRemote = false;
        if (fromRegistry)
        {
            using var registry = RegistryFor(name);
            var manifest = await registry.TryGetManifestAsync(name.Repository, name.Tag, cancellationToken).ConfigureAwait(false);
            if (manifest is not null)
            {
                await registry.DeleteManifestAsync(name.Repository, name.Tag, cancellationToken).ConfigureAwait(false);
                var stillTagged = false;
                foreach (var tag in await registry.ListTagsAsync(name.Repository, cancellationToken).ConfigureAwait(false))
                {
                    if ((await registry.TryGetManifestAsync(name.Repository, tag, cancellationToken).ConfigureAwait(false))?.Digest == manifest.Digest)
                    {
                        stillTagged = true;
                        break;
                    }
                }

                if (!stillTagged)
                {
                    await registry.DeleteManifestAsync(name.Repository, manifest.Digest.ToString(), cancellationToken).ConfigureAwait(false);
                }

                removedRemote = true;
            }
        }

        return (removedLocal, removedRemote);
    }

    private static async Task<byte[]> ReadBlobAsync(RegistryClient registry, string repository, OciDescriptor descriptor, CancellationToken cancellationToken)
    {
        await using var stream = new Sources.VerifyingReadStream(
            await registry.OpenBlobAsync(repository, Digest.Parse(descriptor.Digest), cancellationToken).ConfigureAwait(false),
            Digest.Parse(descriptor.Digest), descriptor.Size, $"{repository} blob {descriptor.Digest}");
        var bytes = new byte[descriptor.Size];
        await stream.ReadExactlyAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.DrainAndVerifyAsync(cancellationToken).ConfigureAwait(false);
        return bytes;
    }
}
