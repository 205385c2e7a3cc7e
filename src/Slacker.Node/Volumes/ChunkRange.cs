namespace Slacker.Node.Volumes;

/// <summary>The chunks [<see cref="First"/>, <see cref="End"/>) of a volume; empty when End &lt;= First.</summary>
internal readonly record struct ChunkRange(long First, long End)
{
    public static ChunkRange Empty => default;

    public bool IsEmpty => End <= First;

    public long Count => IsEmpty ? 0 : End - First;
}
