using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

[Collection(KernelCollection.Name)]
public sealed class SharingTests
{
    private const string ServedCounter = "slacker_chunks_served_total";

    [Fact]
    public async Task A_second_clone_of_the_same_snapshot_fetches_nothing_the_first_already_fetched()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(128L << 20, files: 40, maxFileBytes: 1 << 20);
        var attacher = new VolumeAttacher(harness.OpenNode());

        var first = await harness.AttachAsync(attacher, await harness.CloneAsync(snapshot));
        foreach (var (name, hash) in files)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(first.MountPath, name)));
        }

        var firstFetched = first.Volume.StatsSnapshot().ChunksFetched;
        harness.Detach(first);
        for (var i = 0; i < 3000 && attacher.Node.Fetcher.IsPendingAny; i++)
        {
            await Task.Delay(10); // let the first clone's last read-ahead land before counting
        }

        var servedBefore = await harness.Server.CounterAsync(ServedCounter);

        var second = await harness.AttachAsync(attacher, await harness.CloneAsync(snapshot));
        foreach (var (name, hash) in files)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(second.MountPath, name)));
        }

        var stats = second.Volume.StatsSnapshot();
        Assert.True(firstFetched > 0);
        Assert.Equal(0, stats.ChunksFetched);
        Assert.True(stats.CacheHits > 0);
        Assert.Equal(servedBefore, await harness.Server.CounterAsync(ServedCounter));
        harness.Detach(second);
    }
}
