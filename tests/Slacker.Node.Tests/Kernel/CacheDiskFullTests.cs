using System.Runtime.CompilerServices;
using Slacker.Core.Model;
using Slacker.Node.Cache;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

/// <summary>The node cache on a real file system that runs out of space (a 3 MiB tmpfs this test mounts).</summary>
[Collection(KernelCollection.Name)]
public sealed class CacheDiskFullTests
{
    [Fact]
    public void A_full_disk_fails_the_append_with_a_clear_error_and_keeps_every_complete_blob()
    {
        using var dir = new TempDirectory();
        Tool.Run("mount", "-t", "tmpfs", "-o", "size=3m", "slacker-cache-test", dir.Path);
        try
        {
            FillAndReopen(dir.Path);
        }
        finally
        {
            // The caches' pack handles close when they are finalized; then the mount is not busy.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Tool.Run("umount", "-l", dir.Path);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FillAndReopen(string directory)
    {
        var cache = ChunkCache.Open(directory, 64 << 20);
        var stored = new List<(Digest Digest, byte[] Bytes)>();
        IOException? full = null;
        for (var i = 0; i < 128 && full is null; i++)
        {
            var blob = new byte[64 << 10];
            new Random(300 + i).NextBytes(blob);
            var digest = Digest.Compute(blob);
            try
            {
                cache.Put(digest, blob);
                stored.Add((digest, blob));
            }
            catch (IOException e)
            {
                full = e;
                Assert.False(cache.Contains(digest), "a blob whose append failed is in the index");
            }
        }

        Assert.NotNull(full);
        Assert.Contains("No space left on device", full.Message, StringComparison.Ordinal);
        Assert.Contains($"Free space under {directory}", full.Message, StringComparison.Ordinal);
        Assert.Contains("will be fetched again", full.Message, StringComparison.Ordinal);

        // The records that were only in memory when the write failed were dropped; those in the file survive.
        var kept = stored.Where(s => cache.Contains(s.Digest)).ToList();
        Assert.NotEmpty(kept);
        Assert.True(kept.Count < stored.Count, "the failed write dropped nothing from memory");
        foreach (var (digest, bytes) in kept)
        {
            Assert.Equal(bytes, cache.TryReadAll(digest));
        }

        // The failed write was cut back: the packs hold exactly the complete records, and a restart finds them.
        var packBytes = Directory.EnumerateFiles(Path.Combine(directory, "packs")).Sum(f => new FileInfo(f).Length);
        Assert.Equal(kept.Count * (PackRecordHeader.Size + (64L << 10)), packBytes);
        var reopened = ChunkCache.Open(directory, 64 << 20);
        Assert.Equal(kept.Count, reopened.Count);
        foreach (var (digest, bytes) in kept)
        {
            Assert.Equal(bytes, reopened.TryReadAll(digest));
        }

        Assert.Equal(0, reopened.Stats().CorruptDropped);
    }
}
