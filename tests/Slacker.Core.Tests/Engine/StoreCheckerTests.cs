using Slacker.Core.Model;

namespace Slacker.Core.Tests.Engine;

public sealed class StoreCheckerTests
{
    [Fact]
    public async Task Fsck_names_missing_and_corrupt_chunks_and_pages()
    {
        await using var harness = new EngineHarness(realFiles: false);
        await harness.InitializeAsync();
        var volume = await harness.Engine.CreateVolumeAsync(3000L * EngineHarness.ChunkSize, EngineHarness.ChunkSize, null);
        var contents = Enumerable.Range(1, 3).Select(EngineHarness.Content).ToArray();
        var digests = contents.Select(c => Digest.Compute(c)).ToArray();
        for (var i = 0; i < 3; i++)
        {
            await harness.Engine.PutChunkAsync(digests[i], contents[i]);
        }

        await harness.Engine.UpdateMapAsync(volume.Id, [new ChunkChange(0, digests[0]), new ChunkChange(1, digests[1]), new ChunkChange(2000, digests[2])]);
        var snapshot = await harness.Engine.SnapshotAsync(volume.Id, null);
        var root = BlockMapRoot.Decode(await harness.Engine.GetRootBytesAsync(snapshot.Id));
        await harness.VerifyAsync();

        var chunks = (InMemoryChunkStore)harness.Chunks;
        var pages = (InMemoryChunkStore)harness.Pages;
        chunks.Remove(digests[0]);
        chunks.Corrupt(digests[1]);
        pages.Corrupt(root.Pages[1]);

        var report = await new Slacker.Core.Engine.StoreChecker(harness.Engine.Metadata, chunks, pages).CheckAsync();

        Assert.False(report.IsClean);
        Assert.Contains(report.Problems, p => p.Kind == "chunk-missing" && p.Subject == digests[0].ToString() && p.Detail.Contains(snapshot.Id.ToString()));
        Assert.Contains(report.Problems, p => p.Kind == "chunk-corrupt" && p.Subject == digests[1].ToString());
        Assert.Contains(report.Problems, p => p.Kind == "page-corrupt" && p.Subject == root.Pages[1].ToString());
        Assert.Equal(3, report.Problems.Count);
    }
}
