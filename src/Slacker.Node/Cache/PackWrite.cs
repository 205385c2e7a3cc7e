namespace Slacker.Node.Cache;

/// <summary>Whole blocks of a pack to write from the <see cref="PackTail"/> ring: taken under the cache's lock, written outside it.</summary>
internal readonly record struct PackWrite(CachePack? Pack, long Start, long End)
{
    public bool IsEmpty => Pack is null;
}
