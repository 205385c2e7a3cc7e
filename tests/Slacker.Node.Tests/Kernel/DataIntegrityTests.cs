using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

[Collection(KernelCollection.Name)]
public sealed class DataIntegrityTests
{
    [Fact]
    public async Task Every_file_of_an_imported_ext4_image_reads_back_through_a_lazy_clone()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(128L << 20, files: 60, maxFileBytes: 1 << 20);
        var node = harness.OpenNode();
        var attacher = new VolumeAttacher(node);
        var clone = await harness.CloneAsync(snapshot);

        var attached = await harness.AttachAsync(attacher, clone);
        Assert.True(attached.DirectIo, "the loop device must run with direct I/O");
        Assert.Equal(0, attached.Volume.StatsSnapshot().ReadErrors);
        foreach (var (name, hash) in files)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(attached.MountPath, name)));
        }

        var stats = attached.Volume.StatsSnapshot();
        Assert.True(stats.ChunksFetched > 0);
        Assert.True(stats.BytesFetched < 128L << 20, "a lazy clone must not fetch the whole volume");
        Assert.Equal(0, stats.ReadErrors);
        harness.Detach(attached);
        Assert.Empty(Leaks.Under(harness.NodeRoot));
    }
}
