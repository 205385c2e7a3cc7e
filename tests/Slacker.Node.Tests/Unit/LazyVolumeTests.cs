using Slacker.Core.Model;
using Slacker.Node.Tests.Fakes;
using Slacker.Node.Tests.Infrastructure;
using Slacker.Node.Volumes;

namespace Slacker.Node.Tests.Unit;

/// <summary>The volume logic against an in-memory server; the kernel tests repeat the important parts for real.</summary>
public sealed class LazyVolumeTests : IDisposable
{
    private readonly TempDirectory _dir = new();
    private readonly InMemoryBlockStore _store = new();
    private readonly CapturingLoggerFactory _logs = new();

    private NodeStorage Node(TimeSpan? timeout = null, int window = 0) => NodeStorage.Open(
        new NodeOptions { Root = _dir.Path, CacheCapacityBytes = 256L << 20, SequentialWindowChunks = window, FetchTimeout = timeout ?? TimeSpan.FromSeconds(10) },
        _store,
        _logs);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Reads_return_snapshot_bytes_and_zero_chunks_cost_no_fetch()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, [1, 2, 3, 40]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(), clone);

        // A read spanning a zero chunk and two data chunks, unaligned at both ends.
        var buffer = new byte[(2 * FakeVolumes.ChunkSize) + 1000];
        var offset = FakeVolumes.ChunkSize - 500L;
        Assert.Equal(buffer.Length, volume.Read(offset, buffer));
        Assert.Equal(FakeVolumes.Expected(content, offset, buffer.Length), buffer);

        var zeros = new byte[FakeVolumes.ChunkSize * 4];
        Assert.Equal(zeros.Length, volume.Read(10L * FakeVolumes.ChunkSize, zeros));
        Assert.All(zeros, b => Assert.Equal(0, b));

        var stats = volume.StatsSnapshot();
        Assert.Equal(3, stats.ChunksFetched);          // chunks 1, 2, 3 of the first read
        Assert.Equal(1, _store.BatchRequests);         // ... coalesced into one batch
        Assert.True(stats.ZeroChunkReads >= 5);
        Assert.Equal(0, volume.Read(volume.Size, buffer)); // end of volume
    }

    [Fact]
    public async Task A_new_stream_fetches_only_its_own_chunks_and_a_continuing_one_reads_ahead_in_the_same_batch()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, Enumerable.Range(0, 20).Select(i => (long)i));
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(window: 8), clone);

        var buffer = new byte[2 * FakeVolumes.ChunkSize];
        Assert.Equal(buffer.Length, volume.Read(0, buffer));
        Assert.Equal(1, _store.BatchRequests);
        Assert.Equal(2, volume.StatsSnapshot().ChunksFetched); // no read-ahead for a stream of one read

        // The continuation misses chunks 2-3; its batch brings a window of half the four chunks read: 4-5.
        Assert.Equal(buffer.Length, volume.Read(2L * FakeVolumes.ChunkSize, buffer));
        await WaitUntilAsync(() => !volume.Node.Fetcher.IsPendingAny); // the read returns before its read-ahead lands
        Assert.Equal(2, _store.BatchRequests);
        Assert.Equal(6, volume.StatsSnapshot().ChunksFetched);

        Assert.Equal(buffer.Length, volume.Read(4L * FakeVolumes.ChunkSize, buffer));
        Assert.Equal(FakeVolumes.Expected(content, 4L * FakeVolumes.ChunkSize, buffer.Length), buffer);
        await WaitUntilAsync(() => !volume.Node.Fetcher.IsPendingAny);
        var stats = volume.StatsSnapshot();
        Assert.Equal(6, stats.CacheHits + stats.CacheMisses);
        Assert.Equal(4, stats.ChunksRequestedOnDemand); // 0-1 by the first read, 2-3 by the second
        Assert.Equal(3, _store.BatchRequests);          // 4-5 were there; the third read only asks for 6-8 ahead
    }

    [Fact]
    public async Task A_sequential_reader_gets_the_next_window_requested_before_it_reaches_it()
    {
        var (snapshot, _) = await FakeVolumes.SnapshotAsync(_store, 64, Enumerable.Range(0, 64).Select(i => (long)i));
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(window: 8), clone);

        var buffer = new byte[FakeVolumes.ChunkSize];
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(buffer.Length, volume.Read(i * (long)FakeVolumes.ChunkSize, buffer));
            await WaitUntilAsync(() => !volume.Node.Fetcher.IsPendingAny);
        }

        // Only the first read (a new stream) and the first continuation (a one-chunk window is too small to be
        // ahead yet) asked for their own chunks; every later chunk was requested ahead, in time.
        var stats = volume.StatsSnapshot();
        Assert.Equal(2, stats.ChunksRequestedOnDemand);
        Assert.True(stats.CacheMisses <= 2, $"{stats.CacheMisses} chunk reads waited for the server");
        Assert.Equal(40, stats.CacheHits + stats.CacheMisses);
        Assert.True(volume.StatsSnapshot().ChunksFetched <= 40 + 8, $"{volume.StatsSnapshot().ChunksFetched} chunks fetched for 40 read");
    }

    [Fact]
    public async Task Random_reads_do_not_trigger_prefetch()
    {
        var (snapshot, _) = await FakeVolumes.SnapshotAsync(_store, 256, Enumerable.Range(0, 256).Select(i => (long)i));
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(window: 64), clone);

        var buffer = new byte[4096];
        foreach (var index in new long[] { 200, 3, 150, 77, 20 })
        {
            Assert.Equal(buffer.Length, volume.Read(index * FakeVolumes.ChunkSize, buffer));
        }

        Assert.Equal(5, volume.StatsSnapshot().ChunksFetched);
    }

    [Fact]
    public async Task A_cache_hit_allocates_nothing()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, [0, 1, 2, 3]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(window: 8), clone);
        var buffer = new byte[3 * FakeVolumes.ChunkSize];
        Assert.Equal(buffer.Length, volume.Read(1000, buffer)); // fetches, loads the page, JIT-compiles
        Assert.Equal(buffer.Length, volume.Read(1000, buffer));

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1000; i++)
        {
            volume.Read(1000 + (i % 7 * 4096), buffer);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(FakeVolumes.Expected(content, 1000 + (999 % 7 * 4096), buffer.Length), buffer);
    }

    [Fact]
    public async Task Zeros_written_onto_a_zero_chunk_leave_it_clean()
    {
        var (snapshot, _) = await FakeVolumes.SnapshotAsync(_store, 64, [1]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(), clone);

        Assert.Equal(FakeVolumes.ChunkSize * 4, volume.Write(8L * FakeVolumes.ChunkSize, new byte[FakeVolumes.ChunkSize * 4]));
        Assert.Equal(0, volume.DirtyChunks);
        Assert.Equal(FakeVolumes.ChunkSize, volume.Write(1L * FakeVolumes.ChunkSize, new byte[FakeVolumes.ChunkSize]));
        Assert.Equal(1, volume.DirtyChunks); // zeros over data are a real change
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        for (var i = 0; i < 500 && !condition(); i++)
        {
            await Task.Delay(10);
        }
    }

    [Fact]
    public async Task Concurrent_misses_on_the_same_chunks_fetch_each_chunk_once()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, Enumerable.Range(0, 32).Select(i => (long)i));
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        _store.BatchDelay = TimeSpan.FromMilliseconds(200);
        using var volume = await LazyVolume.OpenAsync(Node(window: 8), clone);

        var start = new Barrier(8);
        var readers = Enumerable.Range(0, 8).Select(_ => Task.Factory.StartNew(() =>
        {
            start.SignalAndWait();
            var buffer = new byte[128 * 1024];
            for (long offset = 0; offset < 32L * FakeVolumes.ChunkSize; offset += buffer.Length)
            {
                Assert.Equal(buffer.Length, volume.Read(offset, buffer));
                Assert.Equal(FakeVolumes.Expected(content, offset, buffer.Length), buffer);
            }
        }, TaskCreationOptions.LongRunning)).ToArray();
        await Task.WhenAll(readers);

        Assert.Equal(32, _store.ServedCount.Count);
        Assert.All(_store.ServedCount.Values, n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task Writes_are_copy_on_write_and_fsynced_writes_survive_reopen()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, [0, 1]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        var node = Node();
        var patch = Enumerable.Repeat((byte)0x5A, 3000).ToArray();
        using (var volume = await LazyVolume.OpenAsync(node, clone))
        {
            // Partial write into a data chunk (read-modify-write) and into a zero chunk.
            Assert.Equal(patch.Length, volume.Write(FakeVolumes.ChunkSize - 1000, patch));
            Assert.Equal(patch.Length, volume.Write(10L * FakeVolumes.ChunkSize + 7, patch));
            Assert.Equal(0, volume.Fsync(dataOnly: false));
            Assert.Equal(3, volume.DirtyChunks);
        }

        var expected = FakeVolumes.Expected(content, 0, 2 * FakeVolumes.ChunkSize);
        patch.CopyTo(expected, FakeVolumes.ChunkSize - 1000);
        using var reopened = await LazyVolume.OpenAsync(node, clone);
        var buffer = new byte[2 * FakeVolumes.ChunkSize];
        Assert.Equal(buffer.Length, reopened.Read(0, buffer));
        Assert.Equal(expected, buffer);
        var tail = new byte[3007];
        Assert.Equal(tail.Length, reopened.Read(10L * FakeVolumes.ChunkSize, tail));
        Assert.Equal(patch, tail[7..]);
        Assert.All(tail[..7], b => Assert.Equal(0, b));
    }

    [Fact]
    public async Task Commit_uploads_only_changed_chunks_and_a_clone_of_the_new_snapshot_sees_them()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 2048, Enumerable.Range(0, 100).Select(i => (long)i));
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        var node = Node();
        var patch = Enumerable.Repeat((byte)0x42, 10_000).ToArray();
        CommitResult result;
        using (var volume = await LazyVolume.OpenAsync(node, clone))
        {
            Assert.Equal(patch.Length, volume.Write(5L * FakeVolumes.ChunkSize, patch));
            Assert.Equal(patch.Length, volume.Write(1500L * FakeVolumes.ChunkSize, patch));
            Assert.Equal(FakeVolumes.ChunkSize, volume.Write(7L * FakeVolumes.ChunkSize, new byte[FakeVolumes.ChunkSize])); // zeroed chunk
            result = await VolumeCommitter.CommitAsync(volume, "test");

            Assert.Equal(3, result.DirtyChunks);
            Assert.Equal(1, result.ZeroChunks);
            Assert.Equal(2, result.UploadedChunks);
            Assert.Equal(0, volume.DirtyChunks);
            Assert.Equal(result.SnapshotId, volume.BaseSnapshot);

            // Still reads its own data, now from the cache through the new map.
            var buffer = new byte[patch.Length];
            Assert.Equal(buffer.Length, volume.Read(1500L * FakeVolumes.ChunkSize, buffer));
            Assert.Equal(patch, buffer);
        }

        var second = await FakeVolumes.CloneAsync(_store, result.SnapshotId);
        using var other = await LazyVolume.OpenAsync(node, second);
        var chunk = new byte[FakeVolumes.ChunkSize];
        other.Read(5L * FakeVolumes.ChunkSize, chunk);
        var expected = (byte[])content[5].Clone();
        patch.CopyTo(expected, 0);
        Assert.Equal(expected, chunk);
        other.Read(7L * FakeVolumes.ChunkSize, chunk);
        Assert.All(chunk, b => Assert.Equal(0, b));

        // The base snapshot is unchanged.
        var baseClone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var original = await LazyVolume.OpenAsync(node, baseClone);
        original.Read(5L * FakeVolumes.ChunkSize, chunk);
        Assert.Equal(content[5], chunk);
    }

    [Fact]
    public async Task A_corrupt_chunk_gives_EIO_and_a_log_line_naming_it()
    {
        var (snapshot, content) = await FakeVolumes.SnapshotAsync(_store, 64, [3]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        var digest = Digest.Compute(content[3]);
        _store.Corrupt(digest);
        using var volume = await LazyVolume.OpenAsync(Node(), clone);

        var buffer = new byte[4096];
        Assert.Equal(-5, volume.Read(3L * FakeVolumes.ChunkSize, buffer));
        Assert.All(buffer, b => Assert.Equal(0, b));
        Assert.Contains(_logs.Lines, line => line.Contains(digest.ToString(), StringComparison.Ordinal) && line.Contains(clone, StringComparison.Ordinal));
        Assert.False(volume.Node.Cache.Contains(digest));
    }

    [Fact]
    public async Task A_hung_server_gives_EIO_after_the_timeout()
    {
        var (snapshot, _) = await FakeVolumes.SnapshotAsync(_store, 64, [3]);
        var clone = await FakeVolumes.CloneAsync(_store, snapshot);
        using var volume = await LazyVolume.OpenAsync(Node(timeout: TimeSpan.FromSeconds(1)), clone);
        _store.Hang = new TaskCompletionSource();
        try
        {
            var read = Task.Run(() => volume.Read(3L * FakeVolumes.ChunkSize, new byte[4096]));
            var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(30)));
            Assert.Same(read, finished);
            Assert.Equal(-5, await read);
            Assert.Contains(_logs.Lines, line => line.Contains("within 1 s", StringComparison.Ordinal));
        }
        finally
        {
            _store.Hang.SetResult();
        }
    }
}
