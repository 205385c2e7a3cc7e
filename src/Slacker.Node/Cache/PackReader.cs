using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>
/// Reads ranges of pack files for the cache. A chunk's first read (by the read that fetched it, as a rule) goes
/// through one of a few node-wide windows: one O_DIRECT read of the aligned blocks around it, plus the rest of the
/// caller's FUSE request, into a resident, aligned buffer, then copies out of it. Later reads of a chunk, and small
/// reads (a random 4 KiB hit), go through the page cache, where repeated hits are cheapest.
/// <para>
/// Why not buffered reads for first reads: a page-cache miss allocates new pages and the kernel copies out of
/// them, and on a VM whose free memory goes back to the hypervisor the guest's first touch of each new page costs
/// a host fault. Reading back chunks fetched moments earlier (a startup profile prefetches far ahead of the
/// reader) cost as much CPU as fetching them, for data that the reader's own ext4 then caches anyway. Probing the
/// page cache first (preadv2 with RWF_NOWAIT) does not help: the probe starts readahead into new pages, and the
/// next probe pays for them.
/// </para>
/// <para>
/// Why windows: chunks sit in a pack in the order they were fetched, which for a sequential reader is file order,
/// so the next chunks of a FUSE request usually follow its first one: one disk round trip per request, not per
/// chunk. Reading further ahead (1-4 MiB) measured slower, with or without background loads. The windows are
/// shared, not per thread, so that their memory stays bounded (8 MiB) whatever the number of FUSE threads. Packs
/// are append-only and a record is indexed only once complete, so the bytes a window holds never change.
/// </para>
/// </summary>
internal sealed class PackReader
{
    /// <summary>Reads at least this long use O_DIRECT.</summary>
    public const int DirectMinBytes = 32 << 10;

    private const int WindowCount = 8;
    private const int Alignment = AlignedBuffer.Alignment;

    // A FUSE request (at most 1 MiB, or one chunk of at most 1 MiB) with its records' headers and alignment.
    private const int WindowBytes = ChunkGeometry.MaxChunkSize + (4 * Alignment);

    // Guards every window's fields; I/O and copies happen outside it, protected by Loading and Readers. A Monitor
    // (not a Lock) because a reader waits on it for a window that another thread is loading.
    private readonly object _gate = new();
    private readonly Window[] _windows = [.. Enumerable.Range(0, WindowCount).Select(_ => new Window())];
    private long _clock;

    /// <summary>
    /// Fills <paramref name="destination"/> from <paramref name="position"/>; returns the bytes read, short only at
    /// the end of the file. <paramref name="readAheadBytes"/>: how much the caller reads right after this range
    /// (the rest of its FUSE request), which a direct read brings in with this one; negative: read through the
    /// page cache whatever the size.
    /// </summary>
    public int Read(CachePack pack, Span<byte> destination, long position, int readAheadBytes)
    {
        var done = 0;
        if (readAheadBytes >= 0 && destination.Length >= DirectMinBytes && pack.DirectHandle is not null)
        {
            done = ReadThroughWindow(pack, destination, position, readAheadBytes);
        }

        while (done < destination.Length)
        {
            var n = RandomAccess.Read(pack.Handle, destination[done..], position + done);
            if (n == 0)
            {
                break;
            }

            done += n;
        }

        return done;
    }

    /// <summary>The bytes copied (short at the end of the file); 0 when every window is busy.</summary>
    private int ReadThroughWindow(CachePack pack, Span<byte> destination, long position, int readAheadBytes)
    {
        var end = position + destination.Length;
        Window? window;
        bool load;
        lock (_gate)
        {
            while ((window = Covering(pack, position, end)) is { Loading: true })
            {
                // Another thread is reading these bytes right now: wait for it rather than read them twice.
                Monitor.Wait(_gate);
            }

            load = window is null;
            if (load)
            {
                window = Victim();
                if (window is null)
                {
                    return 0;
                }

                // The next chunks' record headers lie between them: a block of slack covers them.
                var start = position & ~(long)(Alignment - 1);
                var stop = (end + readAheadBytes + (readAheadBytes > 0 ? Alignment : 0) + Alignment - 1) & ~(long)(Alignment - 1);
                window.Pack = pack;
                window.Start = start;
                window.Length = (int)Math.Min(stop - start, WindowBytes);
                window.Loading = true;
                _ = window.Buffer;
            }

            window!.Readers++;
            window.LastUse = ++_clock;
        }

        try
        {
            if (load)
            {
                Load(window, pack);
            }

            var skip = (int)(position - window.Start);
            var usable = Math.Clamp(window.Length - skip, 0, destination.Length);
            window.Buffer.Span.Slice(skip, usable).CopyTo(destination);
            return usable;
        }
        finally
        {
            lock (_gate)
            {
                window.Readers--;
            }
        }
    }

    private void Load(Window window, CachePack pack)
    {
        var got = 0;
        try
        {
            var span = window.Buffer.Span[..window.Length];
            while (got < span.Length)
            {
                var n = RandomAccess.Read(pack.DirectHandle!, span[got..], window.Start + got);
                if (n == 0)
                {
                    break; // the end of the file: the window holds less than was asked for
                }

                got += n;
            }
        }
        finally
        {
            lock (_gate)
            {
                window.Length = got;
                window.Loading = false;
                Monitor.PulseAll(_gate);
            }
        }
    }

    /// <summary>A window that holds (or is loading) all of [position, end) of the pack. Under the gate.</summary>
    private Window? Covering(CachePack pack, long position, long end)
    {
        foreach (var window in _windows)
        {
            if (ReferenceEquals(window.Pack, pack) && position >= window.Start && end <= window.Start + window.Length)
            {
                return window;
            }
        }

        return null;
    }

    /// <summary>The least recently used window that nobody reads or loads; null when all are busy. Under the gate.</summary>
    private Window? Victim()
    {
        Window? victim = null;
        foreach (var window in _windows)
        {
            if (!window.Loading && window.Readers == 0 && (victim is null || window.LastUse < victim.LastUse))
            {
                victim = window;
            }
        }

        return victim;
    }

    private sealed class Window
    {
        private AlignedBuffer? _buffer;

        public CachePack? Pack;
        public long Start;
        public int Length;
        public bool Loading;
        public int Readers;
        public long LastUse;

        // Allocated on first use, so that a cache that never reads from disk pays nothing.
        public AlignedBuffer Buffer => _buffer ??= new AlignedBuffer(WindowBytes);
    }
}
