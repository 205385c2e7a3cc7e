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
        Assert.Equal([digest], ChunkCache.DigestsOnDisk(dir.Path));
        Assert.Equal(data, OnDisk(cache, digest));
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
        Assert.Null(cache.Locate(digests[2]));

        // Each 64 KiB blob filled a pack of its own at this capacity, so eviction deleted their packs.
        Assert.Equal(cache.Count, Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")).Count());
    }

    [Fact]
    public void Restart_rebuilds_the_index_and_drops_a_blob_damaged_by_a_crash_on_first_read()
    {
        using var dir = new TempDirectory();
        var good = Blob(3);
        var bad = Blob(4);
        var goodDigest = Digest.Compute(good);
        var badDigest = Digest.Compute(bad);
        var first = ChunkCache.Open(dir.Path, 16 << 20);
        first.Put(goodDigest, good);
        first.Put(badDigest, bad);

        // Garble one blob as a crash before writeback could.
        var (path, offset, _) = first.Locate(badDigest)!.Value;
        using (var pack = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
        {
            var one = new byte[1];
            RandomAccess.Read(pack, one, offset + 100);
            one[0] ^= 1;
            RandomAccess.Write(pack, one, offset + 100);
        }

        var second = ChunkCache.Open(dir.Path, 16 << 20);
        Assert.Equal(2, second.Count);

        var buffer = new byte[good.Length];
        Assert.True(second.TryRead(goodDigest, 0, buffer));
        Assert.Equal(good, buffer);
        Assert.False(second.TryRead(badDigest, 0, buffer));
        Assert.False(second.Contains(badDigest));
        Assert.Equal(1, second.Stats().CorruptDropped);

        // Fetched again, it is appended and read back whole.
        second.Put(badDigest, bad);
        Assert.Equal(bad, second.TryReadAll(badDigest));
    }

    [Fact]
    public void Restart_cuts_a_torn_last_record_and_keeps_the_complete_ones()
    {
        using var dir = new TempDirectory();
        var blobs = Enumerable.Range(0, 3).Select(i => Blob(40 + i)).ToArray();
        var first = ChunkCache.Open(dir.Path, 64 << 20);
        foreach (var blob in blobs)
        {
            first.Put(Digest.Compute(blob), blob);
        }

        // A crash in the middle of the last append: its header is there, half of its bytes are not.
        var (path, offset, length) = first.Locate(Digest.Compute(blobs[2]))!.Value;
        using (var pack = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.SetLength(pack, offset + (length / 2));
        }

        var second = ChunkCache.Open(dir.Path, 64 << 20);
        Assert.Equal(2, second.Count);
        Assert.Equal(blobs[0], second.TryReadAll(Digest.Compute(blobs[0])));
        Assert.Equal(blobs[1], second.TryReadAll(Digest.Compute(blobs[1])));
        Assert.False(second.Contains(Digest.Compute(blobs[2])));
        Assert.Equal(offset - PackRecordHeader.Size, new FileInfo(path).Length);

        // Appends go on after the complete records, in a new pack.
        second.Put(Digest.Compute(blobs[2]), blobs[2]);
        var third = ChunkCache.Open(dir.Path, 64 << 20);
        Assert.Equal(3, third.Count);
        Assert.Equal(blobs[2], third.TryReadAll(Digest.Compute(blobs[2])));
    }

    [Fact]
    public void Clear_deletes_every_pack_and_the_old_one_file_per_blob_layout_is_dropped_at_start()
    {
        using var dir = new TempDirectory();
        var legacy = Path.Combine(dir.Path, "ab");
        Directory.CreateDirectory(legacy);
        File.WriteAllBytes(Path.Combine(legacy, new string('a', 64)), [1, 2, 3]);
        Directory.CreateDirectory(Path.Combine(dir.Path, "tmp"));

        var cache = ChunkCache.Open(dir.Path, 16 << 20);
        Assert.False(Directory.Exists(legacy));
        Assert.False(Directory.Exists(Path.Combine(dir.Path, "tmp")));
        for (var i = 0; i < 40; i++)
        {
            var blob = Blob(200 + i);
            cache.Put(Digest.Compute(blob), blob);
        }

        Assert.True(Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")).Count() > 1, "40 blobs of 64 KiB fit one 1 MiB pack");
        cache.Clear();
        Assert.Equal(0, cache.Count);
        Assert.Equal(0, cache.Bytes);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")));
    }

    [Fact]
    public void A_pack_record_header_is_48_bytes()
    {
        Assert.Equal(PackRecordHeader.Size, System.Runtime.CompilerServices.Unsafe.SizeOf<PackRecordHeader>());
        Assert.Equal(48, PackRecordHeader.Size);
    }

    private static byte[] OnDisk(ChunkCache cache, Digest digest)
    {
        var (path, offset, length) = cache.Locate(digest)!.Value;
        using var pack = File.OpenHandle(path);
        var bytes = new byte[length];
        Assert.Equal(length, RandomAccess.Read(pack, bytes, offset));
        return bytes;
    }
}
