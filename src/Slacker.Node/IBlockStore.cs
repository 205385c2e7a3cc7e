using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Node;

/// <summary>Receives one chunk of a batch. The span is only valid during the call.</summary>
public delegate void ChunkReceived(Digest digest, ReadOnlySpan<byte> data);

/// <summary>
/// The part of the block-store API (docs/API.md) that a node uses. The node trusts nothing it returns: chunks,
/// pages and roots are verified against their digests by the node itself, so an implementation may pass bytes
/// through unverified. <see cref="BlockStoreClientAdapter"/> is the real one over HTTP.
/// </summary>
public interface IBlockStore
{
    /// <summary>
    /// True when <see cref="FetchChunksAsync"/> hands over only chunks it has already checked against their
    /// digests (and reports a bad one as <see cref="Cache.ChunkCorruptException"/>); the fetcher then does not hash
    /// them a second time.
    /// </summary>
    bool ChunksVerified { get; }

    /// <summary>
    /// One batch request; <paramref name="onChunk"/> is called in the order of <paramref name="digests"/>. A chunk
    /// whose bytes do not match its digest ends the call with <see cref="Cache.ChunkCorruptException"/> naming it.
    /// </summary>
    Task FetchChunksAsync(IReadOnlyList<Digest> digests, ChunkReceived onChunk, CancellationToken cancellationToken);

    Task<byte[]> GetRootAsync(Digest snapshotId, CancellationToken cancellationToken);

    Task<byte[]> GetPageAsync(Digest page, CancellationToken cancellationToken);

    Task<IReadOnlyList<Digest>> FindMissingAsync(IReadOnlyList<Digest> digests, CancellationToken cancellationToken);

    Task PutChunkAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken cancellationToken);

    Task<VolumeInfo> CreateVolumeAsync(CreateVolumeRequest request, CancellationToken cancellationToken);

    Task<VolumeInfo> GetVolumeAsync(string volumeId, CancellationToken cancellationToken);

    Task<VolumeBlockMap> GetMapAsync(string volumeId, CancellationToken cancellationToken);

    Task<VolumeInfo> UpdateMapAsync(string volumeId, IReadOnlyList<BlockMapEntry> entries, CancellationToken cancellationToken);

    Task<SnapshotInfo> SnapshotAsync(string volumeId, string? label, CancellationToken cancellationToken);

    /// <summary>The snapshot's startup profile, or null when none was recorded yet.</summary>
    Task<StartupProfile?> GetStartupProfileAsync(Digest snapshot, CancellationToken cancellationToken);

    Task PutStartupProfileAsync(Digest snapshot, StartupProfile profile, CancellationToken cancellationToken);
}
