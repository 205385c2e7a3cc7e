using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.Core.Model;
using Slacker.Native;

namespace Slacker.Node.Cache;

/// <summary>
/// The node-wide content-addressed cache: one file per chunk (or block-map page) at
/// <c>DIR/&lt;first two hex digits&gt;/&lt;64 hex digits&gt;</c>, shared by every volume on the node, bounded in
/// size with LRU eviction. A blob enters the index only after its file is completely written, so within a
/// process a name in the index always stands for complete bytes that were verified when they arrived. Files
/// are not fsynced (the cache can always be refetched): after a restart the index is rebuilt from the
/// directory and each file is hashed once on its first read, because a crash may have left it short or garbled.
/// </summary>
public sealed partial class ChunkCache
{
    // "<dir>/" + "hh/" + 64 hex + NUL.
    private const int NameTail = 3 + 64 + 1;

    private readonly ConcurrentDictionary<Digest, CacheEntry> _entries = new();
    private readonly byte[] _directoryUtf8;
    private readonly string _tempDirectory;
    private readonly ILogger _logger;
    private readonly Lock _evictLock = new();
    private long _bytes;
    private long _clock;
    private long _tempCounter;
    private long _hits, _misses, _inserts, _evictions, _corrupt;

    private ChunkCache(string directory, long capacityBytes, ILogger logger)
    {
        Directory = Path.GetFullPath(directory);
        CapacityBytes = capacityBytes;
        _logger = logger;
        _directoryUtf8 = Encoding.UTF8.GetBytes(Directory.TrimEnd('/') + "/");
        _tempDirectory = Path.Combine(Directory, "tmp");
    }

    public string Directory { get; }

    public long CapacityBytes { get; }

    public long Bytes => Interlocked.Read(ref _bytes);

    public int Count => _entries.Count;

