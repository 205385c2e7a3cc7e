using System.Buffers;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Fuse;
using Slacker.Node.Cache;
using Slacker.Native;

namespace Slacker.Node.Volumes;

/// <summary>
/// One volume served as a single file: a clone of a snapshot (or an empty volume) whose chunks are fetched on
/// first read and whose writes go copy-on-write into local dirty chunks. A read of a chunk looks in this
/// volume's dirty chunks, then in the node's chunk cache, then asks the server (one batch for the neighbouring
/// misses of the request plus read-ahead, verified). Zero chunks never cost a fetch.
/// </summary>
public sealed class LazyVolume : IFuseFile, IDisposable
{
    private const int LockStripes = 1024;

    private readonly NodeStorage _node;
    private readonly DirtyChunkStore _dirty;
    private readonly Lock[] _stripes;
    private readonly FileStream _attachLock;
    private readonly ILogger _logger;
    private readonly SequentialStreams _streams;
    private readonly Lock _touchedLock = new();
    private readonly HashSet<long> _touchedDuringCommit = [];
    private readonly int _chunkShift;
    private readonly int _chunkSize;
    private BlockMapView _map;
    private VolumeState _state;
    private volatile bool _commitActive;
    private volatile StartupTrace? _trace;
    private int _disposed;

    private LazyVolume(NodeStorage node, VolumeState state, BlockMapView map, DirtyChunkStore dirty, FileStream attachLock, bool readOnly)
    {
        _node = node;
        _state = state;
        _map = map;
        _dirty = dirty;
        _attachLock = attachLock;
        ReadOnly = readOnly;
        Geometry = map.Geometry;
        _chunkShift = Geometry.ChunkShift;
        _chunkSize = Geometry.ChunkSize;
        _logger = node.Loggers.CreateLogger<LazyVolume>();
        _streams = new SequentialStreams(_chunkShift, node.Options.SequentialWindowChunks);
        _stripes = new Lock[LockStripes];
        for (var i = 0; i < _stripes.Length; i++)
        {
            _stripes[i] = new Lock();
        }
    }

    public string VolumeId => _state.VolumeId;

    public ChunkGeometry Geometry { get; }

    public long Size => Geometry.VolumeSize;

    public bool ReadOnly { get; }

    /// <summary>The snapshot that the local dirty chunks apply to (null: an empty volume never committed).</summary>
    public string? BaseSnapshot => _state.BaseSnapshot;

    public VolumeStats Stats { get; } = new();

    public long DirtyChunks => _dirty.Count;

    internal NodeStorage Node => _node;

    /// <summary>While set, every read of a snapshot chunk is recorded for the snapshot's startup profile.</summary>
    internal StartupTrace? Trace
    {
        get => _trace;
        set => _trace = value;
    }

    /// <summary>One commit at a time per volume.</summary>
    internal SemaphoreSlim CommitGate { get; } = new(1, 1);

    public VolumeStatsSnapshot StatsSnapshot() => Stats.Snapshot(VolumeId, _dirty.Count, _chunkSize);

