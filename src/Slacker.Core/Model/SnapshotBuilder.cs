namespace Slacker.Core.Model;

/// <summary>
/// Builds a snapshot's block map from its base and the changes since: a pure function. Only the pages that
/// hold a change are read and rewritten; every other page digest is carried over from the base root, which is
/// why taking a snapshot costs O(changed pages) and never O(volume).
/// </summary>
public static class SnapshotBuilder
{
    /// <summary>
    /// The base pages that <see cref="Build"/> will ask for, so a caller can fetch them (in parallel, async)
    /// before calling it. Changes must be sorted by index.
    /// </summary>
    public static IReadOnlyList<Digest> PagesToRead(BlockMapRoot baseRoot, ReadOnlySpan<ChunkChange> sortedChanges)
    {
        var pages = new List<Digest>();
        var last = -1;
        foreach (var change in sortedChanges)
        {
            var page = ChunkGeometry.PageOf(change.Index);
            if (page != last && page < baseRoot.Pages.Length && !baseRoot.Pages[page].IsZero)
            {
                pages.Add(baseRoot.Pages[page]);
            }

            last = page;
        }

        return pages;
    }

    /// <param name="baseRoot">The base snapshot's root, or <see cref="BlockMapRoot.Empty"/> for a fresh volume.</param>
    /// <param name="readPage">Returns a base page's bytes by digest; they are verified here.</param>
    /// <param name="sortedChanges">Strictly ascending indexes within the volume.</param>
    public static SnapshotBuild Build(BlockMapRoot baseRoot, Func<Digest, ReadOnlyMemory<byte>> readPage, ReadOnlySpan<ChunkChange> sortedChanges)
    {
        var geometry = baseRoot.Geometry;
        var pageDigests = baseRoot.Pages.ToArray();
        var written = new List<PageContent>();
        var i = 0;
        while (i < sortedChanges.Length)
        {
            var pageIndex = ChunkGeometry.PageOf(sortedChanges[i].Index);
            var page = new byte[ChunkGeometry.PageBytes];
            var old = pageDigests[pageIndex];
            if (!old.IsZero)
            {
                var bytes = readPage(old).Span;
                if (bytes.Length != ChunkGeometry.PageBytes || !old.Matches(bytes))
                {
                    throw new InvalidDataException($"Block-map page {old} (page {pageIndex} of the base) is corrupt: it does not hash to its name.");
                }

                bytes.CopyTo(page);
            }

            for (; i < sortedChanges.Length && ChunkGeometry.PageOf(sortedChanges[i].Index) == pageIndex; i++)
            {
                var change = sortedChanges[i];
                if (change.Index < 0 || change.Index >= geometry.ChunkCount)
                {
                    throw new ArgumentOutOfRangeException(nameof(sortedChanges), $"Chunk index {change.Index} is outside the volume's {geometry.ChunkCount} chunks.");
                }

                if (i > 0 && sortedChanges[i - 1].Index >= change.Index)
                {
                    throw new ArgumentException($"Changes must be sorted by index without repeats; {change.Index} follows {sortedChanges[i - 1].Index}.", nameof(sortedChanges));
                }

                BlockMapPage.SetEntry(page, ChunkGeometry.SlotOf(change.Index), change.Digest);
            }

            var name = BlockMapPage.NameOf(page);
            if (name != old)
            {
                pageDigests[pageIndex] = name;
                if (!name.IsZero)
                {
                    written.Add(new PageContent(name, page));
                }
            }
        }

        var root = new BlockMapRoot(geometry, pageDigests);
        var rootBytes = root.Encode();
        return new SnapshotBuild(root, Digest.Compute(rootBytes), rootBytes, written);
    }
}

/// <summary>A block-map page and its name.</summary>
public sealed record PageContent(Digest Digest, byte[] Bytes);

/// <summary>The result of <see cref="SnapshotBuilder.Build"/>: the new root, its id, and the pages that did not exist in the base.</summary>
public sealed record SnapshotBuild(BlockMapRoot Root, Digest Id, byte[] RootBytes, IReadOnlyList<PageContent> NewPages);
