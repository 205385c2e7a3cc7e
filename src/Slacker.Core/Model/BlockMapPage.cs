using System.Runtime.InteropServices;

namespace Slacker.Core.Model;

/// <summary>
/// A block-map page on the wire and at rest: exactly <see cref="ChunkGeometry.EntriesPerPage"/> digests,
/// zero meaning "zero chunk". Pages are content-addressed (SHA-256 of these bytes); a page whose entries are
/// all zero is never stored and is named by <see cref="Digest.Zero"/> in the root.
/// </summary>
public static class BlockMapPage
{
    public static Digest GetEntry(ReadOnlySpan<byte> page, int slot) =>
        MemoryMarshal.Cast<byte, Digest>(page)[slot];

    public static void SetEntry(Span<byte> page, int slot, Digest digest) =>
        MemoryMarshal.Cast<byte, Digest>(page)[slot] = digest;

    public static ReadOnlySpan<Digest> Entries(ReadOnlySpan<byte> page) => MemoryMarshal.Cast<byte, Digest>(page);

    public static bool IsAllZero(ReadOnlySpan<byte> page) => !page.ContainsAnyExcept((byte)0);

    /// <summary>The page's name in the root: its SHA-256, or zero for an all-zero page.</summary>
    public static Digest NameOf(ReadOnlySpan<byte> page)
    {
        Validate(page);
        return IsAllZero(page) ? Digest.Zero : Digest.Compute(page);
    }

    public static void Validate(ReadOnlySpan<byte> page)
    {
        if (page.Length != ChunkGeometry.PageBytes)
        {
            throw new InvalidDataException($"A block-map page is {ChunkGeometry.PageBytes} bytes, got {page.Length}.");
        }
    }
}
