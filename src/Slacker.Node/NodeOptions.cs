namespace Slacker.Node;

/// <summary>Knobs of the node's data path. Defaults suit a container host; tests shrink them.</summary>
public sealed record NodeOptions
{
    /// <summary>The node's state directory (cache/, volumes/, mnt/).</summary>
    public required string Root { get; init; }

    public long CacheCapacityBytes { get; init; } = 16L << 30;

    /// <summary>
    /// The largest read-ahead window (in chunks) of one sequential stream. A read that starts a stream fetches
    /// only its own chunks; each read that continues it keeps a window requested ahead of it, as large as what the
    /// stream has read so far, up to this (see <c>SequentialStreams</c>). Big windows are what make cold sequential
    /// reads fast (one HTTP round trip per few MiB). 0 turns read-ahead off.
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

    /// <summary>
    /// Replay a snapshot's startup profile when a clone of it is attached (its first-read chunks fetched ahead in
    /// large batches), or record one when the server has none (see <c>StartupProfiler</c>).
    /// </summary>
    public bool StartupProfiles { get; init; } = true;

    /// <summary>How long after attach the reads that a profile records count as "startup".</summary>
    public TimeSpan StartupProfileWindow { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Refuse to attach when the loop driver silently fell back to buffered I/O (double caching).</summary>
    public bool RequireDirectIo { get; init; } = true;
}
