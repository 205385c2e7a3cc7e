using System.Numerics;

namespace Slacker.Core.Model;

/// <summary>
/// How a volume is cut into chunks and how its block map is cut into pages. Every layer (server, node,
/// images) derives indexes from this one type so that they can never disagree about where a byte lives.
/// </summary>
public readonly record struct ChunkGeometry
{
    public const int MinChunkSize = 4 * 1024;
    public const int MaxChunkSize = 1024 * 1024;
    public const int DefaultChunkSize = 64 * 1024;

    /// <summary>1024 entries of 32 bytes: a 32 KiB page covers 64 MiB of volume at the default chunk size.</summary>
    public const int EntriesPerPage = 1024;
    public const int PageBytes = EntriesPerPage * Digest.Length;

    public long VolumeSize { get; }
    public int ChunkSize { get; }
    public int ChunkShift { get; }

    public ChunkGeometry(long volumeSize, int chunkSize)
    {
        if (Validate(volumeSize, chunkSize) is { } error)
        {
            throw new ArgumentException(error);
        }

        VolumeSize = volumeSize;
        ChunkSize = chunkSize;
        ChunkShift = BitOperations.Log2((uint)chunkSize);
    }

    public long ChunkCount => VolumeSize >> ChunkShift;

    public int PageCount => (int)((ChunkCount + EntriesPerPage - 1) / EntriesPerPage);

    public long ChunkIndexOf(long offset) => offset >> ChunkShift;

    public long OffsetOf(long chunkIndex) => chunkIndex << ChunkShift;

    public static int PageOf(long chunkIndex) => (int)(chunkIndex / EntriesPerPage);

    public static int SlotOf(long chunkIndex) => (int)(chunkIndex % EntriesPerPage);

    /// <summary>Returns null when valid, else a message that names the problem and the allowed values.</summary>
    public static string? Validate(long volumeSize, int chunkSize)
    {
        if (chunkSize < MinChunkSize || chunkSize > MaxChunkSize || !BitOperations.IsPow2(chunkSize))
        {
            return $"chunk size {chunkSize} is not allowed: use a power of two from {MinChunkSize} (4 KiB) to {MaxChunkSize} (1 MiB).";
        }

        if (volumeSize <= 0)
        {
            return $"volume size {volumeSize} is not allowed: it must be positive.";
        }

        if (volumeSize % chunkSize != 0)
        {
            return $"volume size {volumeSize} is not a multiple of the chunk size {chunkSize}: round it up to {((volumeSize / chunkSize) + 1) * chunkSize}.";
        }

        // Pages are addressed with int; 2^31 pages of 1024 chunks is far beyond any real volume.
        if ((volumeSize / chunkSize) / EntriesPerPage >= int.MaxValue)
        {
            return $"volume size {volumeSize} is too large for chunk size {chunkSize}.";
        }

        return null;
    }
}
