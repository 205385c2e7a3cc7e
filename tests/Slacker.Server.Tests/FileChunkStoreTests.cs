using System.Security.Cryptography;
using Slacker.Core.Model;
using Slacker.Core.Storage;
using Slacker.Server.Storage;

namespace Slacker.Server.Tests;

/// <summary>The local object store also holds registry blobs: any size, streamed, verified, atomic.</summary>
public sealed class FileChunkStoreTests
{
    [Fact]
    public async Task Large_blob_streams_in_verified_and_out_unchanged()
    {
        using var dir = new TempDirectory();
        var store = new FileChunkStore(dir.Path);
        var blob = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 17);
        var digest = Digest.Compute(blob);

        var put = await store.PutStreamAsync(new MemoryStream(blob), digest, long.MaxValue);
        var again = await store.PutStreamAsync(new MemoryStream(blob), null, long.MaxValue);

        Assert.Equal(new BlobPutResult(digest, blob.Length, true), put);
        Assert.Equal(new BlobPutResult(digest, blob.Length, false), again);
        await using var read = await store.OpenReadAsync(digest);
        Assert.NotNull(read);
        Assert.Equal(blob.Length, read.Length);
        Assert.Equal(digest, await Digest.ComputeAsync(read));
        Assert.Equal(Path.Join(dir.Path, digest.Hex[..2], digest.Hex[2..4], digest.Hex), store.PathOf(digest));
    }

    [Fact]
    public async Task Wrong_or_oversized_blob_stores_nothing()
    {
        using var dir = new TempDirectory();
        var store = new FileChunkStore(dir.Path);
        var blob = RandomNumberGenerator.GetBytes(3 * 1024 * 1024);
        var wrong = Digest.Compute("something else"u8);

        var mismatch = await Assert.ThrowsAsync<DigestMismatchException>(() => store.PutStreamAsync(new MemoryStream(blob), wrong, long.MaxValue));
        await Assert.ThrowsAsync<ObjectTooLargeException>(() => store.PutStreamAsync(new MemoryStream(blob), null, 1024 * 1024));

        Assert.Equal(Digest.Compute(blob), mismatch.Actual);
        Assert.Empty(Directory.EnumerateFiles(dir.Path, "*", SearchOption.AllDirectories));
        Assert.Null(await ((IChunkStore)store).GetLengthAsync(Digest.Compute(blob)));
    }

    [Fact]
    public async Task Delete_respects_touches_after_the_cutoff()
    {
        using var dir = new TempDirectory();
        var store = new FileChunkStore(dir.Path);
        var data = "kept alive"u8.ToArray();
        var digest = Digest.Compute(data);
        await store.PutAsync(digest, data);
        File.SetLastWriteTimeUtc(store.PathOf(digest), DateTime.UtcNow.AddHours(-1));
        var cutoff = DateTimeOffset.UtcNow.AddMinutes(-10);

        Assert.True(await ((IChunkStore)store).TouchAsync(digest));
        Assert.False(await store.DeleteIfUntouchedSinceAsync(digest, cutoff));
        File.SetLastWriteTimeUtc(store.PathOf(digest), DateTime.UtcNow.AddHours(-1));
        Assert.True(await store.DeleteIfUntouchedSinceAsync(digest, cutoff));
        Assert.False(await ((IChunkStore)store).TouchAsync(digest));
    }

    [Fact]
    public async Task Leftover_temp_files_of_a_crash_are_removed_at_open()
    {
        using var dir = new TempDirectory();
        Directory.CreateDirectory(Path.Join(dir.Path, "tmp"));
        await File.WriteAllTextAsync(Path.Join(dir.Path, "tmp", "half-written"), "x");

        var store = new FileChunkStore(dir.Path);

        Assert.Empty(Directory.EnumerateFiles(Path.Join(dir.Path, "tmp")));
        await foreach (var item in store.ListAsync())
        {
            Assert.Fail($"unexpected object {item.Digest}");
        }
    }
}
