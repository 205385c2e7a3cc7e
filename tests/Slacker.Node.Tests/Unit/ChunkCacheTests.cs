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

        // Served from the pack's tail in memory until a flush puts it in the file.
        var part = new byte[4096];
        Assert.True(cache.TryRead(digest, 8192, part));
        Assert.Equal(data.AsSpan(8192, 4096).ToArray(), part);
        Assert.Empty(ChunkCache.DigestsOnDisk(dir.Path));

        cache.Flush();
        Assert.Equal([digest], ChunkCache.DigestsOnDisk(dir.Path));
        Assert.Equal(data, OnDisk(cache, digest));
        Assert.True(cache.TryRead(digest, 8192, part));
        Assert.Equal(data.AsSpan(8192, 4096).ToArray(), part);
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
        first.Flush();

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

        first.Flush();

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
        second.Flush();
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
    public void Records_read_back_whether_in_the_file_in_memory_or_across_the_boundary_and_a_crash_keeps_a_prefix()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 1L << 30, memoryBytes: 16 << 20);

        // 300 chunks and a 3 MiB blob (bigger than one write) fill one 64 MiB pack past the 16 MiB that this cache keeps in memory:
        // the first records are read from the file, the last from memory, one from both.
        var blobs = Enumerable.Range(0, 300).Select(i => Blob(500 + i)).Append(Blob(900, 3 << 20)).Append(Blob(901)).ToArray();
        foreach (var blob in blobs)
        {
            cache.Put(Digest.Compute(blob), blob);
        }

        Assert.True(cache.WritesDirect, "the pack being filled has no O_DIRECT handle on this file system");
        Assert.Single(Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")));
        var onDisk = ChunkCache.DigestsOnDisk(dir.Path).ToHashSet();
        Assert.NotEmpty(onDisk);
        Assert.True(onDisk.Count < blobs.Length, "nothing was left in memory");
        var straddling = 0;
        foreach (var blob in blobs)
        {
            var digest = Digest.Compute(blob);
            Assert.Equal(blob, cache.TryReadAll(digest));
            var (path, offset, length) = cache.Locate(digest)!.Value;
            var fileLength = new FileInfo(path).Length;
            straddling += offset < fileLength && offset + length > fileLength ? 1 : 0;

            // A 4 KiB read from the middle of the blob: from the file, from memory or from both.
            var part = new byte[4096];
            Assert.True(cache.TryRead(digest, length / 2, part));
            Assert.Equal(blob.AsSpan(length / 2, 4096).ToArray(), part);
        }

        // A crash now (no flush; a copy of the directory, since the live cache still owns its packs): a restart
        // finds exactly the records already in the file, none damaged.
        using var copy = new TempDirectory();
        Directory.CreateDirectory(Path.Combine(copy.Path, "packs"));
        foreach (var file in Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")))
        {
            File.Copy(file, Path.Combine(copy.Path, "packs", Path.GetFileName(file)));
        }

        var crashed = ChunkCache.Open(copy.Path, 1L << 30);
        Assert.Equal(onDisk.Count, crashed.Count);
        foreach (var blob in blobs.Where(b => onDisk.Contains(Digest.Compute(b))))
        {
            Assert.Equal(blob, crashed.TryReadAll(Digest.Compute(blob)));
        }

        Assert.Equal(0, crashed.Stats().CorruptDropped);
        Assert.InRange(straddling, 0, 1);

        // A flush (the node's stop, an idle fetcher) puts the rest in the file.
        cache.Flush();
        var restarted = ChunkCache.Open(dir.Path, 1L << 30);
        Assert.Equal(blobs.Length, restarted.Count);
        foreach (var blob in blobs)
        {
            Assert.Equal(blob, restarted.TryReadAll(Digest.Compute(blob)));
        }
    }

    [Fact]
    public void Chunk_reads_from_the_file_with_read_ahead_serve_the_following_chunks_and_stay_exact()
    {
        using var dir = new TempDirectory();
        var cache = ChunkCache.Open(dir.Path, 1L << 30, memoryBytes: 16 << 20);

        // 32 MiB of chunks: the first half has left the 16 MiB this cache keeps in memory and is read from the file.
        var blobs = Enumerable.Range(0, 512).Select(i => Blob(2000 + i)).ToArray();
        var digests = blobs.Select(b => Digest.Compute(b)).ToArray();
        for (var i = 0; i < blobs.Length; i++)
        {
            cache.Put(digests[i], blobs[i]);
        }

        // Like a FUSE request of 16 chunks: each read says how much of the request follows it, so the first one
        // brings in the rest, and the others are copies. Odd offsets inside chunks cross the record headers.
        var buffer = new byte[64 << 10];
        for (var i = 0; i < 16; i++)
        {
            var rest = (15 - i) * (64 << 10);
            Assert.True(cache.TryRead(digests[i], 0, buffer, rest));
            Assert.Equal(blobs[i], buffer);
        }

        var part = new byte[40 << 10];
        foreach (var (i, offset) in new[] { (100, 1), (101, 24_000), (37, 65_536 - (40 << 10)), (200, 333) })
        {
            Assert.True(cache.TryRead(digests[i], offset, part, 10 << 20));
            Assert.Equal(blobs[i].AsSpan(offset, part.Length).ToArray(), part);
        }

        // Every chunk, in an order that defeats any read-ahead, and again after a restart (first-read hashing).
        foreach (var i in Enumerable.Range(0, blobs.Length).Reverse())
        {
            Assert.True(cache.TryRead(digests[i], 0, buffer, 1 << 20));
            Assert.Equal(blobs[i], buffer);
        }

        cache.Flush();
        var restarted = ChunkCache.Open(dir.Path, 1L << 30);
        for (var i = 0; i < blobs.Length; i += 7)
        {
            Assert.True(restarted.TryRead(digests[i], 0, buffer, 1 << 20));
            Assert.Equal(blobs[i], buffer);
        }

        Assert.Equal(0, restarted.Stats().CorruptDropped);
    }

    [Fact]
    public void Records_of_a_full_pack_are_still_read_from_memory_and_stay_exact_when_the_ring_wraps()
    {
        using var dir = new TempDirectory();

        // 32 MiB of capacity: 2 MiB packs, and the 8 MiB ring (the smallest) wraps three times over 13 packs.
        var cache = ChunkCache.Open(dir.Path, 32 << 20, memoryBytes: 8 << 20);
        var blobs = Enumerable.Range(0, 400).Select(i => Blob(3000 + i)).ToArray();
        var buffer = new byte[64 << 10];
        for (var i = 0; i < blobs.Length; i++)
        {
            cache.Put(Digest.Compute(blobs[i]), blobs[i]);

            // The newest few (in memory, some in packs that are already full) and one far back (on disk).
            foreach (var back in new[] { 0, 1, 31, 33, 100, 200 })
            {
                var digest = Digest.Compute(blobs[Math.Max(0, i - back)]);
                if (cache.Contains(digest))
                {
                    Assert.True(cache.TryRead(digest, 0, buffer));
                    Assert.Equal(blobs[Math.Max(0, i - back)], buffer);
                }
            }
        }

        Assert.True(Directory.EnumerateFiles(Path.Combine(dir.Path, "packs")).Count() > 4, "the blobs did not fill several packs");
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
