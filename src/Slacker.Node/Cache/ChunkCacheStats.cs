namespace Slacker.Node.Cache;

/// <summary>Node-wide cache figures (per-volume figures live in <see cref="Volumes.VolumeStats"/>).</summary>
public sealed record ChunkCacheStats(
    long Entries,
    long Bytes,
    long CapacityBytes,
    long Hits,
    long Misses,
    long Inserts,
    long Evictions,
    long CorruptDropped);
