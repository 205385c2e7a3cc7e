using System.Collections.Frozen;

namespace Slacker.Core.Model;

/// <summary>
/// All-zero chunks are never stored: a block map names them with <see cref="Digest.Zero"/>. A client that
/// hashes a zero chunk anyway gets one of these nine digests (one per allowed chunk size); the server treats
/// them as present and maps them to zero, so a naive writer cannot fill the store with zeros.
/// </summary>
public static class ZeroChunks
{
    private static readonly FrozenDictionary<Digest, int> BySize = Build();

    /// <summary>The chunk size whose all-zero content hashes to <paramref name="digest"/>, or 0.</summary>
    public static int SizeOf(Digest digest) => BySize.GetValueOrDefault(digest);

    public static bool IsZeroChunk(Digest digest) => BySize.ContainsKey(digest);

    private static FrozenDictionary<Digest, int> Build()
    {
        var zeros = new byte[ChunkGeometry.MaxChunkSize];
        var map = new Dictionary<Digest, int>();
        for (var size = ChunkGeometry.MinChunkSize; size <= ChunkGeometry.MaxChunkSize; size *= 2)
        {
            map[Digest.Compute(zeros.AsSpan(0, size))] = size;
        }

        return map.ToFrozenDictionary();
    }
}
