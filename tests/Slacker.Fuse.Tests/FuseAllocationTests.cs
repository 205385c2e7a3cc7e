namespace Slacker.Fuse.Tests;

public sealed class FuseAllocationTests
{
    [Fact]
    public void Serving_reads_writes_and_syncs_allocates_nothing_after_warm_up()
    {
        using var mounted = new MountedFile(8 << 20, new FuseMountOptions { ReaderThreads = 2 });
        using var direct = new NativeFile(mounted.Path, direct: true);

        void Burst(int count)
        {
            var random = new Random(count);
            for (var i = 0; i < count; i++)
            {
                var offset = 4096L * random.Next(0, 2040);
                var length = 4096 * random.Next(1, 8);
                var result = (i % 4) switch
                {
                    0 => direct.WriteAt(offset, length),
                    1 => direct.Fdatasync(),
                    _ => direct.ReadAt(offset, length),
                };
                Assert.True(result >= 0, $"op {i} failed with {result}");
                if (i % 500 == 0)
                {
                    File.ReadAllBytes(mounted.Path); // OPEN, READ, FLUSH, RELEASE on a second descriptor
                }
            }
        }

        Burst(3000); // JIT, tiering and every static initialiser on the serving path
        Thread.Sleep(200);
        var requestsBefore = mounted.Session.Stats.TotalRequests;
        var before = mounted.Session.ServingAllocatedBytes;

        Burst(6000);
        Thread.Sleep(200); // readers publish their counter right after each reply

        Assert.True(mounted.Session.Stats.TotalRequests - requestsBefore >= 6000);
        Assert.Equal(0, mounted.Session.ServingAllocatedBytes - before);
    }
}
