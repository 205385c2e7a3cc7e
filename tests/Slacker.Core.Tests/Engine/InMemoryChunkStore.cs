using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Core.Tests.Engine;

/// <summary>A fake object store for fast engine property runs; the real FileChunkStore runs in one sequence too.</summary>
public sealed class InMemoryChunkStore : IChunkStore
{
    private readonly ConcurrentDictionary<Digest, (byte[] Data, DateTimeOffset Touched)> _objects = new();
    private readonly Lock _gate = new();

    public int Count => _objects.Count;

    public ValueTask<bool> PutAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (!digest.Matches(data.Span))
        {
            throw new DigestMismatchException(digest, Digest.Compute(data.Span), data.Length);
        }

        lock (_gate)
        {
            var created = !_objects.ContainsKey(digest);
            _objects[digest] = (created ? data.ToArray() : _objects[digest].Data, DateTimeOffset.UtcNow);
            return ValueTask.FromResult(created);
        }
    }

    public async Task<BlobPutResult> PutStreamAsync(Stream content, Digest? expected, long maxLength, CancellationToken ct = default)
    {
        using var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, ct);
        if (buffer.Length > maxLength)
        {
            throw new ObjectTooLargeException(maxLength);
        }

        var digest = Digest.Compute(buffer.ToArray());
        if (expected is { } wanted && wanted != digest)
        {
            throw new DigestMismatchException(wanted, digest, buffer.Length);
        }

        return new BlobPutResult(digest, buffer.Length, await PutAsync(digest, buffer.ToArray(), ct));
    }

    public ValueTask<long?[]> GetLengthsAsync(IReadOnlyList<Digest> digests, CancellationToken ct = default) =>
        ValueTask.FromResult(digests.Select(d => _objects.TryGetValue(d, out var o) ? o.Data.Length : (long?)null).ToArray());

    public ValueTask<byte[]?> ReadAllAsync(Digest digest, CancellationToken ct = default) =>
        ValueTask.FromResult(_objects.TryGetValue(digest, out var o) ? o.Data.ToArray() : null);

    public ValueTask<bool> ReadIntoAsync(Digest digest, Memory<byte> destination, CancellationToken ct = default)
    {
        if (!_objects.TryGetValue(digest, out var o))
        {
            return ValueTask.FromResult(false);
        }

        if (o.Data.Length < destination.Length)
        {
            throw new IOException($"Object {digest} has {o.Data.Length} bytes, fewer than {destination.Length}.");
        }

        o.Data.AsMemory(0, destination.Length).CopyTo(destination);
        return ValueTask.FromResult(true);
    }

    public ValueTask<Stream?> OpenReadAsync(Digest digest, CancellationToken ct = default) =>
        ValueTask.FromResult<Stream?>(_objects.TryGetValue(digest, out var o) ? new MemoryStream(o.Data, writable: false) : null);

    public ValueTask<IReadOnlySet<Digest>> TouchAsync(IReadOnlyCollection<Digest> digests, CancellationToken ct = default)
    {
        var present = new HashSet<Digest>();
        lock (_gate)
        {
            foreach (var digest in digests)
            {
                if (_objects.TryGetValue(digest, out var o))
                {
                    _objects[digest] = (o.Data, DateTimeOffset.UtcNow);
                    present.Add(digest);
                }
            }
        }

        return ValueTask.FromResult<IReadOnlySet<Digest>>(present);
    }

    public async IAsyncEnumerable<StoredObject> ListAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        foreach (var (digest, o) in _objects.ToArray())
        {
            yield return new StoredObject(digest, o.Data.Length, o.Touched);
        }

        await Task.CompletedTask;
    }

    public ValueTask<bool> DeleteIfUntouchedSinceAsync(Digest digest, DateTimeOffset cutoff, CancellationToken ct = default)
    {
        lock (_gate)
        {
            return ValueTask.FromResult(_objects.TryGetValue(digest, out var o) && o.Touched < cutoff && _objects.TryRemove(digest, out _));
        }
    }

    /// <summary>Flips a byte of a stored object, to prove fsck notices.</summary>
    public void Corrupt(Digest digest)
    {
        var (data, touched) = _objects[digest];
        var copy = data.ToArray();
        copy[0] ^= 0xff;
        _objects[digest] = (copy, touched);
    }

    public void Remove(Digest digest) => _objects.TryRemove(digest, out _);
}
