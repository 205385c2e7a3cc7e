namespace Slacker.Core.Model;

/// <summary>One block-map entry set to a chunk digest; <see cref="Digest.Zero"/> means "zero chunk".</summary>
public readonly record struct ChunkChange(long Index, Digest Digest);
