using System.Collections.Concurrent;
using System.Net.Http;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Node.Attach;
using Slacker.Node.Containers;
using Slacker.Node.Volumes;

namespace Slacker.Node.Agent;

/// <summary>
/// Container roots on the Slacker data path: each container is a new clone of its image's snapshot (O(1) on the
/// server), attached lazily (FUSE file -> loop -> ext4). Its writes stay on the node as the clone's dirty
/// chunks until commit.
/// </summary>
public sealed class LazyRootProvider(
    NodeStorage storage,
    VolumeAttacher attacher,
    BlockStoreClient server,
    IImageResolver images,
    ContainerStore store,
    ILogger logger) : IContainerRootProvider, IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, AttachedVolume> _attached = new(StringComparer.Ordinal);

    public async Task<ImageRunConfig> PrepareAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var image = await images.ResolveAsync(record.Config.Image, cancellationToken);
        await SaveImageAsync(record.Id, image, cancellationToken);
        var clone = await ServerCallAsync(() => server.CloneAsync(Digest.Parse(image.Snapshot), $"container {record.Name}", cancellationToken));
        record.ImageId = image.ImageId;
        record.ImageSnapshot = image.Snapshot;
        record.VolumeId = clone.Id;
        return image.Config;
    }

    public async Task<string> AttachAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var volumeId = record.VolumeId ?? throw new InvalidOperationException($"Container {record.ShortId} has no volume.");
        var attached = await ServerCallAsync(() => attacher.AttachAsync(volumeId, readOnly: false, cancellationToken));
        _attached[record.Id] = attached;
        return attached.MountPath;
    }

    public async Task DetachAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        if (_attached.TryGetValue(record.Id, out var attached))
        {
            // The figures live in memory with the volume; keep the last ones for `stats` on an exited container,
            // written before the volume leaves the table so that `stats` always finds one or the other.
            await File.WriteAllBytesAsync(StatsFileOf(record.Id),
                JsonSerializer.SerializeToUtf8Bytes(attached.Volume.StatsSnapshot(), AgentJsonContext.Default.VolumeStatsSnapshot), cancellationToken);
            if (_attached.TryRemove(new KeyValuePair<string, AttachedVolume>(record.Id, attached)))
            {
                await Task.Run(attached.Detach, CancellationToken.None);
            }
        }
    }

    public async Task RemoveAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        await DetachAsync(record, cancellationToken);
        if (record.VolumeId is null)
        {
            return;
        }

        var local = storage.Paths.VolumeDirectory(record.VolumeId);
        if (Directory.Exists(local))
        {
            Directory.Delete(local, recursive: true);
        }

        try
        {
            await server.DeleteVolumeAsync(record.VolumeId, cancellationToken);
        }
        catch (Exception e) when (e is BlockStoreException or HttpRequestException)
        {
            // The clone stays on the server until a later gc finds no one uses it; the node is clean already.
            logger.LogWarning("Could not delete volume {Volume} of container {Id} on the server: {Error}", record.VolumeId, record.ShortId, e.Message);
        }
    }

    public Task CleanupStaleAsync(CancellationToken cancellationToken)
    {
        var cleaned = attacher.CleanupStale();
        logger.LogInformation("Stale cleanup under {Root}: {Cleanup}", storage.Paths.Mounts, cleaned);
        return Task.CompletedTask;
    }

    public bool IsAttached(string containerId) => _attached.ContainsKey(containerId);

    public int AttachedCount => _attached.Count;

    /// <summary>
    /// Snapshots the container's clone: only its dirty chunks that the server lacks are uploaded, so the cost grows
    /// with what the container changed. A running container's ext4 is frozen for the moment of the capture.
    /// </summary>
    public async Task<(CommitResult Result, ResolvedImage Parent)> CommitAsync(ContainerRecord record, string? label, CancellationToken cancellationToken)
    {
        var parent = await LoadImageAsync(record.Id, cancellationToken);
        if (_attached.TryGetValue(record.Id, out var attached))
        {
            return (await ServerCallAsync(() => attached.CommitAsync(label, cancellationToken)), parent);
        }

        var volumeId = record.VolumeId ?? throw new ContainerException(ContainerErrors.Conflict, $"Container '{record.Name}' has no volume to commit.");
        using var volume = await ServerCallAsync(() => LazyVolume.OpenAsync(storage, volumeId, readOnly: false, cancellationToken));
        return (await ServerCallAsync(() => VolumeCommitter.CommitAsync(volume, label, quiesce: null, cancellationToken)), parent);
    }

    public async Task<ContainerStats> StatsAsync(ContainerRecord record, CancellationToken cancellationToken)
    {
        var image = await LoadImageAsync(record.Id, cancellationToken);
        VolumeStatsSnapshot? stats = null;
        var live = _attached.TryGetValue(record.Id, out var attached);
        if (live)
        {
            stats = attached!.Volume.StatsSnapshot();
        }
        else if (File.Exists(StatsFileOf(record.Id)))
        {
            stats = JsonSerializer.Deserialize(await File.ReadAllBytesAsync(StatsFileOf(record.Id), cancellationToken), AgentJsonContext.Default.VolumeStatsSnapshot);
        }

        return new ContainerStats(record.Id, record.Name, record.Config.Image, record.VolumeId, image.Size, image.ChunkSize, live, stats);
    }

    private string StatsFileOf(string id) => Path.Join(store.DirectoryOf(id), "volume-stats.json");

    private string ImageFileOf(string id) => Path.Join(store.DirectoryOf(id), "image.json");

    private Task SaveImageAsync(string id, ResolvedImage image, CancellationToken cancellationToken) =>
        File.WriteAllBytesAsync(ImageFileOf(id), JsonSerializer.SerializeToUtf8Bytes(image, AgentJsonContext.Default.ResolvedImage), cancellationToken);

    private async Task<ResolvedImage> LoadImageAsync(string id, CancellationToken cancellationToken) =>
        JsonSerializer.Deserialize(await File.ReadAllBytesAsync(ImageFileOf(id), cancellationToken), AgentJsonContext.Default.ResolvedImage)
        ?? throw new InvalidDataException($"The image record of container {id} is empty.");

    /// <summary>Turns "the server is not there" into the one clear error the CLI shows.</summary>
    private async Task<T> ServerCallAsync<T>(Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (HttpRequestException e)
        {
            throw Unreachable(e);
        }
        catch (BlockStoreException e) when (e.StatusCode == 0)
        {
            throw Unreachable(e);
        }
    }

    private ContainerException Unreachable(Exception e) =>
        new(ContainerErrors.ServerUnreachable,
            $"Cannot reach the Slacker server at {server.ServerAddress}: {e.Message}. Start it ('slacker server') or give the node its address (slacker node --server URL).", e);

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _attached.Keys.ToList())
        {
            if (_attached.TryRemove(id, out var attached))
            {
                try
                {
                    await Task.Run(attached.Detach);
                }
                catch (Exception e)
                {
                    logger.LogWarning("Detaching the root of container {Id} at shutdown failed: {Error}", id[..12], e.Message);
                }
            }
        }
    }
}
