namespace Slacker.Node.Cache;

/// <summary>One cached blob. Mutable fields are touched with Volatile/Interlocked so a hit takes no lock.</summary>
internal sealed class CacheEntry(long size, long lastUse, bool verified)
{
    public long Size { get; } = size;

    /// <summary>Logical clock of the last hit; eviction drops the smallest first (LRU).</summary>
    public long LastUse = lastUse;

    /// <summary>
    /// False for files found on disk at start: they were written by temp+rename without fsync, so a crash may
    /// have left them short or garbled. The first read hashes them once.
    /// </summary>
    public volatile bool Verified = verified;

    /// <summary>Pinned entries (chunks of a commit in progress) are never evicted.</summary>
    public int Pins;
}
