using Slacker.Native;
using System.Buffers;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Server.Storage;

/// <summary>
/// Content-addressed objects in a local directory, fanned out by digest prefix (<c>ab/cd/abcd…</c>) so no
/// directory grows huge. Each object is written to <c>tmp/</c>, fsynced, renamed into place, and its directory
/// fsynced: a crash leaves either the whole object or nothing (plus temp files, removed at the next start).
/// The file's mtime is its "last touched" time for gc's grace period.
/// </summary>
public sealed class FileChunkStore : IChunkStore
{
    private const int CopyBufferSize = 128 * 1024;
    private readonly string _root;
    private readonly string _temp;
    private readonly bool _durable;

    // Publish, touch and gc's delete of one name must not interleave (see DeleteIfUntouchedSinceAsync);
    // a fixed set of monitors picked by digest keeps that cheap.
    private readonly Lock[] _stripes = Enumerable.Range(0, 256).Select(_ => new Lock()).ToArray();

    /// <param name="root">The store's directory; created if missing.</param>
    /// <param name="readOnly">Open an existing store without changing it (fsck next to a running server).</param>
    /// <param name="durable">fsync files and directories; only tests that never crash may turn it off.</param>
    public FileChunkStore(string root, bool readOnly = false, bool durable = true)
    {
        _root = Path.GetFullPath(root);
        _temp = Path.Join(_root, "tmp");
        _durable = durable;
        if (readOnly)
        {
            if (!Directory.Exists(_root))
            {
                throw new DirectoryNotFoundException($"No object store at {_root}: check the --data directory.");
            }

            return;
        }

        Directory.CreateDirectory(_temp);
        // Leftovers of uploads that a crash interrupted: never renamed into place, so nothing refers to them.
        foreach (var stale in Directory.EnumerateFiles(_temp))
        {
            File.Delete(stale);
        }
    }

    public string Root => _root;

    public async ValueTask<bool> PutAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (!digest.Matches(data.Span))
        {
            throw new DigestMismatchException(digest, Digest.Compute(data.Span), data.Length);
        }

        if (TryTouch(digest))
        {
            return false;
        }

