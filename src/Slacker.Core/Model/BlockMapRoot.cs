using System.Buffers.Binary;

namespace Slacker.Core.Model;

/// <summary>
/// The root of a snapshot's Merkle block map. Its canonical bytes are hashed to give the snapshot id, so the
/// id verifies the geometry, every page and, through the pages, every chunk.
/// <code>
/// 0   8  magic "SLKMAP01"
/// 8   8  volume size, u64 LE
/// 16  4  chunk size, u32 LE
/// 20  4  entries per page, u32 LE (always 1024 in v1)
/// 24  4  page count, u32 LE
/// 28  4  reserved, zero
/// 32  .  page count x 32-byte page digests (zero = all-zero page)
/// </code>
/// </summary>
public sealed class BlockMapRoot
{
    public const string MediaType = "application/vnd.slacker.blockmap.root.v1";
    public const string PageMediaType = "application/vnd.slacker.blockmap.page.v1";
    public const int HeaderSize = 32;
    private static ReadOnlySpan<byte> Magic => "SLKMAP01"u8;

    private readonly Digest[] _pages;

    public BlockMapRoot(ChunkGeometry geometry, Digest[] pages)
    {
        if (pages.Length != geometry.PageCount)
        {
            throw new ArgumentException($"A volume of {geometry.VolumeSize} bytes in {geometry.ChunkSize}-byte chunks has {geometry.PageCount} pages, got {pages.Length}.");
        }

        Geometry = geometry;
        _pages = pages;
    }

    public ChunkGeometry Geometry { get; }

    public ReadOnlySpan<Digest> Pages => _pages;

    /// <summary>An empty (all-zero) volume.</summary>
    public static BlockMapRoot Empty(ChunkGeometry geometry) => new(geometry, new Digest[geometry.PageCount]);

    public int EncodedLength => HeaderSize + (_pages.Length * Digest.Length);

    public byte[] Encode()
    {
        var bytes = new byte[EncodedLength];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8), (ulong)Geometry.VolumeSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(16), (uint)Geometry.ChunkSize);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(20), ChunkGeometry.EntriesPerPage);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(24), (uint)_pages.Length);
        for (var i = 0; i < _pages.Length; i++)
        {
            _pages[i].CopyTo(bytes.AsSpan(HeaderSize + (i * Digest.Length)));
        }

        return bytes;
    }

    /// <summary>The snapshot id that these bytes define.</summary>
    public Digest ComputeId() => Digest.Compute(Encode());

    /// <summary>Decodes root bytes, checking them against the id they were fetched by when one is given.</summary>
    public static BlockMapRoot Decode(ReadOnlySpan<byte> bytes, Digest? expectedId = null)
    {
        if (expectedId is { } id && !id.Matches(bytes))
        {
            throw new InvalidDataException($"Block-map root does not hash to {id}: the data is corrupt or was tampered with.");
        }

        if (bytes.Length < HeaderSize || !bytes[..8].SequenceEqual(Magic))
        {
            throw new InvalidDataException("Not a Slacker block-map root (bad magic or too short).");
        }

        var volumeSize = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes[8..]);
        var chunkSize = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes[16..]);
        var perPage = BinaryPrimitives.ReadUInt32LittleEndian(bytes[20..]);
        var pageCount = BinaryPrimitives.ReadUInt32LittleEndian(bytes[24..]);
        if (perPage != ChunkGeometry.EntriesPerPage)
        {
            throw new InvalidDataException($"Block-map root has {perPage} entries per page; this version reads {ChunkGeometry.EntriesPerPage}.");
        }

        if (ChunkGeometry.Validate(volumeSize, chunkSize) is { } error)
        {
            throw new InvalidDataException("Block-map root has an invalid geometry: " + error);
        }

        var geometry = new ChunkGeometry(volumeSize, chunkSize);
        if (pageCount != geometry.PageCount || bytes.Length != HeaderSize + (pageCount * Digest.Length))
        {
            throw new InvalidDataException($"Block-map root length {bytes.Length} does not match its {pageCount} pages.");
        }

        var pages = new Digest[pageCount];
        for (var i = 0; i < pages.Length; i++)
        {
            pages[i] = new Digest(bytes.Slice(HeaderSize + (i * Digest.Length), Digest.Length));
        }

        return new BlockMapRoot(geometry, pages);
    }
}
