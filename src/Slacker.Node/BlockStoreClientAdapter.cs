using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Node.Cache;

namespace Slacker.Node;

/// <summary>The node's <see cref="IBlockStore"/> over the real HTTP client of docs/API.md.</summary>
public sealed class BlockStoreClientAdapter(BlockStoreClient client) : IBlockStore
{
    public BlockStoreClient Client { get; } = client;

    /// <summary>The client hashes every chunk of a batch before handing it over.</summary>
    public bool ChunksVerified => true;

    public async Task FetchChunksAsync(IReadOnlyList<Digest> digests, ChunkReceived onChunk, CancellationToken cancellationToken)
    {
        try
        {
            await Client.GetChunksAsync(
                digests,
                (digest, data) =>
                {
                    onChunk(digest, data.Span);
                    return ValueTask.CompletedTask;
                },
                cancellationToken);
        }
        catch (BlockStoreException e) when (e.Code == ErrorCodes.BadResponse && CorruptDigest(digests, e.Message) is { } bad)
        {
            // The client names the chunk that failed its hash check; make that a typed error so the fetcher can
            // fail just that chunk and still deliver its neighbours.
            throw new ChunkCorruptException(bad, $"Chunk {bad} from the server does not hash to its name: the server's copy is corrupt ({e.Message}). Repair it on the server (slacker fsck).");
        }
    }

    public async Task<byte[]> GetRootAsync(Digest snapshotId, CancellationToken cancellationToken) =>
        (await Client.GetRootAsync(snapshotId, cancellationToken)).Encode();

    public Task<byte[]> GetPageAsync(Digest page, CancellationToken cancellationToken) => Client.GetPageAsync(page, cancellationToken);

    public Task<IReadOnlyList<Digest>> FindMissingAsync(IReadOnlyList<Digest> digests, CancellationToken cancellationToken) =>
        Client.FindMissingAsync(digests as IReadOnlyCollection<Digest> ?? digests.ToList(), cancellationToken);

    public Task PutChunkAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        Client.PutChunkAsync(digest, data, cancellationToken);

    public Task<VolumeInfo> CreateVolumeAsync(CreateVolumeRequest request, CancellationToken cancellationToken) =>
        request.BaseSnapshot is { } snapshot
            ? Client.CloneAsync(Digest.Parse(snapshot), request.Label, cancellationToken)
            : Client.CreateVolumeAsync(
                request.Size ?? throw new ArgumentException("An empty volume needs a size.", nameof(request)),
                request.ChunkSize ?? ChunkGeometry.DefaultChunkSize,
                request.Label,
                cancellationToken);

    public Task<VolumeInfo> GetVolumeAsync(string volumeId, CancellationToken cancellationToken) => Client.GetVolumeAsync(volumeId, cancellationToken);

    public Task<VolumeBlockMap> GetMapAsync(string volumeId, CancellationToken cancellationToken) => Client.GetMapAsync(volumeId, cancellationToken);

    public Task<VolumeInfo> UpdateMapAsync(string volumeId, IReadOnlyList<BlockMapEntry> entries, CancellationToken cancellationToken) =>
        Client.UpdateMapAsync(volumeId, entries, cancellationToken);

    public Task<SnapshotInfo> SnapshotAsync(string volumeId, string? label, CancellationToken cancellationToken) =>
        Client.SnapshotAsync(volumeId, label, cancellationToken);

    private static Digest? CorruptDigest(IReadOnlyList<Digest> requested, string message)
    {
        foreach (var digest in requested)
        {
            if (message.Contains(digest.ToString(), StringComparison.Ordinal))
            {
                return digest;
            }
        }

        return null;
    }

    public Task<StartupProfile?> GetStartupProfileAsync(Digest snapshot, CancellationToken cancellationToken) =>
        Client.GetStartupProfileAsync(snapshot, cancellationToken);

    public Task PutStartupProfileAsync(Digest snapshot, StartupProfile profile, CancellationToken cancellationToken) =>
        Client.PutStartupProfileAsync(snapshot, profile, cancellationToken);
}
