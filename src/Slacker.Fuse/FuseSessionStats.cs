namespace Slacker.Fuse;

/// <summary>Live counters of one FUSE session; updated with Interlocked by the reader threads, read at any time.</summary>
public sealed class FuseSessionStats
{
    private long _reads;
    private long _writes;
    private long _syncs;
    private long _metadata;
    private long _unsupported;
    private long _interrupts;
    private long _errors;
    private long _bytesRead;
    private long _bytesWritten;

    /// <summary>FUSE_READ requests.</summary>
    public long ReadRequests => Volatile.Read(ref _reads);

    /// <summary>FUSE_WRITE requests.</summary>
    public long WriteRequests => Volatile.Read(ref _writes);

    /// <summary>FUSE_FSYNC and FUSE_FLUSH requests.</summary>
    public long SyncRequests => Volatile.Read(ref _syncs);

    /// <summary>INIT, LOOKUP, GETATTR, SETATTR, OPEN, RELEASE, STATFS, directory ops, ACCESS, FORGET, DESTROY.</summary>
    public long MetadataRequests => Volatile.Read(ref _metadata);

    /// <summary>Requests answered with ENOSYS (unknown or deliberately unsupported opcodes).</summary>
    public long UnsupportedRequests => Volatile.Read(ref _unsupported);

    /// <summary>FUSE_INTERRUPT requests (ignored: the kernel lets the original request finish).</summary>
    public long InterruptRequests => Volatile.Read(ref _interrupts);

    /// <summary>Replies carrying an error (including handler errors and ENOSYS).</summary>
    public long ErrorReplies => Volatile.Read(ref _errors);

    public long BytesRead => Volatile.Read(ref _bytesRead);

    public long BytesWritten => Volatile.Read(ref _bytesWritten);

    public long TotalRequests => ReadRequests + WriteRequests + SyncRequests + MetadataRequests + UnsupportedRequests + InterruptRequests;

    internal void CountRead(int bytes)
    {
        Interlocked.Increment(ref _reads);
        if (bytes > 0)
        {
            Interlocked.Add(ref _bytesRead, bytes);
        }
    }

    internal void CountWrite(int bytes)
    {
        Interlocked.Increment(ref _writes);
        if (bytes > 0)
        {
            Interlocked.Add(ref _bytesWritten, bytes);
        }
    }

    internal void CountSync() => Interlocked.Increment(ref _syncs);

    internal void CountMetadata() => Interlocked.Increment(ref _metadata);

    internal void CountUnsupported() => Interlocked.Increment(ref _unsupported);

    internal void CountInterrupt() => Interlocked.Increment(ref _interrupts);

    internal void CountError() => Interlocked.Increment(ref _errors);

    public override string ToString() =>
        $"reads={ReadRequests} writes={WriteRequests} syncs={SyncRequests} metadata={MetadataRequests} " +
        $"unsupported={UnsupportedRequests} interrupts={InterruptRequests} errors={ErrorReplies} " +
        $"bytesRead={BytesRead} bytesWritten={BytesWritten}";
}
