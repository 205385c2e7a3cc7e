using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>
/// The node-wide content-addressed cache of chunks and block-map pages, shared by every volume on the node and
/// bounded in size with LRU eviction. Blobs are appended to pack files of up to <see cref="PackBytes"/> under
/// <c>DIR/packs</c>, each behind a header that names its digest.
/// <para>
/// Why packs and not a file per chunk: creating a file costs an inode and a directory entry, which with the write
/// was the largest share of a cold read's CPU (and on an ext4 without a journal, every create also scans the inodes freed in the
/// last minutes, so a cache that evicts got slower the more it evicted). A hit is a copy from memory or one read on
/// a handle that stays open, and eviction deletes a few large files instead of thousands of small ones.
/// </para>
/// Fetched chunks are appended on the thread that receives them, into the <see cref="PackTail"/> of the pack
/// being filled, which goes to disk a megabyte at a time with O_DIRECT (why: see there). A blob enters the index
/// once its record is complete in the tail, so within a process an indexed digest always stands for complete
/// bytes that were verified when they arrived; what is still in the tail is read from memory. <see cref="Flush"/>
/// puts the tail in the file (the fetcher calls it after 0.5 s without fetches, the node when it stops), so a crash loses
/// at most the last megabyte, which is fetched again. Packs are not fsynced (the cache can always be refetched):
/// after a restart the index is rebuilt by scanning the packs' headers, and each blob is hashed once on its first
/// read, because a crash may have left it garbled.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "A node opens its cache once and keeps it for the life of the process; the packs' SafeFileHandles close when the process ends or the packs are deleted.")]
public sealed class ChunkCache
{
    private const string PacksDirectoryName = "packs";

    private readonly ConcurrentDictionary<Digest, CacheEntry> _entries = new();

    // Appends, pack creation and deletion. Hits never take it.
    private readonly Lock _packLock = new();
    private readonly Dictionary<int, CachePack> _packs = [];
    private readonly string _packsDirectory;
    private readonly ILogger _logger;

    // The pack being filled is _tail.Pack.
    private readonly PackTail _tail;
    private readonly PackReader _reader = new();
    private int _nextPackId;
    private long _bytes;
    private long _clock;
    private long _hits, _misses, _inserts, _evictions, _corrupt;

    private ChunkCache(string directory, long capacityBytes, int memoryBytes, ILogger logger)
    {
        _tail = new PackTail((int)Math.Min(capacityBytes / 4, memoryBytes));
        Directory = Path.GetFullPath(directory);
        CapacityBytes = capacityBytes;
        _logger = logger;
        _packsDirectory = Path.Combine(Directory, PacksDirectoryName);

        // Sixteen packs or more, so that evicting one drops at most about a sixteenth of the cache; at most
        // 64 MiB each, so that LRU stays fine-grained; never smaller than a 64 KiB chunk.
        PackBytes = Math.Clamp(capacityBytes / 16, 64L << 10, 64L << 20);
    }

    public string Directory { get; }

    public long CapacityBytes { get; }

    /// <summary>A pack takes records until the next one would pass this size (a larger blob gets a pack of its own).</summary>
    public long PackBytes { get; }

