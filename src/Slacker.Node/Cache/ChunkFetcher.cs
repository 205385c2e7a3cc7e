using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Node.Cache;

/// <summary>
/// Brings chunks and block-map pages from the server into the <see cref="ChunkCache"/>. Node-wide single flight:
/// whatever number of volumes and FUSE threads miss on one digest at the same time, it is requested once, and a
/// request for many neighbouring misses (plus read-ahead) is one batch call. Every byte is verified against its
/// digest before it enters the cache.
/// </summary>
public sealed class ChunkFetcher
{
    /// <summary>docs/API.md: a batch is at most 1024 digests and 64 MiB.</summary>
    public const int MaxBatchDigests = 1024;
    public const long MaxBatchBytes = 64L << 20;
    private const int MinParallelBatch = 16;

    private readonly ConcurrentDictionary<Digest, TaskCompletionSource> _chunkFlights = new();
    private readonly ConcurrentDictionary<Digest, Lazy<Task<byte[]>>> _pageFlights = new();
    private readonly ChunkCache _cache;
    private readonly IBlockStore _store;
    private readonly ILogger _logger;
    private long _chunksFetched, _bytesFetched, _batches, _pagesFetched;
    private long _idleGeneration;

    public ChunkFetcher(ChunkCache cache, IBlockStore store, TimeSpan timeout, ILogger logger, int parallelBatches = 2)
    {
        _cache = cache;
        _store = store;
        Timeout = timeout;
        _logger = logger;
        ParallelBatches = Math.Max(1, parallelBatches);
    }

    /// <summary>A claim is split into at most this many concurrent batch requests (of at least 16 chunks each).</summary>
    public int ParallelBatches { get; }

