using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>
/// Write-behind for fetched chunks. Creating and writing a cache file costs more than receiving and hashing the
/// chunk (an inode, a directory entry, 64 KiB copied into new page-cache pages), and the thread that would pay
/// for it is the one parsing the server's batch stream. So a verified chunk is first staged in memory, where
/// readers find it at once (the read that waits for it copies it straight into its FUSE reply), and a drain on
/// the thread pool writes the files. Crash safety is unchanged: a staged chunk exists only in memory until its
/// file is complete, and a crash merely loses it. The staging area is bounded; beyond the bound the caller
/// writes the file itself, which throttles the fetch to the disk.
/// </summary>
public sealed partial class ChunkCache
{
    /// <summary>Staged bytes beyond which <see cref="Stage"/> writes synchronously.</summary>
    public const long StagingLimitBytes = 64L << 20;

    private readonly ConcurrentDictionary<Digest, byte[]> _staged = new();
    private readonly ConcurrentQueue<Digest> _stagedOrder = new();
    private long _stagedBytes;
    private int _stagedCount;
    private int _draining;

    /// <summary>Chunks staged in memory whose files are not written yet (tests wait for 0).</summary>
    public int PendingWrites => Volatile.Read(ref _stagedCount);

    /// <summary>
    /// Like <see cref="Put"/> for bytes the caller verified, but returns before the file is written: the chunk is
    /// readable (<see cref="Contains"/>, <see cref="TryRead"/>) as soon as this returns.
    /// </summary>
    public void Stage(Digest digest, ReadOnlySpan<byte> data)
    {
        if (_entries.ContainsKey(digest) || _staged.ContainsKey(digest))
        {
            return;
        }

        if (Interlocked.Read(ref _stagedBytes) + data.Length > StagingLimitBytes)
        {
            Put(digest, data);
            return;
        }

        // Uninitialised: zeroing 64 KiB that is overwritten at once showed up in profiles of cold reads.
        var copy = GC.AllocateUninitializedArray<byte>(data.Length);
        data.CopyTo(copy);
        if (!_staged.TryAdd(digest, copy))
        {
            return;
        }

        Interlocked.Add(ref _stagedBytes, data.Length);
        Interlocked.Increment(ref _stagedCount);
        _stagedOrder.Enqueue(digest);
        if (Interlocked.CompareExchange(ref _draining, 1, 0) == 0)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static cache => cache.Drain(), this, preferLocal: false);
        }
    }

    private bool TryReadStaged(Digest digest, int offset, Span<byte> destination)
    {
        if (Volatile.Read(ref _stagedCount) == 0 || !_staged.TryGetValue(digest, out var bytes))
        {
            return false;
        }

        // The array is never reused, so a reader that got it may copy from it after the drain dropped it.
        var available = Math.Clamp(bytes.Length - offset, 0, destination.Length);
        bytes.AsSpan(Math.Min(offset, bytes.Length), available).CopyTo(destination);
        destination[available..].Clear();
        return true;
    }

    private byte[]? StagedCopy(Digest digest) =>
        Volatile.Read(ref _stagedCount) > 0 && _staged.TryGetValue(digest, out var bytes) ? (byte[])bytes.Clone() : null;

    private void Drain()
    {
        while (true)
        {
            while (_stagedOrder.TryDequeue(out var digest))
            {
                if (!_staged.TryGetValue(digest, out var bytes))
                {
                    continue; // removed meanwhile
                }

                try
                {
                    Put(digest, bytes);
                }
                catch (Exception e)
                {
                    // Only the cache copy is lost; the next read of the chunk fetches it again.
                    _logger.LogWarning("Chunk cache: writing {Digest} under {Directory} failed: {Error}", digest, Directory, e.Message);
                }

                // After Put: a reader that misses the staged copy finds the file in the index.
                Unstage(digest);
            }

            Volatile.Write(ref _draining, 0);

            // A chunk staged after the queue looked empty but before the flag dropped has nobody to write it.
            if (_stagedOrder.IsEmpty || Interlocked.CompareExchange(ref _draining, 1, 0) != 0)
            {
                return;
            }
        }
    }

    private void Unstage(Digest digest)
    {
        if (_staged.TryRemove(digest, out var bytes))
        {
            Interlocked.Add(ref _stagedBytes, -bytes.Length);
            Interlocked.Decrement(ref _stagedCount);
        }
    }
}
