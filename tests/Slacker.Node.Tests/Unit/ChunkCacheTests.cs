using Slacker.Core.Model;
using Slacker.Node.Cache;
using Slacker.Node.Tests.Infrastructure;

namespace Slacker.Node.Tests.Unit;

public sealed class ChunkCacheTests
{
    private static byte[] Blob(int seed, int size = 64 * 1024)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void Put_then_partial_reads_return_the_stored_bytes()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 16 << 20);
        var data = Blob(1);
        var digest = Digest.Compute(data);

        Assert.False(cache.TryRead(digest, 0, new byte[10]));
        cache.Put(digest, data);

        var part = new byte[4096];
        Assert.True(cache.TryRead(digest, 8192, part));
        Assert.Equal(data.AsSpan(8192, 4096).ToArray(), part);
        Assert.True(File.Exists(Path.Combine(dir.Path, digest.Hex[..2], digest.Hex)));
    }

    [Fact]
    public async Task A_staged_chunk_is_readable_at_once_and_its_file_is_written_behind()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 16 << 20);
        var data = Blob(5, 1000);
        var digest = Digest.Compute(data);

        cache.Stage(digest, data);
        Assert.True(cache.Contains(digest));
        var buffer = new byte[2000];
        Array.Fill(buffer, (byte)0xAA);
        Assert.True(cache.TryRead(digest, 500, buffer));
        Assert.Equal(data[500..], buffer[..500]);
        Assert.All(buffer[500..], b => Assert.Equal(0, b));
        Assert.Equal(data, cache.TryReadAll(digest));

        for (var i = 0; i < 500 && cache.PendingWrites > 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(0, cache.PendingWrites);
        Assert.Equal(data, File.ReadAllBytes(cache.PathOf(digest)));
        Assert.Equal(1, cache.Count);

        // The file survives a restart like any other entry.
        var reopened = ChunkCache.Open(dir.Path, 16 << 20);
        Assert.True(reopened.TryRead(digest, 0, buffer.AsSpan(0, 1000)));
        Assert.Equal(data, buffer[..1000]);
    }

    [Fact]
    public void Reading_past_the_end_of_a_short_blob_gives_zeros()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 16 << 20);
        var data = Blob(2, 1000);
        var digest = Digest.Compute(data);
        cache.Put(digest, data);

        var buffer = new byte[2000];
        Array.Fill(buffer, (byte)0xAA);
        Assert.True(cache.TryRead(digest, 0, buffer));
        Assert.Equal(data, buffer[..1000]);
        Assert.All(buffer[1000..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void Eviction_drops_the_least_recently_used_first_and_never_a_pinned_blob()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 1 << 20); // room for 16 blobs of 64 KiB
        var blobs = Enumerable.Range(0, 16).Select(i => Blob(100 + i)).ToArray();
        var digests = blobs.Select(b => Digest.Compute(b)).ToArray();
        for (var i = 0; i < 16; i++)
        {
            cache.Put(digests[i], blobs[i], pin: i == 0);
        }

        // Touch blob 1 so that it is recent; blobs 2.. are older.
        Assert.True(cache.TryRead(digests[1], 0, new byte[16]));
        var extra = Blob(999);
        cache.Put(Digest.Compute(extra), extra);

        Assert.True(cache.Bytes <= cache.CapacityBytes);
        Assert.True(cache.Contains(digests[0]), "pinned blob was evicted");
        Assert.True(cache.Contains(digests[1]), "recently used blob was evicted");
        Assert.False(cache.Contains(digests[2]), "least recently used blob survived");
        Assert.False(File.Exists(cache.PathOf(digests[2])));
    }

    [Fact]
    public void Restart_rebuilds_the_index_and_drops_a_file_damaged_by_a_crash_on_first_read()
    {
        using var dir = new TempDirectory();
        var good = Blob(3);
        var bad = Blob(4);
        var goodDigest = Digest.Compute(good);
        var badDigest = Digest.Compute(bad);
        var first = ChunkCache.Open(dir.Path, 16 << 20);
        first.Put(goodDigest, good);
        first.Put(badDigest, bad);
        File.WriteAllBytes(Path.Combine(dir.Path, "tmp", "leftover"), [1, 2, 3]);

        // Garble one file as a crash before writeback could.
        var path = first.PathOf(badDigest);
        var bytes = File.ReadAllBytes(path);
        bytes[100] ^= 1;
        File.WriteAllBytes(path, bytes);

        var second = ChunkCache.Open(dir.Path, 16 << 20);
        Assert.Equal(2, second.Count);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(dir.Path, "tmp")));

        var buffer = new byte[good.Length];
        Assert.True(second.TryRead(goodDigest, 0, buffer));
        Assert.Equal(good, buffer);
        Assert.False(second.TryRead(badDigest, 0, buffer));
        Assert.False(second.Contains(badDigest));
        Assert.False(File.Exists(path));
        Assert.Equal(1, second.Stats().CorruptDropped);
    }
}