    /// <summary>Blob bytes in the packs on disk (what counts against <see cref="CapacityBytes"/>; headers add 48 bytes per blob).</summary>
    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    /// <summary>Opens (or creates) the cache in <paramref name="directory"/> and indexes the packs already there.</summary>
    /// <param name="memoryBytes">The most memory that holds the last records appended (<see cref="PackTail"/>); at most a quarter of the capacity.</param>
    public static ChunkCache Open(string directory, long capacityBytes, ILogger? logger = null, int memoryBytes = PackTail.DefaultCapacity)
    {
        if (capacityBytes < ChunkGeometry.MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), $"A chunk cache of {capacityBytes} bytes cannot hold even one 1 MiB chunk; give it at least {ChunkGeometry.MaxChunkSize} bytes.");
        }

        var cache = new ChunkCache(directory, capacityBytes, memoryBytes, logger ?? NullLogger.Instance);
        cache.Rebuild();
        return cache;
    }

    /// <summary>The digests of every blob in the packs under <paramref name="directory"/>, read without opening the cache (tools and tests).</summary>
    public static IReadOnlyList<Digest> DigestsOnDisk(string directory)
    {
        var result = new List<Digest>();
        var packs = Path.Combine(directory, PacksDirectoryName);
        if (!System.IO.Directory.Exists(packs))
        {
            return result;
        }

        foreach (var file in System.IO.Directory.EnumerateFiles(packs, "*.pack"))
        {
            using var handle = File.OpenHandle(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            result.AddRange(PackScanner.Scan(handle).Records.Select(r => r.Digest));
        }

        return result;
    }

    public ChunkCacheStats Stats() => new(
        _entries.Count,
        Bytes,
        CapacityBytes,
        Interlocked.Read(ref _hits),
        Interlocked.Read(ref _misses),
        Interlocked.Read(ref _inserts),
        Interlocked.Read(ref _evictions),
        Interlocked.Read(ref _corrupt));

    public bool Contains(Digest digest) => _entries.ContainsKey(digest);

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/> of the cached blob.
    /// Bytes past the end of the blob read as zeros (a chunk is zero-padded to the chunk size). False when the blob
    /// is not cached, vanished under eviction, or failed its first-read verification. Allocates nothing.
    /// <paramref name="readAheadBytes"/>: how much the caller reads next from the following chunks (the rest of its
    /// request); a read from disk brings that in with this one.
    /// </summary>
    public bool TryRead(Digest digest, int offset, Span<byte> destination, int readAheadBytes = 0)
    {
        if (!_entries.TryGetValue(digest, out var entry) || (!entry.Verified && !Verify(digest, entry)))
        {
            Interlocked.Increment(ref _misses);
            return false;
        }

        // A chunk's first read is nearly always by the read that fetched it (or its first use after a restart):
        // it goes past the page cache. A read after that means the chunk is shared or re-read, and then keeping it
        // in the page cache is worth the cost of new pages (see PackReader).
        var available = Math.Clamp(entry.Size - offset, 0, destination.Length);
        var firstRead = !entry.Consumed;
        if (!TryReadBlob(digest, entry, offset, destination[..available], firstRead ? readAheadBytes : -1))
        {
            Interlocked.Increment(ref _misses);
            return false;
        }

        if (firstRead && offset + available == entry.Size)
        {
            entry.Consumed = true;
        }

        destination[available..].Clear();
        Volatile.Write(ref entry.Pack.LastUse, Interlocked.Increment(ref _clock));
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>The whole blob (block-map pages, roots, a commit's chunks), or null when it is not cached.</summary>
    public byte[]? TryReadAll(Digest digest)
    {
        if (!_entries.TryGetValue(digest, out var entry) || (!entry.Verified && !Verify(digest, entry)))
        {
            return null;
        }

        var bytes = GC.AllocateUninitializedArray<byte>(entry.Size);
        if (!TryReadBlob(digest, entry, 0, bytes, readAheadBytes: -1))
        {
            return null;
        }

        Volatile.Write(ref entry.Pack.LastUse, Interlocked.Increment(ref _clock));
        return bytes;
    }

    /// <summary>
    /// Stores bytes that the caller has verified against <paramref name="digest"/>. A blob already present is left
    /// alone (same name, same bytes). <paramref name="pin"/> keeps it (and its pack) from eviction until
    /// <see cref="Unpin"/>.
    /// </summary>
    public void Put(Digest digest, ReadOnlySpan<byte> data, bool pin = false)
    {
        if (_entries.TryGetValue(digest, out var existing) && (!pin || TryPin(digest, existing)))
        {
            return;
        }

        PackWrite write;
        lock (_packLock)
        {
            // A racing Put of the same bytes may have won while this one waited for the lock.
            if (_entries.TryGetValue(digest, out existing) && (!pin || TryPin(digest, existing)))
            {
                return;
            }

            var pack = PackFor(data.Length);
            var offset = pack.Length;
            Append(pack, digest, data);
            var entry = new CacheEntry(pack, offset + PackRecordHeader.Size, data.Length, verified: true) { Pins = pin ? 1 : 0 };
            pack.Length = offset + PackRecordHeader.Size + data.Length;
            pack.BlobBytes += data.Length;
            pack.Digests.Add(digest);
            pack.Live++;
            pack.LastUse = Interlocked.Increment(ref _clock);
            _entries[digest] = entry;
            Interlocked.Add(ref _bytes, data.Length);
            Interlocked.Increment(ref _inserts);
            write = _tail.TakeWrite();
        }

        WriteOutsideLock(write);
        if (Bytes > CapacityBytes)
        {
            Evict();
        }
    }

    public void Unpin(Digest digest)
    {
        if (_entries.TryGetValue(digest, out var entry) && Interlocked.Decrement(ref entry.Pins) < 0)
        {
            Interlocked.Exchange(ref entry.Pins, 0);
        }
    }

    /// <summary>
    /// Puts the records that are still in memory into their pack file, so that a restart (or a tool reading the
    /// directory) finds them. A write that fails drops those records, as <see cref="Put"/> does.
    /// </summary>
    public void Flush()
    {
        lock (_packLock)
        {
            if (_tail.Pack is { } pack)
            {
                FlushTail(pack);
            }
        }
    }

    /// <summary>Drops a blob (e.g. one that failed verification). Its bytes stay on disk until its pack goes.</summary>
    public void Remove(Digest digest)
    {
        if (_entries.TryGetValue(digest, out var entry))
        {
            Forget(digest, entry);
        }
    }

    /// <summary>Drops every unpinned blob and deletes the packs left without one (the benchmark's cold start).</summary>
    public void Clear()
    {
        foreach (var (digest, entry) in _entries)
        {
            if (Volatile.Read(ref entry.Pins) == 0)
            {
                Forget(digest, entry);
            }
        }
    }

    /// <summary>Whether the pack being filled is written with O_DIRECT (false on file systems that refuse it, or before the first record).</summary>
    internal bool WritesDirect
    {
        get
        {
            lock (_packLock)
            {
                return _tail.Pack?.DirectHandle is not null;
            }
        }
    }

    /// <summary>Where a blob's bytes are on disk (tests damage them there, as a crash would).</summary>
    internal (string Path, long Offset, int Length)? Locate(Digest digest) =>
        _entries.TryGetValue(digest, out var entry) ? (entry.Pack.Path, entry.Offset, entry.Size) : null;

    private bool TryPin(Digest digest, CacheEntry entry)
    {
        Interlocked.Increment(ref entry.Pins);

        // Evicted while we pinned it: the caller writes it again.
        return _entries.TryGetValue(digest, out var still) && ReferenceEquals(still, entry);
    }

    /// <summary>The pack the next record of <paramref name="length"/> bytes goes to. Under the pack lock.</summary>
    private CachePack PackFor(int length)
    {
        if (_tail.Pack is { } active)
        {
            if (active.Length == 0 || active.Length + PackRecordHeader.Size + length <= PackBytes)
            {
                return active;
            }

            FlushTail(active);
            _tail.Detach();
        }

        var id = _nextPackId++;
        var path = Path.Combine(_packsDirectory, CachePack.FileName(id));
        try
        {
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            var pack = new CachePack(id, path, handle, 0, CachePack.OpenDirect(path));
            _packs.Add(id, pack);
            _tail.Attach(pack);
            return pack;
        }
        catch (IOException e)
        {
            throw new IOException($"Creating cache pack {path} failed: {e.Message} Check space and permissions under {Directory}.", e);
        }
    }

    /// <summary>Adds one record at the end of the pack being filled. Under the pack lock.</summary>
    private void Append(CachePack pack, Digest digest, ReadOnlySpan<byte> data)
    {
        var header = PackRecordHeader.For(digest, data.Length);
        try
        {
            _tail.Append(MemoryMarshal.AsBytes(new ReadOnlySpan<PackRecordHeader>(in header)));
            _tail.Append(data);
        }
        catch (IOException e)
        {
            throw WriteFailed(pack, e, LoseTail(pack), digest);
        }
    }

    /// <summary>
    /// Writes the blocks a Put took from the ring, without the pack lock: readers of the ring and other appends
    /// go on meanwhile. Then takes the next megabyte if one piled up. A failure drops what was not on disk, as
    /// <see cref="FlushTail"/> does.
    /// </summary>
    private void WriteOutsideLock(PackWrite write)
    {
        while (!write.IsEmpty)
        {
            var pack = write.Pack!;
            try
            {
                _tail.Write(write);
            }
            catch (IOException e)
            {
                int lost;
                lock (_packLock)
                {
                    _tail.Finished(write, done: false);
                    lost = ReferenceEquals(_tail.Pack, pack) ? LoseTail(pack) : 0;
                }

                throw WriteFailed(pack, e, lost);
            }
            catch (ObjectDisposedException)
            {
                // Its pack was evicted or cleared meanwhile: nothing left to write.
                lock (_packLock)
                {
                    _tail.Finished(write, done: false);
                }

                return;
            }

            lock (_packLock)
            {
                _tail.Finished(write, done: true);
                write = _tail.TakeWrite();
            }
        }
    }

    /// <summary>Puts the tail of <paramref name="pack"/> in its file; a failure drops the records it held. Under the pack lock.</summary>
    private void FlushTail(CachePack pack)
    {
        try
        {
            _tail.Flush();
        }
        catch (IOException e)
        {
            throw WriteFailed(pack, e, LoseTail(pack));
        }
    }

    /// <summary>The one error of a failed pack write: what failed, what was dropped, what to do.</summary>
    private IOException WriteFailed(CachePack pack, IOException cause, int lost, Digest? chunk = null)
    {
        var dropped = chunk is { } digest ? $"Chunk {digest} and {lost} other chunk(s)" : $"The {lost} chunk(s)";
        return new IOException($"Writing cache pack {pack.Path} failed: {cause.Message} {dropped} not yet on disk were dropped and will be fetched again. Free space under {Directory} or lower the node's cache size.", cause);
    }

    /// <summary>
    /// After a failed tail write: cuts the pack back to its last complete record in the file, drops the records
    /// that were only in memory, and stops filling the pack (the next record starts a new one). Returns how many
    /// indexed blobs were dropped. Under the pack lock.
    /// </summary>
    private int LoseTail(CachePack pack)
    {
        var written = _tail.Written;
        _tail.Detach();
        var end = 0L;
        var blobBytes = 0L;
        try
        {
            RandomAccess.SetLength(pack.Handle, written);
            var scan = PackScanner.Scan(pack.Handle);
            RandomAccess.SetLength(pack.Handle, scan.End);
            end = scan.End;
            blobBytes = scan.Records.Sum(r => (long)r.Length);
        }
        catch (IOException e)
        {
            // Nothing of this pack can be trusted now; it goes below. A restart's scan stops at a torn record anyway.
            _logger.LogWarning("Chunk cache: cutting {Pack} back after a failed write failed too: {Error}", pack.Path, e.Message);
        }

        pack.Length = end;
        Interlocked.Add(ref _bytes, blobBytes - pack.BlobBytes);
        pack.BlobBytes = blobBytes;

        var lost = 0;
        foreach (var digest in pack.Digests)
        {
            if (_entries.TryGetValue(digest, out var entry) && ReferenceEquals(entry.Pack, pack) && entry.Offset + entry.Size > end
                && _entries.TryRemove(new KeyValuePair<Digest, CacheEntry>(digest, entry)))
            {
                pack.Live--;
                lost++;
            }
        }

        if (pack.Live == 0)
        {
            DeletePack(pack);
        }

        return lost;
    }

    /// <summary>
    /// Reads part of a blob; false (and the entry dropped) when its pack went or its bytes are not all there.
    /// <paramref name="readAheadBytes"/>: see <see cref="PackReader.Read"/>; -1 reads through the page cache.
    /// </summary>
    private bool TryReadBlob(Digest digest, CacheEntry entry, int offset, Span<byte> destination, int readAheadBytes)
    {
        var position = entry.Offset + offset;
        var pack = entry.Pack;
        if (pack.StreamBase >= 0 && pack.StreamBase + position + destination.Length > _tail.Floor)
        {
            lock (_packLock)
            {
                // Recent records are read from memory; the part below the ring's floor (if any) is in the file.
                var memoryStart = _tail.MemoryStart(pack);
                if (position + destination.Length > memoryStart)
                {
                    var inFile = (int)Math.Clamp(memoryStart - position, 0, destination.Length);
                    _tail.CopyTo(pack, position + inFile, destination[inFile..]);
                    return TryReadFile(digest, entry, position, destination[..inFile], readAheadBytes);
                }
            }
        }

        return TryReadFile(digest, entry, position, destination, readAheadBytes);
    }

    private bool TryReadFile(Digest digest, CacheEntry entry, long position, Span<byte> destination, int readAheadBytes)
    {
        try
        {
            if (_reader.Read(entry.Pack, destination, position, readAheadBytes) < destination.Length)
            {
                _logger.LogWarning("Chunk cache: {Digest} ends early in {Pack} (cut short by a crash); dropped it, it will be fetched again.", digest, entry.Pack.Path);
                Interlocked.Increment(ref _corrupt);
                Forget(digest, entry);
                return false;
            }
        }
        catch (ObjectDisposedException)
        {
            // Its pack was evicted between the lookup and the read: a plain miss.
            return false;
        }
        catch (IOException e)
        {
            throw new IOException($"Reading cached blob {digest} from {entry.Pack.Path} failed: {e.Message} Check the disk under {Directory}.", e);
        }

        return true;
    }

    private bool Verify(Digest digest, CacheEntry entry)
    {
        if (entry.Size > ChunkGeometry.MaxChunkSize * 2L)
        {
            // Roots of very large volumes are the only blobs this big; they are read whole and checked by id.
            entry.Verified = true;
            return true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(entry.Size);
        try
        {
            var blob = buffer.AsSpan(0, entry.Size);
            if (!TryReadBlob(digest, entry, 0, blob, entry.Consumed ? -1 : 0))
            {
                return false;
            }

            if (digest.Matches(blob))
            {
                entry.Verified = true;
                return true;
            }

            Interlocked.Increment(ref _corrupt);
            _logger.LogWarning("Chunk cache: the blob at offset {Offset} of {Pack} does not hash to {Digest} (damaged by a crash or on disk); dropped it, it will be fetched again.", entry.Offset, entry.Pack.Path, digest);
            Forget(digest, entry);
            return false;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void Forget(Digest digest, CacheEntry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<Digest, CacheEntry>(digest, entry)))
        {
            return;
        }

        lock (_packLock)
        {
            if (--entry.Pack.Live == 0)
            {
                DeletePack(entry.Pack);
            }
        }
    }

    /// <summary>Removes a pack with no live entry from disk and from the byte count. Under the pack lock.</summary>
    private void DeletePack(CachePack pack)
    {
        if (!_packs.Remove(pack.Id))
        {
            return;
        }

        if (ReferenceEquals(_tail.Pack, pack))
        {
            _tail.Detach();
        }

        Interlocked.Add(ref _bytes, -pack.BlobBytes);
        pack.Dispose();
        try
        {
            File.Delete(pack.Path);
        }
        catch (IOException e)
        {
            _logger.LogWarning("Chunk cache: deleting {Pack} failed: {Error}", pack.Path, e.Message);
        }
    }

    private void Evict()
    {
        lock (_packLock)
        {
            // Drop to 90% so that eviction runs once per batch of inserts, not on every insert.
            var target = CapacityBytes / 10 * 9;
            if (Bytes <= CapacityBytes)
            {
                return;
            }

            // The pack being filled goes last: it holds what was just fetched.
            var candidates = _packs.Values.OrderBy(p => ReferenceEquals(p, _tail.Pack)).ThenBy(p => Volatile.Read(ref p.LastUse)).ToList();
            foreach (var pack in candidates)
            {
                if (Bytes <= target)
                {
                    break;
                }

                if (pack.Digests.Any(d => _entries.TryGetValue(d, out var e) && ReferenceEquals(e.Pack, pack) && Volatile.Read(ref e.Pins) > 0))
                {
                    continue;
                }

                foreach (var digest in pack.Digests)
                {
                    if (_entries.TryGetValue(digest, out var entry) && ReferenceEquals(entry.Pack, pack)
                        && _entries.TryRemove(new KeyValuePair<Digest, CacheEntry>(digest, entry)))
                    {
                        Interlocked.Increment(ref _evictions);
                    }
                }

                DeletePack(pack);
            }
        }
    }

    private void Rebuild()
    {
        System.IO.Directory.CreateDirectory(_packsDirectory);
        DropOneFilePerChunkLayout();

        var files = new List<(int Id, string Path)>();
        foreach (var file in System.IO.Directory.EnumerateFiles(_packsDirectory))
        {
            if (CachePack.TryParseId(Path.GetFileName(file), out var id))
            {
                files.Add((id, file));
            }
        }

        // In write order, so that a blob found twice keeps its newer copy and LRU starts from the write order.
        files.Sort(static (a, b) => a.Id.CompareTo(b.Id));
        foreach (var (id, path) in files)
        {
            _nextPackId = Math.Max(_nextPackId, id + 1);
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            var scan = PackScanner.Scan(handle);
            if (scan.End < RandomAccess.GetLength(handle))
            {
                _logger.LogWarning("Chunk cache: {Pack} ends in a torn record (a crash cut an append short); cut it back to {End} bytes.", path, scan.End);
                RandomAccess.SetLength(handle, scan.End);
            }

            var pack = new CachePack(id, path, handle, scan.End, CachePack.OpenDirect(path)) { LastUse = ++_clock };
            _packs.Add(id, pack);
            foreach (var record in scan.Records)
            {
                pack.Digests.Add(record.Digest);
                pack.BlobBytes += record.Length;
                if (_entries.TryGetValue(record.Digest, out var older))
                {
                    older.Pack.Live--;
                }

                _entries[record.Digest] = new CacheEntry(pack, record.Offset, record.Length, verified: false);
                pack.Live++;
            }

            _bytes += pack.BlobBytes;
        }

        foreach (var pack in _packs.Values.Where(p => p.Live == 0).ToList())
        {
            DeletePack(pack);
        }

        if (!_entries.IsEmpty)
        {
            _logger.LogInformation("Chunk cache {Directory}: {Count} blobs, {Bytes} bytes in {Packs} packs found at start.", Directory, _entries.Count, _bytes, _packs.Count);
        }

        if (Bytes > CapacityBytes)
        {
            Evict();
        }
    }

    /// <summary>Nodes before the packs kept a file per blob in DIR/hh/ and wrote through DIR/tmp; that cache is dropped, not converted.</summary>
    private void DropOneFilePerChunkLayout()
    {
        var dropped = 0;
        foreach (var directory in System.IO.Directory.EnumerateDirectories(Directory))
        {
            var name = Path.GetFileName(directory);
            if (name == "tmp" || (name.Length == 2 && Uri.IsHexDigit(name[0]) && Uri.IsHexDigit(name[1])))
            {
                dropped += System.IO.Directory.EnumerateFiles(directory).Count();
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }

        if (dropped > 0)
        {
            _logger.LogInformation("Chunk cache {Directory}: dropped {Count} blobs of the old one-file-per-blob layout; they will be fetched again when read.", Directory, dropped);
        }
    }
}
