namespace Slacker.Node.Cache;

/// <summary>
/// The last bytes appended to the cache, in memory: a ring of <see cref="Capacity"/> bytes through which every
/// record goes. Records go from here to the pack being filled a megabyte at a time, in one O_DIRECT write of whole
/// 4 KiB blocks, and stay here to be read until newer records overwrite them, also after their pack is full.
/// Each pack starts at a 4 KiB-aligned point of the append stream (<see cref="CachePack.StreamBase"/>), so byte
/// <c>f</c> of a pack is at <c>(StreamBase + f) % Capacity</c> and its blocks are aligned in memory as on disk.
/// <para>
/// Why: on a VM whose free memory goes back to the hypervisor (free page reporting), the first touch of a newly
/// allocated page costs a host fault, and every page-cache page is newly allocated. A buffered append copied each
/// cached byte into such pages (the largest single item of a cold read: 21 % of all CPU samples), and reading a
/// chunk back from the file touched such pages again. Here the append is a copy into memory that stays resident,
/// the file gets its bytes by DMA, and a reader of what was just fetched (a cold stream follows the fetcher by at
/// most its 8 MiB read-ahead window; a container start reads what its startup profile prefetched) finds it in
/// memory. Writes are large because each direct write is a round trip to the
/// hypervisor's block device (64 KiB writes cost ten times the CPU of 1 MiB ones).
/// </para>
/// Not thread-safe: the cache calls it under its pack lock, all but <see cref="Write"/>.
/// </summary>
internal sealed class PackTail(int capacity)
{
    // Direct writes start and end on this boundary: the page size, a multiple of any disk's logical block.
    private const int Alignment = AlignedBuffer.Alignment;

    /// <summary>Unwritten bytes that trigger a write.</summary>
    public const int WriteBytes = 1 << 20;

    /// <summary>The smallest ring: writes in flight, a whole 1 MiB chunk and room to read.</summary>
    public const int MinCapacity = 8 << 20;

    /// <summary>The default: more than a large image's startup profile (80 MB for postgres in HelloBench).</summary>
    public const int DefaultCapacity = 128 << 20;

    private AlignedBuffer? _ring;
    private long _streamEnd;
    private long _floor;
    private long _written;
    private bool _writing;

    /// <summary>Ring size in bytes (a multiple of <see cref="Alignment"/>).</summary>
    public int Capacity { get; } = Math.Max(MinCapacity, capacity) / Alignment * Alignment;

    /// <summary>The pack being filled; null when there is none.</summary>
    public CachePack? Pack { get; private set; }

    /// <summary>Bytes of the pack being filled below this are in its file (a multiple of <see cref="Alignment"/>).</summary>
    public long Written => _written;

    /// <summary>
    /// Stream offset of the oldest byte still in the ring (read without the lock for a first guess; re-checked
    /// under it). Bytes below it are in their packs' files.
    /// </summary>
    public long Floor => Volatile.Read(ref _floor);

    private Span<byte> Ring => _ring!.Span;

    /// <summary>Starts filling <paramref name="pack"/>, which must be new (empty), at the next aligned point of the stream.</summary>
    public void Attach(CachePack pack)
    {
        // Allocated on first use: a cache that never fetches (a tool reading the directory) pays nothing.
        _ring ??= new AlignedBuffer(Capacity);
        _streamEnd = (_streamEnd + Alignment - 1) / Alignment * Alignment;
        pack.StreamBase = _streamEnd;
        Pack = pack;
        _written = 0;
    }

    /// <summary>Stops filling the pack (it is full, deleted, or a write failed); what the ring holds of it stays readable.</summary>
    public void Detach()
    {
        Pack = null;
        _written = 0;
    }

