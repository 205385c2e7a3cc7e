using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Slacker.Core.Model;
using Slacker.Core.Storage;
using Slacker.Server.Storage.Sql;

namespace Slacker.Server.Storage.S3;

/// <summary>
/// Content-addressed objects in S3 (key <c>PREFIX/ab…</c>, the digest's hex), with their index in PostgreSQL:
/// <c>objects(store, digest, length, stored, touched_at)</c>. S3 has no atomic "delete unless touched", so gc's
/// grace period is kept in the index, and every decision that needs atomicity takes the index row's lock:
/// <list type="bullet">
/// <item>put: upsert the row (touched now) and lock it; if it says stored, done; otherwise PUT to S3, set stored, commit.
/// A crash before the commit leaves no row, at most an S3 object without one, which gc lists and removes.</item>
/// <item>touch: <c>UPDATE … WHERE stored = 1</c>; an object is present for a client only while its row says stored.</item>
/// <item>gc: first withdraw (stored = 0, committed: no one is told "present" again), then, under the row lock,
/// delete the S3 object and the row. A crash between the two leaves a withdrawn row that the next gc finishes.</item>
/// </list>
/// Reads go straight to S3 and are verified against the digest before they are served.
/// </summary>
public sealed class S3ChunkStore : IChunkStore
{
    private const int BatchSize = 1000;

    /// <summary>Objects up to this size (every chunk and page, small blobs) are read whole and verified before they are served.</summary>
    private const long WholeReadBytes = 8L << 20;
    private readonly S3Bucket _bucket;
    private readonly PostgresDatabase _index;
    private readonly string _store;
    private readonly string _prefix;
    private readonly string _spoolDirectory;
    private readonly ObjectReadCache _cache;
    private readonly TimeProvider _time;

    /// <param name="store">The index's name for this store ("chunks", "pages") and its key prefix in the bucket.</param>
    /// <param name="spoolDirectory">Local space for a blob that streams in before it can be verified and uploaded.</param>
    public S3ChunkStore(S3Bucket bucket, PostgresDatabase index, string store, string spoolDirectory, long cacheBytes, TimeProvider? time = null)
    {
        _bucket = bucket;
        _index = index;
        _store = store;
        _prefix = bucket.Location.Prefix + store + "/";
        _spoolDirectory = spoolDirectory;
        _cache = new ObjectReadCache(cacheBytes);
        _time = time ?? TimeProvider.System;
    }

    public int ReadConcurrency => 32;

    public ObjectReadCache Cache => _cache;

    public override string ToString() => $"{_bucket.Location} {_store}";

    public async ValueTask<bool> PutAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (!digest.Matches(data.Span))
        {
            throw new DigestMismatchException(digest, Digest.Compute(data.Span), data.Length);
        }

