using Slacker.Core.Model;

namespace Slacker.Core.Tests;

public sealed class SnapshotBuilderTests
{
    private static readonly ChunkGeometry Geometry = new(64L << 30, 65536); // 1 Mi chunks, 1024 pages

    private static Digest Chunk(int n) => Digest.Compute(BitConverter.GetBytes(n));

    [Fact]
    public void Changes_rewrite_only_their_pages()
    {
        var build = SnapshotBuilder.Build(BlockMapRoot.Empty(Geometry), _ => throw new InvalidOperationException("nothing to read"),
            [new ChunkChange(5, Chunk(1)), new ChunkChange(1023, Chunk(2)), new ChunkChange(500_000, Chunk(3))]);

        Assert.Equal(2, build.NewPages.Count);
        var nonZero = Enumerable.Range(0, Geometry.PageCount).Where(p => !build.Root.Pages[p].IsZero).ToArray();
        Assert.Equal([0, 500_000 / 1024], nonZero);
        Assert.Equal(Chunk(2), BlockMapPage.GetEntry(build.NewPages[0].Bytes, 1023));
        Assert.Equal(build.Id, build.Root.ComputeId());
        Assert.Equal(build.Id, Digest.Compute(build.RootBytes));
    }

    [Fact]
    public void Base_pages_are_read_only_where_changes_fall_and_the_rest_is_carried_over()
    {
        var first = SnapshotBuilder.Build(BlockMapRoot.Empty(Geometry), _ => default,
            [new ChunkChange(10, Chunk(1)), new ChunkChange(2048, Chunk(2)), new ChunkChange(900_000, Chunk(3))]);
        var store = first.NewPages.ToDictionary(p => p.Digest, p => p.Bytes);
        var reads = new List<Digest>();
        ChunkChange[] changes = [new ChunkChange(11, Chunk(4))];

        Assert.Equal([first.Root.Pages[0]], SnapshotBuilder.PagesToRead(first.Root, changes));
        var second = SnapshotBuilder.Build(first.Root, d =>
        {
            reads.Add(d);
            return store[d];
        }, changes);

        Assert.Equal([first.Root.Pages[0]], reads);
        var page0 = Assert.Single(second.NewPages);
        Assert.Equal(Chunk(1), BlockMapPage.GetEntry(page0.Bytes, 10));
        Assert.Equal(Chunk(4), BlockMapPage.GetEntry(page0.Bytes, 11));
        Assert.Equal(first.Root.Pages[2], second.Root.Pages[2]);
        Assert.Equal(first.Root.Pages[900_000 / 1024], second.Root.Pages[900_000 / 1024]);
    }

    [Fact]
    public void Clearing_every_entry_of_a_page_names_it_zero_and_stores_nothing()
    {
        var first = SnapshotBuilder.Build(BlockMapRoot.Empty(Geometry), _ => default, [new ChunkChange(7, Chunk(1))]);
        var store = first.NewPages.ToDictionary(p => p.Digest, p => p.Bytes);

        var second = SnapshotBuilder.Build(first.Root, d => store[d], [new ChunkChange(7, Digest.Zero)]);

        Assert.Empty(second.NewPages);
        Assert.True(second.Root.Pages[0].IsZero);
        Assert.Equal(BlockMapRoot.Empty(Geometry).ComputeId(), second.Id);
    }

    [Fact]
    public void Same_content_gives_the_same_id()
    {
        var a = SnapshotBuilder.Build(BlockMapRoot.Empty(Geometry), _ => default, [new ChunkChange(1, Chunk(1))]);
        var store = a.NewPages.ToDictionary(p => p.Digest, p => p.Bytes);

        var b = SnapshotBuilder.Build(a.Root, d => store[d], [new ChunkChange(1, Chunk(1))]);

        Assert.Equal(a.Id, b.Id);
        Assert.Empty(b.NewPages);
    }

    [Fact]
    public void Corrupt_base_page_is_refused()
    {
        var first = SnapshotBuilder.Build(BlockMapRoot.Empty(Geometry), _ => default, [new ChunkChange(1, Chunk(1))]);
        var corrupt = first.NewPages[0].Bytes.ToArray();
        corrupt[40] ^= 1;

        var e = Assert.Throws<InvalidDataException>(() => SnapshotBuilder.Build(first.Root, _ => corrupt, [new ChunkChange(2, Chunk(2))]));
        Assert.Contains(first.Root.Pages[0].ToString(), e.Message);
    }

    [Fact]
    public void Unsorted_or_out_of_range_changes_are_refused()
    {
        var empty = BlockMapRoot.Empty(new ChunkGeometry(1 << 20, 65536));
        Assert.Throws<ArgumentException>(() => SnapshotBuilder.Build(empty, _ => default, [new ChunkChange(3, Chunk(1)), new ChunkChange(2, Chunk(1))]));
        Assert.Throws<ArgumentOutOfRangeException>(() => SnapshotBuilder.Build(empty, _ => default, [new ChunkChange(16, Chunk(1))]));
    }

    [Fact]
    public void Zero_chunk_digests_are_known_for_every_chunk_size()
    {
        for (var size = ChunkGeometry.MinChunkSize; size <= ChunkGeometry.MaxChunkSize; size *= 2)
        {
            Assert.Equal(size, ZeroChunks.SizeOf(Digest.Compute(new byte[size])));
        }

        Assert.False(ZeroChunks.IsZeroChunk(Digest.Compute(new byte[1000])));
    }
}
