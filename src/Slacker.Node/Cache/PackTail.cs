namespace Slacker.Node.Cache;

/// <summary>
/// The last <see cref="WindowBytes"/> of the pack being filled, in memory. Records are appended here; they go to
/// the file a megabyte at a time, in one O_DIRECT write of whole 4 KiB blocks, and stay here to be read until
/// newer records overwrite them (a ring: byte <c>f</c> of the pack is at <c>f % WindowBytes</c>).
/// <para>
/// Why: on a VM whose free memory goes back to the hypervisor (free page reporting), the first touch of a newly
/// allocated page costs a host fault, and every page-cache page is newly allocated. A buffered append copied each
/// cached byte into such pages (the largest single item of a cold read: 21 % of all CPU samples), and reading a
/// chunk back from the file touched such pages again. Here the append is a copy into memory that stays resident,
/// the file gets its bytes by DMA, and a cold reader, which follows the fetcher by at most the read-ahead window
/// (8 MiB), finds its chunks in memory. Writes are large because each direct write is a round trip to the
/// hypervisor's block device (64 KiB writes cost ten times the CPU of 1 MiB ones).
/// </para>
/// Not thread-safe: the cache calls it under its pack lock.
/// </summary>
internal sealed class PackTail
{
    /// <summary>Direct writes start and end on this boundary: the page size, a multiple of any disk's logical block.</summary>
    public const int Alignment = AlignedBuffer.Alignment;

    /// <summary>Unwritten bytes that trigger a write.</summary>
    public const int WriteBytes = 1 << 20;

    /// <summary>How much of the pack's end stays readable from memory: twice the default read-ahead window.</summary>
    public const int WindowBytes = 16 << 20;

    private AlignedBuffer? _ring;
    private long _written;

    /// <summary>The pack these bytes belong to; null when no pack is being filled.</summary>
    public CachePack? Pack { get; private set; }

    /// <summary>End of the pack: where the next record goes.</summary>
    public long End { get; private set; }

    /// <summary>Bytes below this are in the file (a multiple of <see cref="Alignment"/>).</summary>
    public long Written => _written;

    /// <summary>The first byte still in memory.</summary>
    public long MemoryStart => Math.Max(0, End - WindowBytes + WriteBytes + Alignment);

    private Span<byte> Ring => _ring!.Span;

    /// <summary>Starts filling <paramref name="pack"/>, which must be new (empty).</summary>
    public void Attach(CachePack pack)
    {
        // Allocated on first use: a cache that never fetches (a tool reading the directory) pays nothing.
        _ring ??= new AlignedBuffer(WindowBytes);

        Pack = pack;
        End = 0;
        _written = 0;
        Volatile.Write(ref pack.MemoryFrom, 0);
    }

    /// <summary>Forgets the pack and whatever of it is only here (it was deleted, or a write failed).</summary>
    public void Detach()
    {
        if (Pack is { } pack)
        {
            Volatile.Write(ref pack.MemoryFrom, long.MaxValue);
        }

        Pack = null;
        End = 0;
        _written = 0;
    }

    /// <summary>Adds bytes at the pack's end, writing whole blocks to the file whenever a megabyte is unwritten.</summary>
    public void Append(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            // Never more than a write's worth at a time, so that unwritten bytes are never overwritten.
            var piece = bytes[..Math.Min(bytes.Length, WriteBytes)];
            var at = (int)(End % WindowBytes);
            var first = Math.Min(piece.Length, WindowBytes - at);
            piece[..first].CopyTo(Ring[at..]);
            piece[first..].CopyTo(Ring);
            End += piece.Length;
            bytes = bytes[piece.Length..];
            if (End - _written >= WriteBytes)
            {
                WriteWholeBlocks();
            }
        }

        Volatile.Write(ref Pack!.MemoryFrom, MemoryStart);
    }

    /// <summary>
    /// Puts every byte in the file (so that a restart, or a tool reading the directory, finds them). The partial
    /// last block goes through the page cache, since a direct write cannot end mid-block; the kernel writes it
    /// back before the next direct write over the same block, so the file never goes backwards.
    /// </summary>
    public void Flush()
    {
        WriteWholeBlocks();
        if (End > _written)
        {
            RandomAccess.Write(Pack!.Handle, Ring.Slice((int)(_written % WindowBytes), (int)(End - _written)), _written);
        }
    }

    /// <summary>Copies the pack's bytes from <paramref name="offset"/>, which must be at least <see cref="MemoryStart"/>.</summary>
    public void CopyTo(long offset, Span<byte> destination)
    {
        var at = (int)(offset % WindowBytes);
        var first = Math.Min(destination.Length, WindowBytes - at);
        Ring.Slice(at, first).CopyTo(destination);
        Ring[..(destination.Length - first)].CopyTo(destination[first..]);
    }

    private void WriteWholeBlocks()
    {
        var pack = Pack!;
        var end = End / Alignment * Alignment;
        while (_written < end)
        {
            // The window is a multiple of the alignment, so a write that wraps splits into two aligned ones.
            var at = (int)(_written % WindowBytes);
            var length = (int)Math.Min(end - _written, WindowBytes - at);
            RandomAccess.Write(pack.DirectHandle ?? pack.Handle, Ring.Slice(at, length), _written);
            _written += length;
        }
    }
}
