namespace Slacker.Node;

/// <summary>Knobs of the node's data path. Defaults suit a container host; tests shrink them.</summary>
public sealed record NodeOptions
{
    /// <summary>The node's state directory (cache/, volumes/, mnt/).</summary>
    public required string Root { get; init; }

    public long CacheCapacityBytes { get; init; } = 16L << 30;

    /// <summary>
    /// Chunks after a missed read that the same batch request brings along. Small on purpose: a container reads
    /// a few percent of its image, scattered, and read-ahead beyond that is wasted transfer.
    /// </summary>
    public int ReadAheadChunks { get; init; } = 16;

    /// <summary>
    /// How far ahead of a reader that is going front to back (a big file, a copy) chunks are requested without
    /// waiting; the next half window is asked for when the reader crosses the middle of this one. Big batches
    /// are what make cold sequential reads fast (one HTTP round trip per few MiB). 0 turns it off.
    /// </summary>
    public int SequentialWindowChunks { get; init; } = 128;

    /// <summary>How long a server request may take before the read that waits for it fails with EIO.</summary>
    public TimeSpan FetchTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Concurrent batch requests that one large fetch (a sequential window) is split into.</summary>
    public int FetchParallelism { get; init; } = 2;

    /// <summary>Map entries per PATCH during a commit.</summary>
    public int MapBatchSize { get; init; } = 8192;

    /// <summary>Concurrent chunk uploads during a commit or import.</summary>
    public int UploadParallelism { get; init; } = 4;

    /// <summary>FUSE reader threads per attached volume.</summary>
    public int FuseReaderThreads { get; init; } = 4;

    /// <summary>Refuse to attach when the loop driver silently fell back to buffered I/O (double caching).</summary>
    public bool RequireDirectIo { get; init; } = true;
}