    /// <summary>Opens (or creates) the cache in <paramref name="directory"/> and indexes the files already there.</summary>
    public static ChunkCache Open(string directory, long capacityBytes, ILogger? logger = null)
    {
        if (capacityBytes < ChunkGeometry.MaxChunkSize)
        {
            throw new ArgumentOutOfRangeException(nameof(capacityBytes), $"A chunk cache of {capacityBytes} bytes cannot hold even one 1 MiB chunk; give it at least {ChunkGeometry.MaxChunkSize} bytes.");
        }

        var cache = new ChunkCache(directory, capacityBytes, logger ?? NullLogger.Instance);
        cache.Rebuild();
        return cache;
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

    public bool Contains(Digest digest) =>
        _entries.ContainsKey(digest) || (Volatile.Read(ref _stagedCount) > 0 && _staged.ContainsKey(digest));

    /// <summary>
    /// Copies <paramref name="destination"/>.Length bytes starting at <paramref name="offset"/> of the cached blob.
    /// Bytes past the end of the blob read as zeros (a chunk is zero-padded to the chunk size). False when the blob
    /// is not cached, vanished under eviction, or failed its first-read verification. Allocates nothing.
    /// </summary>
    public unsafe bool TryRead(Digest digest, int offset, Span<byte> destination)
    {
        if (TryReadStaged(digest, offset, destination))
        {
            Interlocked.Increment(ref _hits);
            return true;
        }

        if (!_entries.TryGetValue(digest, out var entry))
        {
            Interlocked.Increment(ref _misses);
            return false;
        }

        if (!entry.Verified && !Verify(digest, entry))
        {
            Interlocked.Increment(ref _misses);
            return false;
        }

        Span<byte> path = stackalloc byte[_directoryUtf8.Length + NameTail];
        FormatPath(digest, path);
        int fd;
        fixed (byte* p = path)
        {
            fd = Libc.Open(p, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            // Evicted between the lookup and the open: a plain miss.
            Forget(digest, entry);
            Interlocked.Increment(ref _misses);
            return false;
        }

        try
        {
            var done = 0;
            fixed (byte* d = destination)
            {
                while (done < destination.Length)
                {
                    var n = Libc.Pread(fd, d + done, (nuint)(destination.Length - done), offset + done);
                    if (n < 0)
                    {
                        var errno = Libc.LastErrno;
                        if (errno == Libc.EINTR)
                        {
                            continue;
                        }

                        throw new IOException($"Reading cached blob {digest} failed: {Libc.ErrnoText(errno)}. Check the disk under {Directory}.");
                    }

                    if (n == 0)
                    {
                        destination[done..].Clear();
                        break;
                    }

                    done += (int)n;
                }
            }
        }
        finally
        {
            Libc.Close(fd);
        }

        Volatile.Write(ref entry.LastUse, Interlocked.Increment(ref _clock));
        Interlocked.Increment(ref _hits);
        return true;
    }

    /// <summary>The whole blob (used for block-map pages and roots), or null when it is not cached.</summary>
    public byte[]? TryReadAll(Digest digest)
    {
        if (StagedCopy(digest) is { } staged)
        {
            return staged;
        }

        if (!_entries.TryGetValue(digest, out var entry) || (!entry.Verified && !Verify(digest, entry)))
        {
            return null;
        }

        try
        {
            var bytes = File.ReadAllBytes(PathOf(digest));
            Volatile.Write(ref entry.LastUse, Interlocked.Increment(ref _clock));
            return bytes;
        }
        catch (FileNotFoundException)
        {
            Forget(digest, entry);
            return null;
        }
    }

    /// <summary>
    /// Stores bytes that the caller has verified against <paramref name="digest"/>. A blob already present is left
    /// alone (same name, same bytes). <paramref name="pin"/> keeps it from eviction until <see cref="Unpin"/>.
    /// </summary>
    public void Put(Digest digest, ReadOnlySpan<byte> data, bool pin = false)
    {
        if (_entries.TryGetValue(digest, out var existing))
        {
            if (pin)
            {
                Interlocked.Increment(ref existing.Pins);
                if (_entries.TryGetValue(digest, out var still) && ReferenceEquals(still, existing))
                {
                    return;
                }

                // Evicted while we pinned it: write it again below.
            }
            else
            {
                return;
            }
        }

        if (!TryCreateExclusive(digest, data))
        {
            // The name exists (a leftover, or a racing writer of the same bytes): replace it atomically.
            var final = PathOf(digest);
            var temp = Path.Combine(_tempDirectory, $"{digest.Hex}.{Environment.ProcessId}.{Interlocked.Increment(ref _tempCounter)}");
            using (var handle = File.OpenHandle(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, FileOptions.None, data.Length))
            {
                RandomAccess.Write(handle, data, 0);
            }

            File.Move(temp, final, overwrite: true);
        }

        var entry = new CacheEntry(data.Length, Interlocked.Increment(ref _clock), verified: true) { Pins = pin ? 1 : 0 };
        if (_entries.TryAdd(digest, entry))
        {
            Interlocked.Add(ref _bytes, data.Length);
            Interlocked.Increment(ref _inserts);
        }
        else if (pin && _entries.TryGetValue(digest, out var raced))
        {
            Interlocked.Increment(ref raced.Pins);
        }

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

    /// <summary>Drops a blob (e.g. one that failed verification).</summary>
    public void Remove(Digest digest)
    {
        Unstage(digest);
        if (_entries.TryGetValue(digest, out var entry))
        {
            Forget(digest, entry);
        }
    }

    public string PathOf(Digest digest)
    {
        var hex = digest.Hex;
        return Path.Combine(Directory, hex[..2], hex);
    }

    /// <summary>
    /// The common case of <see cref="Put"/> in three syscalls: create the final name exclusively and write it. No
    /// reader can see the file half-written, because the index learns of it only afterwards; a crash can leave it
    /// short, which the first read after the restart catches (entries found at start are verified once).
    /// </summary>
    private unsafe bool TryCreateExclusive(Digest digest, ReadOnlySpan<byte> data)
    {
        Span<byte> path = stackalloc byte[_directoryUtf8.Length + NameTail];
        FormatPath(digest, path);
        int fd;
        fixed (byte* p = path)
        {
            fd = Libc.Open(p, Libc.O_WRONLY | Libc.O_CREAT | Libc.O_EXCL | Libc.O_CLOEXEC, 0x1A4 /* 0644 */);
        }

        if (fd < 0)
        {
            var errno = Libc.LastErrno;
            return errno == Libc.EEXIST
                ? false
                : throw new IOException($"Creating cached blob {digest} under {Directory} failed: {Libc.ErrnoText(errno)}. Check space and permissions there.");
        }

        try
        {
            fixed (byte* d = data)
            {
                var done = 0;
                while (done < data.Length)
                {
                    var n = Libc.Pwrite(fd, d + done, (nuint)(data.Length - done), done);
                    if (n < 0)
                    {
                        var errno = Libc.LastErrno;
                        if (errno == Libc.EINTR)
                        {
                            continue;
                        }

                        throw new IOException($"Writing cached blob {digest} under {Directory} failed: {Libc.ErrnoText(errno)}. Free space there or lower the cache size.");
                    }

                    done += (int)n;
                }
            }
        }
        catch
        {
            Libc.Close(fd);
            TryDelete(PathOf(digest));
            throw;
        }

        Libc.Close(fd);
        return true;
    }

    private void FormatPath(Digest digest, Span<byte> path)
    {
        _directoryUtf8.CopyTo(path);
        var rest = path[_directoryUtf8.Length..];
        Convert.TryToHexStringLower(digest.AsSpan(), rest[3..], out _);
        rest[0] = rest[3];
        rest[1] = rest[4];
        rest[2] = (byte)'/';
        rest[^1] = 0;
    }

    private bool Verify(Digest digest, CacheEntry entry)
    {
        if (entry.Size > ChunkGeometry.MaxChunkSize * 2L)
        {
            // Roots of very large volumes are the only blobs this big; they are read whole and checked by id.
            entry.Verified = true;
            return true;
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)entry.Size);
        try
        {
            int read;
            try
            {
                using var handle = File.OpenHandle(PathOf(digest));
                read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)entry.Size), 0);
            }
            catch (FileNotFoundException)
            {
                Forget(digest, entry);
                return false;
            }

            if (read == entry.Size && digest.Matches(buffer.AsSpan(0, read)))
            {
                entry.Verified = true;
                return true;
            }

            Interlocked.Increment(ref _corrupt);
            _logger.LogWarning("Chunk cache: {Path} does not hash to {Digest} (damaged by a crash or on disk); dropped it, it will be fetched again.", PathOf(digest), digest);
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
        if (_entries.TryRemove(new KeyValuePair<Digest, CacheEntry>(digest, entry)))
        {
            Interlocked.Add(ref _bytes, -entry.Size);
            TryDelete(PathOf(digest));
        }
    }