        var temp = NewTempPath();
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                await file.WriteAsync(data, ct);
                Sync(file);
            }

            return Publish(digest, temp);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public async Task<BlobPutResult> PutStreamAsync(Stream content, Digest? expected, long maxLength, CancellationToken ct = default)
    {
        var temp = NewTempPath();
        try
        {
            long length;
            Digest digest;
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, bufferSize: 0, FileOptions.Asynchronous))
            {
                (length, digest) = await HashAsync(content, file, maxLength, ct);
                if (expected is { } wanted && wanted != digest)
                {
                    throw new DigestMismatchException(wanted, digest, length);
                }

                // A repeat upload costs a write to tmp/ but no fsync and no rename.
                if (TryTouch(digest))
                {
                    return new BlobPutResult(digest, length, false);
                }

                Sync(file);
            }

            return new BlobPutResult(digest, length, Publish(digest, temp));
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public ValueTask<long?[]> GetLengthsAsync(IReadOnlyList<Digest> digests, CancellationToken ct = default)
    {
        var lengths = new long?[digests.Count];
        for (var i = 0; i < lengths.Length; i++)
        {
            var info = new FileInfo(PathOf(digests[i]));
            lengths[i] = info.Exists ? info.Length : null;
        }

        return ValueTask.FromResult(lengths);
    }

    public async ValueTask<byte[]?> ReadAllAsync(Digest digest, CancellationToken ct = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(digest), ct);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public ValueTask<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default)
    {
        try
        {
            // FileShare.Delete: gc may unlink an object while a slow reader still streams it; the reader keeps its inode.
            Stream stream = new FileStream(PathOf(digest), FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, bufferSize: 0, FileOptions.Asynchronous | FileOptions.SequentialScan);
            return ValueTask.FromResult<Stream?>(stream);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult<Stream?>(null);
        }
    }

    /// <summary>
    /// One pread per call into the caller's buffer, no FileStream in between. The file is opened shared for writing
    /// and deletion so that no flock is taken (objects are immutable; gc may unlink one meanwhile, and the handle
    /// keeps its inode).
    /// </summary>
    public ValueTask<bool> ReadIntoAsync(Digest digest, Memory<byte> destination, CancellationToken ct = default)
    {
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(PathOf(digest), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return ValueTask.FromResult(false);
        }

        using (handle)
        {
            var into = destination.Span;
            var done = 0;
            while (done < into.Length)
            {
                var n = RandomAccess.Read(handle, into[done..], done);
                if (n == 0)
                {
                    throw new IOException($"Object {digest} is shorter on disk than its {into.Length} bytes; the store is damaged (run slacker fsck).");
                }

                done += n;
            }
        }

        return ValueTask.FromResult(true);
    }

    public ValueTask<IReadOnlySet<Digest>> TouchAsync(IReadOnlyCollection<Digest> digests, CancellationToken ct = default)
    {
        var present = new HashSet<Digest>();
        foreach (var digest in digests)
        {
            if (TryTouch(digest))
            {
                present.Add(digest);
            }
        }

        return ValueTask.FromResult<IReadOnlySet<Digest>>(present);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        var options = new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true };
        foreach (var level1 in new DirectoryInfo(_root).EnumerateDirectories())
        {
            if (level1.Name.Length != 2)
            {
                continue; // tmp/
            }

            foreach (var file in level1.EnumerateFiles("*", options))
            {
                ct.ThrowIfCancellationRequested();
                if (Digest.TryParse(Digest.Prefix + file.Name, out var digest))
                {
                    yield return new StoredObject(digest, file.Length, file.LastWriteTimeUtc);
                }
            }

            await Task.Yield();
        }
    }

    public ValueTask<bool> DeleteIfUntouchedSinceAsync(Digest digest, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        var path = PathOf(digest);
        lock (StripeOf(digest))
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.LastWriteTimeUtc >= cutoff.UtcDateTime)
            {
                return ValueTask.FromResult(false);
            }

            File.Delete(path);
            return ValueTask.FromResult(true);
        }
    }

    internal string PathOf(Digest digest)
    {
        var hex = digest.Hex;
        return Path.Join(_root, hex.AsSpan(0, 2), hex.AsSpan(2, 2), hex);
    }

    private bool TryTouch(Digest digest)
    {
        var path = PathOf(digest);
        lock (StripeOf(digest))
        {
            if (!File.Exists(path))
            {
                return false;
            }

            File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
            return true;
        }
    }

    /// <summary>Renames the finished temp file into place. False if another upload got there first (then it is touched).</summary>
    private bool Publish(Digest digest, string temp)
    {
        var path = PathOf(digest);
        var directory = Path.GetDirectoryName(path)!;
        EnsureDirectory(directory);
        lock (StripeOf(digest))
        {
            if (File.Exists(path))
            {
                File.SetLastWriteTimeUtc(path, DateTime.UtcNow);
                return false;
            }

            File.Move(temp, path);
        }

        if (_durable)
        {
            UnixFile.SyncDirectory(directory);
        }

        return true;
    }

    private void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        var parent = Path.GetDirectoryName(directory)!;
        var parentExisted = Directory.Exists(parent);
        Directory.CreateDirectory(directory);
        if (_durable)
        {
            UnixFile.SyncDirectory(parent);
            if (!parentExisted)
            {
                UnixFile.SyncDirectory(_root);
            }
        }
    }

    private void Sync(FileStream file)
    {
        if (_durable)
        {
            file.Flush(flushToDisk: true);
        }
    }

    private string NewTempPath() => Path.Join(_temp, Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12)));

    private Lock StripeOf(Digest digest) => _stripes[digest.AsSpan()[0]];

    private static async Task<(long Length, Digest Digest)> HashAsync(Stream content, Stream? copyTo, long maxLength, CancellationToken ct)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(CopyBufferSize);
        try
        {
            long total = 0;
            int read;
            while ((read = await content.ReadAsync(buffer.AsMemory(0, CopyBufferSize), ct)) > 0)
            {
                total += read;
                if (total > maxLength)
                {
                    throw new ObjectTooLargeException(maxLength);
                }

                hash.AppendData(buffer, 0, read);
                if (copyTo is not null)
                {
                    await copyTo.WriteAsync(buffer.AsMemory(0, read), ct);
                }
            }

            Span<byte> digest = stackalloc byte[Digest.Length];
            hash.GetHashAndReset(digest);
            return (total, new Digest(digest));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
