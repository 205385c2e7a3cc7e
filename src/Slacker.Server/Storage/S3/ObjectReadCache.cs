using System.Collections.Concurrent;
using Slacker.Core.Model;

namespace Slacker.Server.Storage.S3;

/// <summary>
/// Verified objects recently read from S3, bounded by bytes, with one fetch in flight per digest: when every node
/// of a cluster starts the same image at once, S3 sends each chunk to each server once, not once per node.
/// Entries are immutable (content-addressed), so a hit never needs revalidation; eviction is oldest-inserted first.
/// </summary>
public sealed class ObjectReadCache(long capacityBytes)
{
    private readonly ConcurrentDictionary<Digest, byte[]> _entries = new();
    private readonly ConcurrentDictionary<Digest, Task<byte[]?>> _inFlight = new();
    private readonly ConcurrentQueue<Digest> _order = new();
    private long _bytes;

    private long _hits;
    private long _misses;

    public long Hits => Interlocked.Read(ref _hits);

    public long Misses => Interlocked.Read(ref _misses);

    /// <summary>The cached bytes, or the result of <paramref name="fetch"/> shared with every concurrent caller.</summary>
    public async ValueTask<byte[]?> GetOrFetchAsync(Digest digest, Func<Digest, Task<byte[]?>> fetch)
    {
        if (_entries.TryGetValue(digest, out var hit))
        {
            Interlocked.Increment(ref _hits);
            return hit;
        }

        Interlocked.Increment(ref _misses);
        var mine = new TaskCompletionSource<byte[]?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var shared = _inFlight.GetOrAdd(digest, mine.Task);
        if (shared != mine.Task)
        {
            return await shared;
        }

        try
        {
            var bytes = await fetch(digest);
            if (bytes is not null)
            {
                Add(digest, bytes);
            }

            mine.SetResult(bytes);
            return bytes;
        }
        catch (Exception e)
        {
            mine.SetException(e);
            throw;
        }
        finally
        {
            _inFlight.TryRemove(digest, out _);
        }
    }

    /// <summary>Forgets an object that gc deletes, so a later read sees that it is gone.</summary>
    public void Remove(Digest digest)
    {
        if (_entries.TryRemove(digest, out var bytes))
        {
            Interlocked.Add(ref _bytes, -bytes.Length);
        }
    }

    private void Add(Digest digest, byte[] bytes)
    {
        if (capacityBytes <= 0 || bytes.Length > capacityBytes / 16 || !_entries.TryAdd(digest, bytes))
        {
            return;
        }

        _order.Enqueue(digest);
        Interlocked.Add(ref _bytes, bytes.Length);
        while (Interlocked.Read(ref _bytes) > capacityBytes && _order.TryDequeue(out var oldest))
        {
            Remove(oldest);
        }
    }
}
