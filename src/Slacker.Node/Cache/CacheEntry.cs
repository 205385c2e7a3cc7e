namespace Slacker.Node.Cache;

/// <summary>One cached blob: where its bytes are. Mutable fields are touched with Volatile/Interlocked so a hit takes no lock.</summary>
internal sealed class CacheEntry(CachePack pack, long offset, int size, bool verified)
{
    public CachePack Pack { get; } = pack;

    /// <summary>Offset of the blob's first byte in the pack (after its header).</summary>
    public long Offset { get; } = offset;

    public int Size { get; } = size;

    /// <summary>
    /// False for blobs found in packs at start: packs are not fsynced, so a crash may have left a record
    /// garbled. The first read hashes it once.
    /// </summary>
    public volatile bool Verified = verified;

    /// <summary>
    /// Set once a read reached the blob's end: later reads go through the page cache, the first one past it
    /// (see <see cref="ChunkCache.TryRead"/>).
    /// </summary>
    public volatile bool Consumed;

    /// <summary>Pinned entries (chunks of a commit in progress) keep their pack from eviction.</summary>
    public int Pins;
}