    private void Evict()
    {
        if (!_evictLock.TryEnter())
        {
            return; // another thread is already evicting
        }

        try
        {
            // Drop to 90% so that eviction runs once per batch of inserts, not on every insert.
            var target = CapacityBytes / 10 * 9;
            if (Bytes <= CapacityBytes)
            {
                return;
            }

            var candidates = new List<KeyValuePair<Digest, CacheEntry>>(_entries.Count);
            foreach (var pair in _entries)
            {
                if (Volatile.Read(ref pair.Value.Pins) == 0)
                {
                    candidates.Add(pair);
                }
            }

            candidates.Sort(static (a, b) => Volatile.Read(ref a.Value.LastUse).CompareTo(Volatile.Read(ref b.Value.LastUse)));
            foreach (var (digest, entry) in candidates)
            {
                if (Bytes <= target)
                {
                    break;
                }

                if (Volatile.Read(ref entry.Pins) == 0 && _entries.TryRemove(new KeyValuePair<Digest, CacheEntry>(digest, entry)))
                {
                    Interlocked.Add(ref _bytes, -entry.Size);
                    Interlocked.Increment(ref _evictions);
                    TryDelete(PathOf(digest));
                }
            }
        }
        finally
        {
            _evictLock.Exit();
        }
    }

    private void Rebuild()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (System.IO.Directory.Exists(_tempDirectory))
        {
            // Leftovers of writes that a crash interrupted before their rename.
            System.IO.Directory.Delete(_tempDirectory, recursive: true);
        }

        System.IO.Directory.CreateDirectory(_tempDirectory);
        for (var i = 0; i < 256; i++)
        {
            // Made once here so that Put never has to.
            System.IO.Directory.CreateDirectory(Path.Combine(Directory, i.ToString("x2", System.Globalization.CultureInfo.InvariantCulture)));
        }

        var found = new List<(Digest Digest, long Size, DateTime Time)>();
        foreach (var fanout in System.IO.Directory.EnumerateDirectories(Directory))
        {
            var prefix = Path.GetFileName(fanout);
            if (prefix.Length != 2)
            {
                continue;
            }

            foreach (var file in new DirectoryInfo(fanout).EnumerateFiles())
            {
                if (file.Name.Length == 64 && file.Name.StartsWith(prefix, StringComparison.Ordinal)
                    && Digest.TryParse(Digest.Prefix + file.Name, out var digest))
                {
                    found.Add((digest, file.Length, file.LastWriteTimeUtc));
                }
            }
        }

        // Older files first, so the rebuilt LRU order roughly follows insertion order.
        found.Sort(static (a, b) => a.Time.CompareTo(b.Time));
        foreach (var (digest, size, _) in found)
        {
            if (_entries.TryAdd(digest, new CacheEntry(size, ++_clock, verified: false)))
            {
                _bytes += size;
            }
        }

        if (found.Count > 0)
        {
            _logger.LogInformation("Chunk cache {Directory}: {Count} blobs, {Bytes} bytes found at start.", Directory, found.Count, _bytes);
        }

        if (Bytes > CapacityBytes)
        {
            Evict();
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Already gone; eviction and verification can race on the same file.
        }
    }
}
