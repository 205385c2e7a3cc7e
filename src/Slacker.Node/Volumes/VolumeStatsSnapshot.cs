namespace Slacker.Node.Volumes;

/// <summary>
/// One volume's data-path figures at a point in time, as the node API reports them. CacheMisses counts chunk reads
/// that had to wait for the server; of the chunks requested from it, ChunksRequestedOnDemand were asked for by a
/// read that needed them and ChunksRequestedAhead by read-ahead.
/// </summary>
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
    long Fsyncs,
    long ChunksRequestedOnDemand = 0,
    long ChunksRequestedAhead = 0,
    long ProfileChunksReplayed = 0,
    long ProfileChunksRecorded = 0);
