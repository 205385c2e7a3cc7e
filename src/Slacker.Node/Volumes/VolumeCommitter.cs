using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Slacker.Core.Model;

namespace Slacker.Node.Volumes;

/// <summary>
/// Commit = turn a volume's dirty chunks into a snapshot on the server: hash them (each is frozen into the chunk
/// cache under its digest, pinned), upload the ones the server lacks, PATCH the volume's map, take the snapshot,
/// then make the new snapshot the local base so that the committed chunks become clean cache entries.
/// </summary>
public static class VolumeCommitter
{
    /// <param name="quiesce">
    /// For a mounted volume: makes the file system consistent and holds its writes while the dirty chunks are
    /// captured (FIFREEZE); disposing it lets writes go on. Upload happens after the thaw.
    /// </param>
    public static async Task<CommitResult> CommitAsync(LazyVolume volume, string? label = null, Func<IDisposable>? quiesce = null, CancellationToken cancellationToken = default)
    {
        if (volume.ReadOnly)
        {
            throw new InvalidOperationException($"Volume {volume.VolumeId} is attached read-only; there is nothing to commit.");
        }

        var node = volume.Node;
        var logger = node.Loggers.CreateLogger(typeof(VolumeCommitter));
        var clock = Stopwatch.StartNew();
        await volume.CommitGate.WaitAsync(cancellationToken);
        var pinned = new List<Digest>();
        try
        {
            // The dirty chunks are a delta against the local base; on top of another base they would make a
            // snapshot that nobody wrote.
            var server = await node.Store.GetVolumeAsync(volume.VolumeId, cancellationToken);
            if (server.BaseSnapshot != volume.BaseSnapshot)
            {
                throw new InvalidOperationException(
                    $"Volume {volume.VolumeId} was committed elsewhere: the server's base is {server.BaseSnapshot ?? "none"}, this node's changes apply to {volume.BaseSnapshot ?? "none"}. Commit into a new clone of {volume.BaseSnapshot ?? "the volume"} instead.");
            }

            List<long> indexes;
            var entries = new List<(long Index, Digest Digest)>();
            var zeroChunks = 0L;
            var buffer = ArrayPool<byte>.Shared.Rent(volume.Geometry.ChunkSize);
            try
            {
                var chunk = buffer.AsSpan(0, volume.Geometry.ChunkSize);
                using (quiesce?.Invoke())
                {
                    indexes = volume.BeginCommit();
                    foreach (var index in indexes)
                    {
                        volume.ReadDirtyChunk(index, chunk);
                        if (!chunk.ContainsAnyExcept((byte)0))
                        {
                            entries.Add((index, Digest.Zero));
                            zeroChunks++;
                            continue;
                        }

                        var digest = Digest.Compute(chunk);
                        node.Cache.Put(digest, chunk, pin: true);
                        pinned.Add(digest);
                        entries.Add((index, digest));
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var digests = entries.Select(e => e.Digest).ToList();
            var (uploadedChunks, uploadedBytes) = await ChunkUploader.UploadMissingAsync(
                node.Store, digests, d => node.Cache.TryReadAll(d)
                    ?? throw new InvalidOperationException($"Chunk {d} of the commit left the node cache although it is pinned; this is a bug, please report it."), node.Options.UploadParallelism, cancellationToken);
            await ChunkUploader.UpdateMapAsync(node.Store, volume.VolumeId, entries, node.Options.MapBatchSize, cancellationToken);
            var snapshot = await node.Store.SnapshotAsync(volume.VolumeId, label, cancellationToken);
            await volume.CompleteCommitAsync(Digest.Parse(snapshot.Id), indexes, cancellationToken);

            var distinct = digests.Where(d => !d.IsZero).Distinct().Count();
            var result = new CommitResult(volume.VolumeId, snapshot.Id, indexes.Count, zeroChunks, uploadedChunks, uploadedBytes, distinct - uploadedChunks, clock.Elapsed);
            logger.LogInformation("Volume {Volume}: committed {Dirty} dirty chunks as {Snapshot} ({Uploaded} uploaded, {Bytes} bytes) in {Ms} ms.",
                volume.VolumeId, indexes.Count, snapshot.Id, uploadedChunks, uploadedBytes, clock.ElapsedMilliseconds);
            return result;
        }
        finally
        {
            volume.EndCommit();
            foreach (var digest in pinned)
            {
                node.Cache.Unpin(digest);
            }

            volume.CommitGate.Release();
        }
    }
}