        return await ClaimAndStoreAsync(digest, data.Length, () => _bucket.PutAsync(KeyOf(digest), data, ct), ct);
    }

    public async Task<BlobPutResult> PutStreamAsync(Stream content, Digest? expected, long maxLength, CancellationToken ct = default)
    {
        Directory.CreateDirectory(_spoolDirectory);
        var path = Path.Join(_spoolDirectory, Guid.NewGuid().ToString("N"));
        await using var spool = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16,
            FileOptions.Asynchronous | FileOptions.DeleteOnClose);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            int read;
            while ((read = await content.ReadAsync(buffer, ct)) > 0)
            {
                if (spool.Length + read > maxLength)
                {
                    throw new ObjectTooLargeException(maxLength);
                }

                hash.AppendData(buffer, 0, read);
                await spool.WriteAsync(buffer.AsMemory(0, read), ct);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        var digest = new Digest(hash.GetHashAndReset());
        if (expected is { } wanted && wanted != digest)
        {
            throw new DigestMismatchException(wanted, digest, spool.Length);
        }

        var length = spool.Length;
        var created = await ClaimAndStoreAsync(digest, length, () =>
        {
            spool.Position = 0;
            return _bucket.PutStreamAsync(KeyOf(digest), spool, ct);
        }, ct);
        return new BlobPutResult(digest, length, created);
    }

    public ValueTask<long?[]> GetLengthsAsync(IReadOnlyList<Digest> digests, CancellationToken ct = default) =>
        new(_index.ReadAsync(async session =>
        {
            var found = new Dictionary<Digest, long>();
            foreach (var batch in digests.Chunk(BatchSize))
            {
                var rows = await session.ListAsync(
                    "SELECT digest, length FROM objects WHERE store = @s AND stored = 1 AND digest = ANY(@d)",
                    r => (new Digest(SqlSession.Bytes(r, 0)), SqlSession.Int64(r, 1)), ct, ("@s", _store), ("@d", ToArrays(batch)));
                foreach (var (digest, length) in rows)
                {
                    found[digest] = length;
                }
            }

            return digests.Select(d => found.TryGetValue(d, out var length) ? length : (long?)null).ToArray();
        }, ct));

    public ValueTask<byte[]?> ReadAllAsync(Digest digest, CancellationToken ct = default) =>
        _cache.GetOrFetchAsync(digest, d => FetchVerifiedAsync(d, ct));

    public async ValueTask<bool> ReadIntoAsync(Digest digest, Memory<byte> destination, CancellationToken ct = default)
    {
        var bytes = await ReadAllAsync(digest, ct);
        if (bytes is null)
        {
            return false;
        }

        if (bytes.Length < destination.Length)
        {
            throw new IOException($"Object {digest} in {this} has {bytes.Length} bytes, fewer than the {destination.Length} asked for: its index entry is wrong. Run `slacker fsck`.");
        }

        bytes.AsMemory(0, destination.Length).CopyTo(destination);
        return true;
    }

    public async ValueTask<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default)
    {
        var response = await _bucket.GetAsync(KeyOf(digest), ct);
        if (response is null)
        {
            return null;
        }

        if (response.ContentLength > WholeReadBytes)
        {
            return new VerifyingStream(response, digest, ToString());
        }

        // Small enough to verify before the first byte goes out, so that damage is an error answer, not a cut one.
        using (response)
        {
            var bytes = await ReadVerifiedAsync(response, digest, ct);
            return new MemoryStream(bytes, writable: false);
        }
    }

    public ValueTask<IReadOnlySet<Digest>> TouchAsync(IReadOnlyCollection<Digest> digests, CancellationToken ct = default) =>
        new(_index.LockingAsync<IReadOnlySet<Digest>>(async session =>
        {
            var present = new HashSet<Digest>();
            var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
            // Sorted, so that two batches lock shared rows in the same order and cannot deadlock each other.
            foreach (var batch in digests.Distinct().Order().Chunk(BatchSize))
            {
                var rows = await session.ListAsync(
                    "UPDATE objects SET touched_at = GREATEST(touched_at, @now) WHERE store = @s AND stored = 1 AND digest = ANY(@d) RETURNING digest",
                    r => new Digest(SqlSession.Bytes(r, 0)), ct, ("@s", _store), ("@now", now), ("@d", ToArrays(batch)));
                present.UnionWith(rows);
            }

            return present;
        }, ct));

    /// <summary>
    /// The index merged with the bucket listing, both in digest order: indexed objects with their touched time,
    /// and S3 objects without a row (left by a put that died before its commit) with their S3 time, so gc removes them.
    /// </summary>
    public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var listing = ListBucketAsync(ct).GetAsyncEnumerator(ct);
        var hasListed = await listing.MoveNextAsync();
        var after = Array.Empty<byte>();
        while (true)
        {
            var page = await _index.ReadAsync(session => session.ListAsync(
                "SELECT digest, length, touched_at FROM objects WHERE store = @s AND digest > @after ORDER BY digest LIMIT @n",
                r => new StoredObject(new Digest(SqlSession.Bytes(r, 0)), SqlSession.Int64(r, 1), DateTimeOffset.FromUnixTimeMilliseconds(SqlSession.Int64(r, 2))),
                ct, ("@s", _store), ("@after", after), ("@n", BatchSize)), ct);
            foreach (var indexed in page)
            {
                while (hasListed && listing.Current.Digest.CompareTo(indexed.Digest) < 0)
                {
                    yield return listing.Current;
                    hasListed = await listing.MoveNextAsync();
                }

                if (hasListed && listing.Current.Digest == indexed.Digest)
                {
                    hasListed = await listing.MoveNextAsync();
                }

                yield return indexed;
            }

            if (page.Count < BatchSize)
            {
                break;
            }

            after = page[^1].Digest.AsSpan().ToArray();
        }

        while (hasListed)
        {
            yield return listing.Current;
            hasListed = await listing.MoveNextAsync();
        }
    }

    public async ValueTask<bool> DeleteIfUntouchedSinceAsync(Digest digest, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        var key = digest.AsSpan().ToArray();
        var before = cutoff.ToUnixTimeMilliseconds();
        await _index.LockingAsync(session => session.ExecuteAsync(
            "UPDATE objects SET stored = 0 WHERE store = @s AND digest = @d AND stored = 1 AND touched_at < @cutoff", ct,
            ("@s", _store), ("@d", key), ("@cutoff", before)), ct);

        return await _index.LockingAsync(async session =>
        {
            // The placeholder row (for an S3 object that has none) makes a concurrent put wait on this row's lock.
            await session.ExecuteAsync(
                "INSERT INTO objects (store, digest, length, stored, touched_at) VALUES (@s, @d, 0, 0, 0) ON CONFLICT DO NOTHING", ct,
                ("@s", _store), ("@d", key));
            var row = await session.FirstAsync(
                "SELECT stored, touched_at FROM objects WHERE store = @s AND digest = @d FOR UPDATE",
                r => (Stored: SqlSession.Int64(r, 0), Touched: SqlSession.Int64(r, 1)), ct, ("@s", _store), ("@d", key));
            if (row.Stored == 1 || row.Touched >= before)
            {
                return false;
            }

            await _bucket.DeleteAsync(KeyOf(digest), ct);
            _cache.Remove(digest);
            await session.ExecuteAsync("DELETE FROM objects WHERE store = @s AND digest = @d", ct, ("@s", _store), ("@d", key));
            return true;
        }, ct);
    }

    private async Task<bool> ClaimAndStoreAsync(Digest digest, long length, Func<Task> upload, CancellationToken ct)
    {
        var key = digest.AsSpan().ToArray();
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        return await _index.LockingAsync(async session =>
        {
            var stored = await session.ScalarAsync(
                "INSERT INTO objects (store, digest, length, stored, touched_at) VALUES (@s, @d, @len, 0, @now) " +
                "ON CONFLICT (store, digest) DO UPDATE SET touched_at = GREATEST(objects.touched_at, excluded.touched_at) RETURNING stored", ct,
                ("@s", _store), ("@d", key), ("@len", length), ("@now", now));
            if (Convert.ToInt64(stored, System.Globalization.CultureInfo.InvariantCulture) == 1)
            {
                return false;
            }

            await upload();
            await session.ExecuteAsync("UPDATE objects SET stored = 1, length = @len WHERE store = @s AND digest = @d", ct,
                ("@s", _store), ("@d", key), ("@len", length));
            return true;
        }, ct);
    }

    private async Task<byte[]?> FetchVerifiedAsync(Digest digest, CancellationToken ct)
    {
        using var response = await _bucket.GetAsync(KeyOf(digest), ct);
        return response is null ? null : await ReadVerifiedAsync(response, digest, ct);
    }

    private async Task<byte[]> ReadVerifiedAsync(Amazon.S3.Model.GetObjectResponse response, Digest digest, CancellationToken ct)
    {
        var bytes = new byte[response.ContentLength];
        await response.ResponseStream.ReadExactlyAsync(bytes, ct);
        if (!digest.Matches(bytes))
        {
            throw new CorruptObjectException(ToString(), digest, $"{bytes.Length} bytes hash to {Digest.Compute(bytes)}");
        }

        return bytes;
    }

    private async IAsyncEnumerable<StoredObject> ListBucketAsync([EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var entry in _bucket.ListAsync(_prefix, ct))
        {
            if (Digest.TryParse(Digest.Prefix + entry.Key[_prefix.Length..], out var digest))
            {
                yield return new StoredObject(digest, entry.Size, entry.LastModified);
            }
        }
    }

    private string KeyOf(Digest digest) => _prefix + digest.Hex;

    private static byte[][] ToArrays(Digest[] digests) => Array.ConvertAll(digests, d => d.AsSpan().ToArray());
}
