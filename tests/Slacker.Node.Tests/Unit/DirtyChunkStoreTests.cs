using Slacker.Core.Model;
using Slacker.Node.Tests.Infrastructure;
using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Unit;

public sealed class DirtyChunkStoreTests
{
    private static readonly ChunkGeometry Geometry = new(64L << 20, 64 * 1024);

    [Fact]
    public void Synced_chunks_survive_reopen_and_unsynced_first_writes_do_not_count()
    {
        using var dir = new TempDirectory();
        var chunk = new byte[Geometry.ChunkSize];
        Array.Fill(chunk, (byte)7);
        using (var store = DirtyChunkStore.Open(dir.Path, Geometry))
        {
            store.Write(3, 0, chunk);
            store.MarkDirty(3);
            store.Write(900, 0, chunk);
            store.MarkDirty(900);
            store.Sync();
            store.Write(5, 0, chunk);
            store.MarkDirty(5); // never synced: as if the node died here
        }

        using var reopened = DirtyChunkStore.Open(dir.Path, Geometry);
        Assert.Equal([3L, 900L], reopened.DirtyIndexes());
        var read = new byte[Geometry.ChunkSize];
        reopened.Read(900, 0, read);
        Assert.Equal(chunk, read);
    }

    [Fact]
    public void A_torn_journal_tail_is_cut_off()
    {
        using var dir = new TempDirectory();
        using (var store = DirtyChunkStore.Open(dir.Path, Geometry))
        {
            store.Write(1, 0, new byte[Geometry.ChunkSize]);
            store.MarkDirty(1);
            store.Sync();
        }

        // A crash while appending can leave zeros or half a record.
        using (var journal = new FileStream(Path.Combine(dir.Path, "journal"), FileMode.Append))
        {
            journal.Write(new byte[16 + 7]);
        }

        using var reopened = DirtyChunkStore.Open(dir.Path, Geometry);
        Assert.Equal([1L], reopened.DirtyIndexes());
        Assert.Equal(16, new FileInfo(Path.Combine(dir.Path, "journal")).Length);
    }

    [Fact]
    public void Compact_forgets_cleaned_chunks_and_frees_their_space()
    {
        using var dir = new TempDirectory();
        var chunk = new byte[Geometry.ChunkSize];
        Array.Fill(chunk, (byte)9);
        var stripe = new Lock();
        using (var store = DirtyChunkStore.Open(dir.Path, Geometry))
        {
            foreach (var i in new long[] { 2, 4, 6 })
            {
                store.Write(i, 0, chunk);
                store.MarkDirty(i);
            }

            store.Sync();
            Assert.True(store.MarkClean(4));
            store.Compact([4], _ => stripe);
            Assert.Equal(2, store.Count);
        }

        using var reopened = DirtyChunkStore.Open(dir.Path, Geometry);
        Assert.Equal([2L, 6L], reopened.DirtyIndexes());
        var read = new byte[Geometry.ChunkSize];
        reopened.Read(4, 0, read);
        Assert.All(read, b => Assert.Equal(0, b));
    }
}
