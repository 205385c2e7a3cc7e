using Slacker.Node.Attach;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Kernel;

/// <summary>The read-ahead policy against the real kernel path: what ext4 and the loop device actually ask for.</summary>
[Collection(KernelCollection.Name)]
public sealed class ReadAheadTests
{
    [Fact]
    public async Task Scattered_small_files_on_a_cold_volume_fetch_at_most_twice_what_the_kernel_read()
    {
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(512L << 20, files: 300, maxFileBytes: 256 << 10, seed: 11);
        var node = harness.OpenNode();
        var attached = await harness.AttachAsync(new VolumeAttacher(node), await harness.CloneAsync(snapshot));

        // Every seventh file: spread over all five directories and across the image, as a container start reads.
        var picked = files.Where((_, i) => i % 7 == 3).ToList();
        foreach (var (name, hash) in picked)
        {
            Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(attached.MountPath, name)));
        }

        await NodeHarness.WaitForIdleFetcherAsync(node);
        var stats = attached.Volume.StatsSnapshot();
        var ratio = stats.BytesFetched / (double)stats.BytesRead;
        Console.WriteLine($"{picked.Count} files: kernel read {stats.BytesRead} bytes in {stats.ReadRequests} requests, fetched {stats.BytesFetched} ({ratio:0.00}x; {stats.ChunksRequestedOnDemand} chunks on demand, {stats.ChunksRequestedAhead} ahead)");
        Assert.True(stats.BytesRead > 0);
        Assert.True(stats.BytesFetched <= 2 * stats.BytesRead, $"fetched {stats.BytesFetched} bytes for {stats.BytesRead} read by the kernel ({ratio:0.00}x)");
        harness.Detach(attached);
    }

    [Fact]
    public async Task A_cold_sequential_read_of_a_big_file_is_streamed_ahead_of_the_reader()
    {
        const int FileBytes = 64 << 20;
        await using var harness = await NodeHarness.StartAsync();
        var (snapshot, files, _) = await harness.ImportRandomExt4Async(256L << 20, files: 1, maxFileBytes: FileBytes, seed: 12);
        var node = harness.OpenNode();
        var attached = await harness.AttachAsync(new VolumeAttacher(node), await harness.CloneAsync(snapshot));
        await NodeHarness.WaitForIdleFetcherAsync(node);
        var before = attached.Volume.StatsSnapshot();

        var (name, hash) = files.Single();
        Assert.Equal(hash, Ext4Image.HashFile(Path.Combine(attached.MountPath, name)));

        await NodeHarness.WaitForIdleFetcherAsync(node);
        var after = attached.Volume.StatsSnapshot();
        var onDemand = after.ChunksRequestedOnDemand - before.ChunksRequestedOnDemand;
        var ahead = after.ChunksRequestedAhead - before.ChunksRequestedAhead;
        const int FileChunks = FileBytes / (64 << 10);
        Console.WriteLine($"{FileChunks} chunks: {onDemand} requested by the reads that needed them, {ahead} ahead of them; {after.CacheMisses - before.CacheMisses} chunk reads waited");

        // Not a matter of speed: a read asks for its own chunks only when nobody requested them before it, which
        // is the case for the first reads of the stream (up to 2 MiB, before its window has grown) and, rarely,
        // for a piece that a concurrent FUSE thread serves between another piece's window decision and its request.
        // Without read-ahead every chunk would be asked for on demand.
        Assert.True(onDemand + ahead >= FileChunks, $"only {onDemand + ahead} chunks requested for a file of {FileChunks}");
        Assert.True(onDemand <= FileChunks / 10, $"{onDemand} of {FileChunks} chunks were requested by the read that needed them: the stream was not read ahead");
        harness.Detach(attached);
    }
}