    /// <summary>
    /// Opens a server volume for serving on this node. Local dirty chunks from before a restart are picked up
    /// again. Only one process on the node may have a volume open (a flock on its directory).
    /// </summary>
    public static async Task<LazyVolume> OpenAsync(NodeStorage node, string volumeId, bool readOnly = false, CancellationToken cancellationToken = default)
    {
        var directory = node.Paths.VolumeDirectory(volumeId);
        Directory.CreateDirectory(directory);
        FileStream attachLock;
        try
        {
            // FileShare.None takes a flock: a second opener (even in another process) fails here, and a killed
            // process's lock goes away with it.
            attachLock = new FileStream(Path.Combine(directory, "lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new InvalidOperationException($"Volume {volumeId} is already open on this node (lock {Path.Combine(directory, "lock")} is held); detach it first.", e);
        }

        try
        {
            var info = await node.Store.GetVolumeAsync(volumeId, cancellationToken);
            var state = VolumeState.Load(directory);
            IReadOnlyList<BlockMapEntry>? changes = null;
            if (state is null)
            {
                state = new VolumeState(info.Id, info.Size, info.ChunkSize, info.BaseSnapshot);
            }
            else if (state.Size != info.Size || state.ChunkSize != info.ChunkSize)
            {
                throw new InvalidDataException($"Volume {volumeId}: the node has it as {state.Size} bytes in {state.ChunkSize}-byte chunks but the server says {info.Size}/{info.ChunkSize}; move {directory} away to start over from the server.");
            }
            else if (state.BaseSnapshot != info.BaseSnapshot)
            {
                node.Loggers.CreateLogger<LazyVolume>().LogWarning(
                    "Volume {Volume}: the server's base is {ServerBase} but this node's dirty chunks apply to {LocalBase}; serving the node's view.",
                    volumeId, info.BaseSnapshot, state.BaseSnapshot);
            }

            if (state.BaseSnapshot == info.BaseSnapshot && info.ChangedChunks > 0)
            {
                changes = (await node.Store.GetMapAsync(volumeId, cancellationToken)).Changes;
            }

            var geometry = new ChunkGeometry(state.Size, state.ChunkSize);
            var snapshot = state.BaseSnapshot is null ? (Digest?)null : Digest.Parse(state.BaseSnapshot);
            var map = await BlockMapView.LoadAsync(geometry, snapshot, changes, node.Fetcher, cancellationToken);
            state.Save(directory);
            var dirty = DirtyChunkStore.Open(Path.Combine(directory, "dirty"), geometry);
            return new LazyVolume(node, state, map, dirty, attachLock, readOnly);
        }
        catch
        {
            await attachLock.DisposeAsync();
            throw;
        }
    }

    /// <summary>FUSE READ: bytes read (short at the end of the volume) or -errno.</summary>
    public int Read(long offset, Span<byte> destination)
    {
        if (offset < 0)
        {
            return -Libc.EINVAL;
        }

        if (offset >= Size || destination.IsEmpty)
        {
            return 0;
        }

        var length = (int)Math.Min(destination.Length, Size - offset);
        var end = offset + length;
        try
        {
            // Requested before this read's own chunks are read: a later piece of the same stream, served by another
            // FUSE thread meanwhile, must find them claimed rather than ask for them itself.
            var ahead = _streams.OnRead(offset, end);
            if (!ahead.IsEmpty)
            {
                FetchWithReadAhead(offset >> _chunkShift, end, ahead);
            }

            var done = 0;
            while (done < length)
            {
                var position = offset + done;
                var index = position >> _chunkShift;
                var within = (int)(position & (_chunkSize - 1));
                var n = Math.Min(_chunkSize - within, length - done);
                ReadChunk(index, within, destination.Slice(done, n), end);
                done += n;
            }

            Stats.Read(length);
            return length;
        }
        catch (Exception e)
        {
            Stats.ReadError();
            LogFailure("read", offset, length, e);
            return -Libc.EIO;
        }
    }

    /// <summary>FUSE WRITE: copy-on-write into the volume's dirty chunks; bytes written or -errno.</summary>
    public int Write(long offset, ReadOnlySpan<byte> source)
    {
        if (ReadOnly)
        {
            return -Libc.EROFS;
        }

        if (offset < 0)
        {
            return -Libc.EINVAL;
        }

        if (offset >= Size)
        {
            return source.IsEmpty ? 0 : -Libc.ENOSPC;
        }

        var length = (int)Math.Min(source.Length, Size - offset);
        try
        {
            var done = 0;
            while (done < length)
            {
                var position = offset + done;
                var index = position >> _chunkShift;
                var within = (int)(position & (_chunkSize - 1));
                var n = Math.Min(_chunkSize - within, length - done);
                WriteChunk(index, within, source.Slice(done, n));
                done += n;
            }

            Stats.Written(length);
            return length;
        }
        catch (Exception e)
        {
            Stats.WriteError();
            LogFailure("write", offset, length, e);
            return -Libc.EIO;
        }
    }

    /// <summary>FUSE FSYNC: every completed write is durable when this returns 0 (data, then the dirty journal).</summary>
    public int Fsync(bool dataOnly)
    {
        try
        {
            Stats.Fsync();
            _dirty.Sync();
            return 0;
        }
        catch (Exception e)
        {
            _logger.LogError(e, "Volume {Volume}: fsync failed: {Error}", VolumeId, e.Message);
            return -Libc.EIO;
        }
    }

    /// <summary>
    /// FUSE FLUSH (every close). Cheap on purpose: close(2) promises no durability, and the loop device turns
    /// ext4's cache flushes into FSYNC, which is where durability is paid for.
    /// </summary>
    public int Flush() => 0;

    private void ReadChunk(long index, int within, Span<byte> destination, long requestEnd)
    {
        if (_dirty.IsDirty(index))
        {
            lock (Stripe(index))
            {
                // Re-checked under the lock: a commit may have cleaned the chunk and punched it out meanwhile.
                if (_dirty.IsDirty(index))
                {
                    _dirty.Read(index, within, destination);
                    Stats.DirtyRead();
                    return;
                }
            }
        }

        // Read the map only after the dirty check: a commit swaps the map before it cleans chunks.
        var map = Volatile.Read(ref _map);
        var digest = map.Get(index);
        if (digest.IsZero)
        {
            destination.Clear();
            Stats.ZeroRead();
            return;
        }

        _trace?.Touch(index);

        // The rest of the request usually follows this chunk in the cache's pack: one disk read serves both.
        var rest = (int)Math.Min(requestEnd - ((index << _chunkShift) + within + destination.Length), int.MaxValue);
        if (_node.Cache.TryRead(digest, within, destination, rest))
        {
            Stats.CacheHit();
            return;
        }

        Stats.CacheMiss();
        for (var attempt = 0; attempt < 3; attempt++)
        {
            FetchMisses(map, index, requestEnd);
            if (_node.Cache.TryRead(digest, within, destination))
            {
                return;
            }
        }

        throw new IOException($"Chunk {digest} was fetched but left the cache before it could be read three times; the cache ({_node.Cache.CapacityBytes} bytes) is too small for the load.");
    }

    /// <summary>One batch for every miss from <paramref name="first"/> to the end of the request.</summary>
    private void FetchMisses(BlockMapView map, long first, long requestEnd)
    {
        var last = Math.Min((requestEnd - 1) >> _chunkShift, Geometry.ChunkCount - 1);
        var needed = Uncached(map, new ChunkRange(first, last + 1), (int)(last - first + 1));
        _node.Fetcher.Fetch(needed, [], _chunkSize, Stats);
    }

    /// <summary>
    /// One batch for the request's own uncached chunks and the stream's read-ahead, without waiting: the request's
    /// chunk reads then wait for their flights like any miss. Counted first: a stream that runs through cached or
    /// zero chunks must not allocate on its hit path.
    /// </summary>
    private void FetchWithReadAhead(long first, long requestEnd, ChunkRange ahead)
    {
        var map = Volatile.Read(ref _map);
        var own = new ChunkRange(first, Math.Min(((requestEnd - 1) >> _chunkShift) + 1, Geometry.ChunkCount));
        var neededCount = CountUncached(map, own);
        List<Digest>? readAhead = null;
        try
        {
            var aheadCount = CountUncached(map, ahead);
            if (aheadCount > 0)
            {
                readAhead = Uncached(map, ahead, aheadCount);
            }
        }
        catch (Exception e)
        {
            // Only read-ahead (a block-map page it needs could not be fetched): the reads that need those chunks
            // will fetch them again and report the error.
            _logger.LogDebug("Volume {Volume}: read-ahead of chunks {First}..{End} failed: {Error}", VolumeId, ahead.First, ahead.End, e.Message);
        }

        if (neededCount > 0 || readAhead is not null)
        {
            _node.Fetcher.Fetch(neededCount > 0 ? Uncached(map, own, neededCount) : [], readAhead ?? [], _chunkSize, Stats, waitForNeeded: false);
        }
    }

    /// <summary>
    /// Fetches the uncached chunks among <paramref name="chunks"/>[start..start+count) as read-ahead and waits for
    /// them (a startup profile's round): reads of the same chunks meanwhile join these flights.
    /// </summary>
    internal void PrefetchChunks(IReadOnlyList<long> chunks, int start, int count)
    {
        var map = Volatile.Read(ref _map);
        var wanted = new List<Digest>(count);
        for (var i = start; i < start + count; i++)
        {
            var index = chunks[i];
            if (index >= 0 && index < Geometry.ChunkCount && NeedsFetch(map, index, out var d))
            {
                wanted.Add(d);
            }
        }

        if (wanted.Count > 0)
        {
            _node.Fetcher.Fetch([], wanted, _chunkSize, Stats);
            _node.Fetcher.Fetch(wanted, [], _chunkSize, Stats);
        }
    }

    private int CountUncached(BlockMapView map, ChunkRange range)
    {
        var count = 0;
        for (var i = range.First; i < Math.Min(range.End, Geometry.ChunkCount); i++)
        {
            if (NeedsFetch(map, i, out var d) && !_node.Fetcher.IsPending(d))
            {
                count++;
            }
        }

        return count;
    }

    private List<Digest> Uncached(BlockMapView map, ChunkRange range, int count)
    {
        var result = new List<Digest>(count);
        for (var i = range.First; i < Math.Min(range.End, Geometry.ChunkCount); i++)
        {
            if (NeedsFetch(map, i, out var d))
            {
                result.Add(d);
            }
        }

        return result;
    }

    /// <summary>A chunk the server has to send: from the base snapshot (not dirty), not all zeros, not cached.</summary>
    private bool NeedsFetch(BlockMapView map, long index, out Digest digest)
    {
        if (_dirty.IsDirty(index))
        {
            digest = default;
            return false;
        }

        digest = map.Get(index);
        return !digest.IsZero && !_node.Cache.Contains(digest);
    }

    private void WriteChunk(long index, int within, ReadOnlySpan<byte> source)
    {
        lock (Stripe(index))
        {
            if (_dirty.IsDirty(index))
            {
                _dirty.Write(index, within, source);
                if (_commitActive)
                {
                    lock (_touchedLock)
                    {
                        _touchedDuringCommit.Add(index);
                    }
                }

                return;
            }

            if (!source.ContainsAnyExcept((byte)0) && Volatile.Read(ref _map).Get(index).IsZero)
            {
                // Zeros onto a zero chunk change nothing (mkfs, discard-by-zeroing): keep it clean and free.
                return;
            }

            if (source.Length == _chunkSize)
            {
                _dirty.Write(index, 0, source);
            }
            else
            {
                // First write to a clean chunk: the dirty copy must hold the whole chunk, so merge with the base.
                var buffer = ArrayPool<byte>.Shared.Rent(_chunkSize);
                try
                {
                    var chunk = buffer.AsSpan(0, _chunkSize);
                    ReadBase(index, chunk);
                    source.CopyTo(chunk[within..]);
                    _dirty.Write(index, 0, chunk);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }

            _dirty.MarkDirty(index);
        }
    }

    private void ReadBase(long index, Span<byte> chunk)
    {
        var map = Volatile.Read(ref _map);
        var digest = map.Get(index);
        if (digest.IsZero)
        {
            chunk.Clear();
            return;
        }

        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (_node.Cache.TryRead(digest, 0, chunk))
            {
                return;
            }

            _node.Fetcher.Fetch([digest], [], _chunkSize, Stats);
        }

        throw new IOException($"Chunk {digest} was fetched but left the cache before it could be read; the cache is too small for the load.");
    }

    private Lock Stripe(long index) => _stripes[(int)(index & (LockStripes - 1))];

    private void LogFailure(string operation, long offset, int length, Exception e)
    {
        switch (e)
        {
            case ChunkCorruptException corrupt:
                _logger.LogError("Volume {Volume}: {Operation} of {Length} bytes at {Offset} failed: chunk {Digest} is corrupt (it does not hash to its name); returned EIO.",
                    VolumeId, operation, length, offset, corrupt.Digest);
                break;
            case TimeoutException:
                _logger.LogError("Volume {Volume}: {Operation} of {Length} bytes at {Offset} failed: {Error} Returned EIO.", VolumeId, operation, length, offset, e.Message);
                break;
            default:
                _logger.LogError(e, "Volume {Volume}: {Operation} of {Length} bytes at {Offset} failed: {Error} Returned EIO.", VolumeId, operation, length, offset, e.Message);
                break;
        }
    }

    // ---- commit support (used by VolumeCommitter) ----

    /// <summary>Starts tracking writes to dirty chunks and returns the chunks to commit.</summary>
    internal List<long> BeginCommit()
    {
        lock (_touchedLock)
        {
            _touchedDuringCommit.Clear();
        }

        _commitActive = true;
        return _dirty.DirtyIndexes();
    }

    /// <summary>Reads a dirty chunk whole (the commit hashes and uploads exactly these bytes).</summary>
    internal void ReadDirtyChunk(long index, Span<byte> chunk)
    {
        lock (Stripe(index))
        {
            _dirty.Read(index, 0, chunk);
        }
    }

    /// <summary>
    /// After the server took the snapshot: the new snapshot becomes the base, and every committed chunk that
    /// was not written again meanwhile stops being dirty (its bytes are in the chunk cache by then).
    /// </summary>
    internal async Task CompleteCommitAsync(Digest snapshot, IReadOnlyList<long> committed, CancellationToken cancellationToken)
    {
        var map = await BlockMapView.LoadAsync(Geometry, snapshot, null, _node.Fetcher, cancellationToken);
        var state = _state with { BaseSnapshot = snapshot.ToString() };

        // Order matters for a crash at any point: state first (the old journal still names every committed
        // chunk, whose bytes are still in the data file), then the map swap, then cleaning.
        state.Save(_node.Paths.VolumeDirectory(VolumeId));
        _state = state;
        Volatile.Write(ref _map, map);

        var cleaned = new List<long>(committed.Count);
        foreach (var index in committed)
        {
            lock (Stripe(index))
            {
                bool touched;
                lock (_touchedLock)
                {
                    touched = _touchedDuringCommit.Contains(index);
                }

                if (!touched && _dirty.MarkClean(index))
                {
                    cleaned.Add(index);
                }
            }
        }

        EndCommit();
        _dirty.Compact(cleaned, Stripe);
    }

    internal void EndCommit()
    {
        _commitActive = false;
        lock (_touchedLock)
        {
            _touchedDuringCommit.Clear();
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            _dirty.Sync();
        }
        catch (IOException e)
        {
            _logger.LogError(e, "Volume {Volume}: final sync of dirty chunks failed: {Error}", VolumeId, e.Message);
        }

        _dirty.Dispose();
        _attachLock.Dispose();
        CommitGate.Dispose();
    }
}
