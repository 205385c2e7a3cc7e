using Slacker.Node.Cache;

namespace Slacker.Node.Volumes;

/// <summary>Lock-free counters of one <see cref="LazyVolume"/>; <see cref="Snapshot"/> turns them into a record.</summary>
public sealed class VolumeStats : IFetchObserver
{
    private long _chunksFetched, _bytesFetched, _cacheHits, _cacheMisses, _zeroReads, _dirtyReads;
    private long _readRequests, _bytesRead, _writeRequests, _bytesWritten, _readErrors, _writeErrors, _fsyncs;
    private long _requestedOnDemand, _requestedAhead, _profileReplayed, _profileRecorded;

    public long ChunksFetched => Interlocked.Read(ref _chunksFetched);

    public void OnChunkFetched(int bytes)
    {
        Interlocked.Increment(ref _chunksFetched);
        Interlocked.Add(ref _bytesFetched, bytes);
    }

    public void OnRequested(int onDemand, int ahead)
    {
        if (onDemand > 0)
        {
            Interlocked.Add(ref _requestedOnDemand, onDemand);
        }

        if (ahead > 0)
        {
            Interlocked.Add(ref _requestedAhead, ahead);
        }
    }

    internal void ProfileReplayed(int chunks) => Interlocked.Exchange(ref _profileReplayed, chunks);

    internal void ProfileRecorded(int chunks) => Interlocked.Exchange(ref _profileRecorded, chunks);

    internal void CacheHit() => Interlocked.Increment(ref _cacheHits);

    internal void CacheMiss() => Interlocked.Increment(ref _cacheMisses);

    internal void ZeroRead() => Interlocked.Increment(ref _zeroReads);

    internal void DirtyRead() => Interlocked.Increment(ref _dirtyReads);

    internal void Read(int bytes)
    {
        Interlocked.Increment(ref _readRequests);
        Interlocked.Add(ref _bytesRead, bytes);
    }

    internal void Written(int bytes)
    {
        Interlocked.Increment(ref _writeRequests);
        Interlocked.Add(ref _bytesWritten, bytes);
    }

    internal void ReadError() => Interlocked.Increment(ref _readErrors);

    internal void WriteError() => Interlocked.Increment(ref _writeErrors);

    internal void Fsync() => Interlocked.Increment(ref _fsyncs);

    public VolumeStatsSnapshot Snapshot(string volumeId, long dirtyChunks, int chunkSize) => new(
        volumeId,
        Interlocked.Read(ref _chunksFetched),
        Interlocked.Read(ref _bytesFetched),
        Interlocked.Read(ref _cacheHits),
        Interlocked.Read(ref _cacheMisses),
        Interlocked.Read(ref _zeroReads),
        Interlocked.Read(ref _dirtyReads),
        Interlocked.Read(ref _readRequests),
        Interlocked.Read(ref _bytesRead),
        Interlocked.Read(ref _writeRequests),
        Interlocked.Read(ref _bytesWritten),
        dirtyChunks,
        dirtyChunks * chunkSize,
        Interlocked.Read(ref _readErrors),
        Interlocked.Read(ref _writeErrors),
        Interlocked.Read(ref _fsyncs),
        Interlocked.Read(ref _requestedOnDemand),
        Interlocked.Read(ref _requestedAhead),
        Interlocked.Read(ref _profileReplayed),
        Interlocked.Read(ref _profileRecorded));
}
