using Slacker.Core.Model;

namespace Slacker.Core.Storage;

/// <summary>Content offered to a store under a digest it does not hash to. Nothing was stored.</summary>
public sealed class DigestMismatchException(Digest expected, Digest actual, long length)
    : IOException($"{length} bytes hash to {actual}, not to {expected}.")
{
    public Digest Expected { get; } = expected;

    public Digest Actual { get; } = actual;

    public long Length { get; } = length;
}
