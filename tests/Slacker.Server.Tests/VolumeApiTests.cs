using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Server.Tests;

public sealed class VolumeApiTests
{
    private const long GiB = 1L << 30;

    [Fact]
    public async Task Snapshot_reads_back_exactly_and_rebases_the_volume()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(5, 65536, new Random(10));
        var volume = await server.Client.CreateVolumeAsync(GiB, 65536, "base");
        long[] indexes = [0, 1, 1023, 1024, 16383];
        await server.Client.UpdateMapAsync(volume.Id, [.. indexes.Select((index, i) => new BlockMapEntry(index, chunks[i].Digest.ToString()))]);

        var snapshot = await server.Client.SnapshotAsync(volume.Id, "v1");
        var id = Digest.Parse(snapshot.Id);

        var entries = await SnapshotVerifier.ReadVerifiedAsync(server.Client, id);
        Assert.Equal(indexes, entries.Keys);
        Assert.Equal(chunks.Select(c => c.Digest), entries.Values);
        Assert.Equal(16, snapshot.PageCount);
        Assert.Equal("v1", snapshot.Label);

        var after = await server.Client.GetVolumeAsync(volume.Id);
        Assert.Equal(snapshot.Id, after.BaseSnapshot);
        Assert.Equal(0, after.ChangedChunks);
        Assert.Contains($"volume:{volume.Id}", (await server.Client.GetSnapshotAsync(id)).ReferencedBy);
    }

    [Fact]
    public async Task Clone_shares_the_snapshot_and_diverges_without_touching_it()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(3, 65536, new Random(11));
        var volume = await server.Client.CreateVolumeAsync(GiB, 65536);
        await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(7, chunks[0].Digest.ToString())]);
        var first = Digest.Parse((await server.Client.SnapshotAsync(volume.Id)).Id);

        var clone = await server.Client.CloneAsync(first, "clone");
        Assert.Equal(first.ToString(), clone.BaseSnapshot);
        Assert.Equal(GiB, clone.Size);

        // An untouched clone snapshots to the same content, hence the same id.
        Assert.Equal(first.ToString(), (await server.Client.SnapshotAsync(clone.Id)).Id);

        await server.Client.UpdateMapAsync(clone.Id, [new BlockMapEntry(7, null), new BlockMapEntry(8, chunks[1].Digest.ToString())]);
        var second = Digest.Parse((await server.Client.SnapshotAsync(clone.Id)).Id);

        Assert.Equal([7L], (await SnapshotVerifier.ReadVerifiedAsync(server.Client, first)).Keys);
        var secondEntries = await SnapshotVerifier.ReadVerifiedAsync(server.Client, second);
        Assert.Equal([8L], secondEntries.Keys);
        Assert.Equal(chunks[1].Digest, secondEntries[8]);
    }

    [Fact]
    public async Task Map_lists_base_and_changes_and_later_entries_win()
    {
        await using var server = await InProcessServer.StartAsync();
        var chunks = await server.UploadRandomChunksAsync(2, 4096, new Random(12));
        var volume = await server.Client.CreateVolumeAsync(1 << 20, 4096);
        var info = await server.Client.UpdateMapAsync(volume.Id,
        [
            new BlockMapEntry(9, chunks[0].Digest.ToString()),
            new BlockMapEntry(2, chunks[0].Digest.ToString()),
            new BlockMapEntry(9, chunks[1].Digest.ToString()),
        ]);

        var map = await server.Client.GetMapAsync(volume.Id);

        Assert.Equal(2, info.ChangedChunks);
        Assert.Equal([2L, 9L], map.Changes.Select(c => c.Index));
        Assert.Equal(chunks[1].Digest.ToString(), map.Changes[1].Digest);
        Assert.Null(map.BaseSnapshot);
        Assert.Equal(4096, map.ChunkSize);
    }

    [Fact]
    public async Task Volumes_are_listed_and_deleted()
    {
        await using var server = await InProcessServer.StartAsync();
        var a = await server.Client.CreateVolumeAsync(GiB, 65536, "a");
        var b = await server.Client.CreateVolumeAsync(GiB, 1 << 20, "b");

        Assert.Equal(new[] { a.Id, b.Id }.Order(StringComparer.Ordinal), (await server.Client.ListVolumesAsync()).Select(v => v.Id).Order(StringComparer.Ordinal));
        await server.Client.DeleteVolumeAsync(a.Id);

        Assert.Equal([b.Id], (await server.Client.ListVolumesAsync()).Select(v => v.Id));
        var e = await Assert.ThrowsAsync<BlockStoreException>(() => server.Client.GetVolumeAsync(a.Id));
        Assert.Equal(ErrorCodes.VolumeUnknown, e.Code);
    }

    [Fact]
    public async Task Released_snapshot_lives_while_a_clone_or_reference_keeps_it()
    {
        await using var server = await InProcessServer.StartAsync(gcGrace: TimeSpan.Zero);
        var chunks = await server.UploadRandomChunksAsync(1, 65536, new Random(13));
        var volume = await server.Client.CreateVolumeAsync(GiB, 65536);
        await server.Client.UpdateMapAsync(volume.Id, [new BlockMapEntry(0, chunks[0].Digest.ToString())]);
        var id = Digest.Parse((await server.Client.SnapshotAsync(volume.Id)).Id);
        var clone = await server.Client.CloneAsync(id);
        await server.Client.DeleteVolumeAsync(volume.Id);

        var released = await server.Client.ReleaseSnapshotAsync(id);
        Assert.True(released.Released);
        Assert.Equal([$"volume:{clone.Id}"], released.ReferencedBy);

        // Kept by the clone.
        Assert.Equal(0, (await server.Client.GcAsync()).SnapshotsDeleted);
        await SnapshotVerifier.ReadVerifiedAsync(server.Client, id);

        // Kept by a named reference (what a registry tag does) once the clone is gone.
        var metadata = server.Host.Stores.Metadata;
        await metadata.AddReferenceAsync(id, "tag:library/app:latest");
        await server.Client.DeleteVolumeAsync(clone.Id);
        Assert.Equal(0, (await server.Client.GcAsync()).SnapshotsDeleted);
        Assert.Equal(["tag:library/app:latest"], (await server.Client.GetSnapshotAsync(id)).ReferencedBy);
        await SnapshotVerifier.ReadVerifiedAsync(server.Client, id);

        // Nothing keeps it: gc deletes it, its page and its chunk.
        Assert.True(await metadata.RemoveReferenceAsync(id, "tag:library/app:latest"));
        var report = await server.Client.GcAsync();
        Assert.Equal(1, report.SnapshotsDeleted);
        Assert.Equal(1, report.PagesDeleted);
        Assert.Equal(1, report.ChunksDeleted);
        var e = await Assert.ThrowsAsync<BlockStoreException>(() => server.Client.GetSnapshotAsync(id));
        Assert.Equal(ErrorCodes.SnapshotUnknown, e.Code);
    }

    [Fact]
    public async Task Gc_keeps_unreferenced_chunks_inside_the_grace_period()
    {
        await using var server = await InProcessServer.StartAsync(gcGrace: TimeSpan.FromMinutes(10));
        var chunks = await server.UploadRandomChunksAsync(3, 4096, new Random(14));

        var report = await server.Client.GcAsync();

        Assert.Equal(3, report.ChunksScanned);
        Assert.Equal(0, report.ChunksDeleted);
        Assert.Empty(await server.Client.FindMissingAsync([.. chunks.Select(c => c.Digest)]));
    }
}
