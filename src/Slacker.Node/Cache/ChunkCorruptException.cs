using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>Bytes that do not hash to the digest they were fetched by. Never served; the read fails with EIO.</summary>
public sealed class ChunkCorruptException(Digest digest, string message) : IOException(message)
{
    public Digest Digest { get; } = digest;
}