    /// <summary>How long fetching must be idle before the cache's last records are written to disk.</summary>
    public static TimeSpan IdleFlushDelay { get; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How long one server request may take before the read that waits for it fails with EIO.</summary>
    public TimeSpan Timeout { get; }

    public ChunkCache Cache => _cache;

    public long ChunksFetched => Interlocked.Read(ref _chunksFetched);

    public long BytesFetched => Interlocked.Read(ref _bytesFetched);

    public long Batches => Interlocked.Read(ref _batches);

    public long PagesFetched => Interlocked.Read(ref _pagesFetched);

    /// <summary>
    /// Blocks until every digest in <paramref name="needed"/> is in the cache, fetching those that nobody is
    /// fetching yet in one batch together with <paramref name="readAhead"/> (which nobody waits for). Throws
    /// <see cref="ChunkCorruptException"/> for bytes that fail verification, <see cref="TimeoutException"/> when
    /// the server does not answer within <see cref="Timeout"/>, and the server's error otherwise.
    /// </summary>
    /// <param name="waitForNeeded">False: claim <paramref name="needed"/> (counted as on demand) but return at once;
    /// the caller waits later with another Fetch of the same digests, which joins the flights.</param>
    public void Fetch(IReadOnlyList<Digest> needed, IReadOnlyList<Digest> readAhead, int chunkSize, IFetchObserver? observer, bool waitForNeeded = true)
    {
        var waits = new List<Task>(needed.Count);
        var claimed = new List<Digest>(needed.Count + readAhead.Count);
        Claim(needed, claimed, waits);
        var onDemand = claimed.Count;
        Claim(readAhead, claimed, null);
        observer?.OnRequested(onDemand, claimed.Count - onDemand);
        if (claimed.Count > 0)
        {
            // Big claims (a sequential window) go out as a few concurrent requests, so that the server's file
            // reads, the transfer and the node's hashing and cache writes overlap instead of taking turns.
            var limit = (int)Math.Clamp(MaxBatchBytes / Math.Max(chunkSize, ChunkGeometry.MinChunkSize), 1, MaxBatchDigests);
            var share = (claimed.Count + ParallelBatches - 1) / ParallelBatches;
            var perBatch = Math.Min(limit, Math.Max(MinParallelBatch, share));
            for (var start = 0; start < claimed.Count; start += perBatch)
            {
                var batch = claimed.GetRange(start, Math.Min(perBatch, claimed.Count - start));
                _ = Task.Run(() => RunBatchAsync(batch, observer));
            }
        }

        if (waits.Count == 0 || !waitForNeeded)
        {
            return;
        }

        // The batch has its own deadline; the extra second only covers scheduling, so a wait never outlives it by much.
        bool completed;
        try
        {
            completed = Task.WaitAll([.. waits], Timeout + TimeSpan.FromSeconds(1));
        }
        catch (AggregateException e)
        {
            throw Unwrap(e);
        }

        if (!completed)
        {
            throw new TimeoutException($"The server did not deliver {waits.Count(t => !t.IsCompleted)} chunk(s) within {Timeout.TotalSeconds:0.#} s; check that the server is reachable.");
        }
    }

    /// <summary>True while a fetch of <paramref name="digest"/> is under way.</summary>
    public bool IsPending(Digest digest) => _chunkFlights.ContainsKey(digest);

    /// <summary>True while any chunk fetch is under way (tests wait for prefetches with it).</summary>
    public bool IsPendingAny => !_chunkFlights.IsEmpty;

    /// <summary>A block-map page, from the cache or the server, verified; blocks up to <see cref="Timeout"/>.</summary>
    public byte[] GetPage(Digest page)
    {
        var task = GetPageAsync(page);
        try
        {
            if (!task.Wait(Timeout + TimeSpan.FromSeconds(1)))
            {
                throw new TimeoutException($"The server did not deliver block-map page {page} within {Timeout.TotalSeconds:0.#} s; check that the server is reachable.");
            }
        }
        catch (AggregateException e)
        {
            throw Unwrap(e);
        }

        return task.Result;
    }

    public Task<byte[]> GetPageAsync(Digest page)
    {
        if (_cache.TryReadAll(page) is { Length: ChunkGeometry.PageBytes } cached)
        {
            return Task.FromResult(cached);
        }

        var flight = _pageFlights.GetOrAdd(page, d => new Lazy<Task<byte[]>>(() => FetchPageAsync(d)));
        return flight.Value;
    }

    /// <summary>A snapshot's root, verified against the snapshot id (cached like any other content-addressed blob).</summary>
    public async Task<BlockMapRoot> GetRootAsync(Digest snapshotId, CancellationToken cancellationToken)
    {
        if (_cache.TryReadAll(snapshotId) is { } cached)
        {
            return BlockMapRoot.Decode(cached, snapshotId);
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(Timeout);
        byte[] bytes;
        try
        {
            bytes = await _store.GetRootAsync(snapshotId, deadline.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"The server did not deliver the root of snapshot {snapshotId} within {Timeout.TotalSeconds:0.#} s; check that the server is reachable.");
        }

        if (!snapshotId.Matches(bytes))
        {
            _logger.LogError("Snapshot root {Snapshot} from the server does not hash to its id; refusing it.", snapshotId);
            throw new ChunkCorruptException(snapshotId, $"The server sent a root for snapshot {snapshotId} that does not hash to that id: the server's copy is corrupt.");
        }

        var root = BlockMapRoot.Decode(bytes, snapshotId);
        _cache.Put(snapshotId, bytes);
        return root;
    }

    private void Claim(IReadOnlyList<Digest> digests, List<Digest> claimed, List<Task>? waits)
    {
        for (var i = 0; i < digests.Count; i++)
        {
            var digest = digests[i];
            if (digest.IsZero || _cache.Contains(digest))
            {
                continue;
            }

            var flight = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var current = _chunkFlights.GetOrAdd(digest, flight);
            if (ReferenceEquals(current, flight))
            {
                // A fetch that finished between Contains and GetOrAdd has already cached it: nothing to do.
                if (_cache.Contains(digest))
                {
                    _chunkFlights.TryRemove(new KeyValuePair<Digest, TaskCompletionSource>(digest, flight));
                    flight.TrySetResult();
                    continue;
                }

                claimed.Add(digest);
            }

            waits?.Add(current.Task);
        }
    }

    private const int MaxTransientRetries = 8;

    /// <summary>Failures of the transport or of one server, not of the data: worth asking (another server) again.</summary>
    private static bool IsTransient(Exception e) => e switch
    {
        ChunkCorruptException => false,
        BlockStoreException b => b.Code is ErrorCodes.ServerUnreachable or ErrorCodes.ServerTimeout || b.StatusCode is 502 or 503 or 504,
        HttpRequestException or IOException => true,
        _ => false,
    };

    private async Task RunBatchAsync(List<Digest> batch, IFetchObserver? observer)
    {
        Exception? failure = null;
        Interlocked.Increment(ref _idleGeneration); // busy again: a flush waiting for idleness is off
        using var deadline = new CancellationTokenSource(Timeout);
        var remaining = batch;
        var transientFailures = 0;
        while (remaining.Count > 0 && failure is null)
        {
            Interlocked.Increment(ref _batches);
            try
            {
                await _store.FetchChunksAsync(remaining, (digest, data) => Deliver(digest, data, observer), deadline.Token);
                break;
            }
            catch (ChunkCorruptException e) when (_chunkFlights.TryRemove(e.Digest, out var bad))
            {
                _logger.LogError("Chunk {Digest} from the server does not hash to its name: the server's copy is corrupt; refusing it.", e.Digest);
                bad.TrySetException(e);

                // The chunks after a bad one are still good: ask again for those not delivered yet.
                remaining = remaining.Where(_chunkFlights.ContainsKey).ToList();
            }
            catch (Exception e) when (IsTransient(e) && !deadline.IsCancellationRequested && ++transientFailures <= MaxTransientRetries)
            {
                // A server died mid-answer or was unreachable: the failover handler picks another one of the cluster
                // for the next try, and the chunks delivered so far stay delivered.
                _logger.LogWarning("Fetching {Count} chunk(s) failed ({Error}); retrying the undelivered ones.", remaining.Count, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(50 * transientFailures), CancellationToken.None);
                remaining = remaining.Where(_chunkFlights.ContainsKey).ToList();
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                failure = new TimeoutException($"The server did not answer a batch of {batch.Count} chunk(s) within {Timeout.TotalSeconds:0.#} s; check that the server is reachable.");
            }
            catch (Exception e)
            {
                failure = e;
            }
        }

        foreach (var digest in batch)
        {
            if (_chunkFlights.TryRemove(digest, out var flight))
            {
                flight.TrySetException(failure ?? new IOException($"The server's batch answer did not contain chunk {digest}."));
            }
        }

        if (failure is not null)
        {
            _logger.LogWarning("Fetching {Count} chunk(s) from the server failed: {Error}", batch.Count, failure.Message);
        }

        if (_chunkFlights.IsEmpty)
        {
            FlushCacheWhenIdle();
        }
    }

    /// <summary>
    /// The cache's last records go to disk once fetching has been idle for <see cref="IdleFlushDelay"/>, so that
    /// a crash loses little. Not at once: a container start fetches in many small bursts, and a flush holds the
    /// cache's pack lock for a disk write that the next read would wait for.
    /// </summary>
    private void FlushCacheWhenIdle()
    {
        var generation = Interlocked.Increment(ref _idleGeneration);
        _ = Task.Delay(IdleFlushDelay).ContinueWith(
            _ =>
            {
                if (generation != Volatile.Read(ref _idleGeneration) || !_chunkFlights.IsEmpty)
                {
                    return; // fetching resumed: its own idle moment flushes
                }

                try
                {
                    _cache.Flush();
                }
                catch (IOException e)
                {
                    _logger.LogWarning("{Error}", e.Message);
                }
            },
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void Deliver(Digest digest, ReadOnlySpan<byte> data, IFetchObserver? observer)
    {
        if (!_chunkFlights.TryGetValue(digest, out var flight))
        {
            return; // not one we asked for (or already failed); never cache unrequested bytes
        }

        if (!_store.ChunksVerified && !digest.Matches(data))
        {
            _logger.LogError("Chunk {Digest} from the server does not hash to its name ({Length} bytes): the server's copy is corrupt; refusing it.", digest, data.Length);
            _chunkFlights.TryRemove(digest, out _);
            flight.TrySetException(new ChunkCorruptException(digest, $"Chunk {digest} from the server does not hash to its name: the server's copy is corrupt. Repair it on the server (slacker fsck)."));
            return;
        }

        try
        {
            _cache.Put(digest, data);
        }
        catch (Exception e)
        {
            _chunkFlights.TryRemove(digest, out _);
            flight.TrySetException(new IOException($"Storing chunk {digest} in the node cache failed: {e.Message}", e));
            return;
        }

        Interlocked.Increment(ref _chunksFetched);
        Interlocked.Add(ref _bytesFetched, data.Length);
        observer?.OnChunkFetched(data.Length);
        _chunkFlights.TryRemove(digest, out _);
        flight.TrySetResult();
    }

    private async Task<byte[]> FetchPageAsync(Digest page)
    {
        try
        {
            using var deadline = new CancellationTokenSource(Timeout);
            byte[] bytes;
            try
            {
                bytes = await _store.GetPageAsync(page, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"The server did not deliver block-map page {page} within {Timeout.TotalSeconds:0.#} s; check that the server is reachable.");
            }

            if (bytes.Length != ChunkGeometry.PageBytes || !page.Matches(bytes))
            {
                _logger.LogError("Block-map page {Page} from the server does not hash to its name; refusing it.", page);
                throw new ChunkCorruptException(page, $"Block-map page {page} from the server does not hash to its name: the server's copy is corrupt.");
            }

            _cache.Put(page, bytes);
            Interlocked.Increment(ref _pagesFetched);
            return bytes;
        }
        finally
        {
            _pageFlights.TryRemove(page, out _);
        }
    }

    private static Exception Unwrap(AggregateException e) =>
        e.Flatten().InnerExceptions is [var single] ? single : e.Flatten().InnerExceptions[0];
}
