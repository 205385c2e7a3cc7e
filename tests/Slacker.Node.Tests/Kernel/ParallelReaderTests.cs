using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Slacker.Node.Attach;
using Slacker.Native;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

[Collection(KernelCollection.Name)]
public sealed class ParallelReaderTests
{
    [Fact]
    public async Task Eight_readers_of_one_cold_file_fetch_each_chunk_once()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(128L << 20, files: 4, maxFileBytes: 16 << 20);
        var node = harness.OpenNode();
        var attacher = new VolumeAttacher(node);
        var attached = await harness.AttachAsync(attacher, await harness.CloneAsync(snapshot));
        var name = files.Keys.First(); // the 16 MiB file
        var path = Path.Combine(attached.MountPath, name);

        // The mount's own reads may still have read-ahead in flight; counting from the middle of a delivery would
        // see chunks cached before the baseline but counted as fetched after it.
        await WaitForIdleFetcherAsync(node);
        var servedBefore = await harness.Server.CounterAsync("slacker_chunks_served_total");
        var fetchedBefore = node.Fetcher.ChunksFetched;
        var entriesBefore = node.Cache.Count;
        var pagesBefore = node.Fetcher.PagesFetched;

        // O_DIRECT: each reader's reads reach the volume on their own instead of meeting in ext4's page cache,
        // so only the node's single flight can keep them from fetching a chunk twice.
        using var start = new Barrier(8);
        var hashes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            return DirectReadHash(path);
        }, TaskCreationOptions.LongRunning)));

        Assert.All(hashes, hash => Assert.Equal(files[name], hash));
        await WaitForIdleFetcherAsync(node); // prefetches past the end of the file may still be landing
        var served = await harness.Server.CounterAsync("slacker_chunks_served_total") - servedBefore;
        var fetched = node.Fetcher.ChunksFetched - fetchedBefore;
        var distinct = node.Cache.Count - entriesBefore - (node.Fetcher.PagesFetched - pagesBefore);
        Assert.True(fetched >= (16 << 20) / (64 << 10), $"only {fetched} chunks fetched for a 16 MiB file");
        Assert.Equal(distinct, fetched);
        Assert.Equal(fetched, served);
        harness.Detach(attached);
    }

    private static async Task WaitForIdleFetcherAsync(NodeStorage node)
    {
        for (var i = 0; i < 3000 && node.Fetcher.IsPendingAny; i++)
        {
            await Task.Delay(10);
        }

        Assert.False(node.Fetcher.IsPendingAny, "fetches still pending after 30 s");
    }

    private static unsafe string DirectReadHash(string path)
    {
        const int BufferSize = 256 << 10;
        var fd = Libc.Open(path, Libc.O_RDONLY | Libc.O_DIRECT | Libc.O_CLOEXEC);
        Assert.True(fd >= 0, $"open O_DIRECT failed: errno {Libc.LastErrno}");
        var buffer = (byte*)NativeMemory.AlignedAlloc(BufferSize, 4096);
        try
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            long offset = 0;
            while (true)
            {
                var n = Libc.Pread(fd, buffer, BufferSize, offset);
                Assert.True(n >= 0, $"pread failed: errno {Libc.LastErrno}");
                if (n == 0)
                {
                    break;
                }

                sha.AppendData(new ReadOnlySpan<byte>(buffer, (int)n));
                offset += n;
            }

            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
            Libc.Close(fd);
        }
    }
}