    /// <summary>
    /// Adds bytes at the end of the pack being filled. The writes to its file are taken with
    /// <see cref="TakeWrite"/> and done outside the cache's lock; only when the ring is nearly full of unwritten
    /// bytes (a disk that fell far behind) does this write them itself.
    /// </summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        var pack = Pack!;
        while (!bytes.IsEmpty)
        {
            // Never more than a write's worth at a time, so that unwritten bytes are never overwritten.
            var piece = bytes[..Math.Min(bytes.Length, WriteBytes)];
            if (End(pack) + piece.Length - _written > Capacity - WriteBytes)
            {
                // Rewriting a range that a write in flight also covers is harmless: the ring's bytes never change.
                WriteWholeBlocks(pack);
            }

            Volatile.Write(ref _floor, Math.Max(0, _streamEnd + piece.Length - Capacity));
            var at = (int)(_streamEnd % Capacity);
            var first = Math.Min(piece.Length, Capacity - at);
            piece[..first].CopyTo(Ring[at..]);
            piece[first..].CopyTo(Ring);
            _streamEnd += piece.Length;
            bytes = bytes[piece.Length..];
        }
    }

    /// <summary>
    /// The whole blocks to write now, once a megabyte is unwritten and no other write is in flight; the caller
    /// writes them with <see cref="Write"/> after releasing the cache's lock (so that readers of the ring and
    /// other appends do not wait for the disk) and then calls <see cref="Finished"/>.
    /// </summary>
    public PackWrite TakeWrite()
    {
        if (Pack is not { } pack || _writing || End(pack) - _written < WriteBytes)
        {
            return default;
        }

        _writing = true;
        return new PackWrite(pack, _written, End(pack) / Alignment * Alignment);
    }

    /// <summary>Does a write taken with <see cref="TakeWrite"/>; no lock held. The ring's bytes of the range stay as they are meanwhile.</summary>
    public void Write(PackWrite write) => WriteBlocks(write.Pack!, write.Start, write.End);

    /// <summary>Records that a write taken with <see cref="TakeWrite"/> ended (done or failed). Under the cache's lock.</summary>
    public void Finished(PackWrite write, bool done)
    {
        _writing = false;
        if (done && ReferenceEquals(Pack, write.Pack))
        {
            _written = Math.Max(_written, write.End);
        }
    }

    /// <summary>
    /// Puts every byte of the pack being filled in its file (so that a restart, or a tool reading the directory,
    /// finds them). The partial last block goes through the page cache, since a direct write cannot end
    /// mid-block; the kernel writes it back before the next direct write over the same block, so the file never
    /// goes backwards.
    /// </summary>
    public void Flush()
    {
        var pack = Pack!;
        WriteWholeBlocks(pack);
        var end = End(pack);
        if (end > _written)
        {
            RandomAccess.Write(pack.Handle, Ring.Slice(At(pack, _written), (int)(end - _written)), _written);
        }
    }

    /// <summary>
    /// Where the ring's copy of <paramref name="pack"/> starts (a pack offset): <see cref="long.MaxValue"/> for a
    /// pack of which it holds nothing. Under the cache's pack lock.
    /// </summary>
    public long MemoryStart(CachePack pack) =>
        pack.StreamBase < 0 || _floor >= pack.StreamBase + pack.Length ? long.MaxValue : Math.Max(0, _floor - pack.StreamBase);

    /// <summary>Copies bytes of <paramref name="pack"/> from <paramref name="offset"/>, at least <see cref="MemoryStart"/>. Under the cache's pack lock.</summary>
    public void CopyTo(CachePack pack, long offset, Span<byte> destination)
    {
        var at = At(pack, offset);
        var first = Math.Min(destination.Length, Capacity - at);
        Ring.Slice(at, first).CopyTo(destination);
        Ring[..(destination.Length - first)].CopyTo(destination[first..]);
    }

    private long End(CachePack pack) => _streamEnd - pack.StreamBase;

    private int At(CachePack pack, long offset) => (int)((pack.StreamBase + offset) % Capacity);

    private void WriteWholeBlocks(CachePack pack)
    {
        var end = End(pack) / Alignment * Alignment;
        WriteBlocks(pack, _written, end);
        _written = Math.Max(_written, end);
    }

    private void WriteBlocks(CachePack pack, long start, long end)
    {
        for (var offset = start; offset < end;)
        {
            // The ring and every pack's start are aligned, so a write that wraps splits into two aligned ones.
            var at = At(pack, offset);
            var length = (int)Math.Min(end - offset, Capacity - at);
            RandomAccess.Write(pack.DirectHandle ?? pack.Handle, Ring.Slice(at, length), offset);
            offset += length;
        }
    }
}
