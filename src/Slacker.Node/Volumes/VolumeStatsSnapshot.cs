namespace Slacker.Node.Volumes;

/// <summary>One volume's data-path figures at a point in time, as the node API reports them.</summary>
public sealed record VolumeStatsSnapshot(
    string VolumeId,
    long ChunksFetched,
    long BytesFetched,
    long CacheHits,
    long CacheMisses,
    long ZeroChunkReads,
    long DirtyChunkReads,
    long ReadRequests,
    long BytesRead,
    long WriteRequests,
    long BytesWritten,
    long DirtyChunks,
    long DirtyBytes,
    long ReadErrors,
    long WriteErrors,
    long Fsyncs);
