using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;

namespace Slacker.Node.Volumes;

/// <summary>
/// Startup profiles of one attached volume, per base snapshot (the trace-based prefetch of overlaybd): when the
/// server has a profile of the snapshot, the chunks it names are fetched in first-read order ahead of the
/// container's reads, in a few large batches instead of one round trip per miss; when it has none, this
/// container's first reads are recorded and stored on the server when the window ends or the volume is
/// detached, for the next container of the snapshot on any node. A profile only moves chunks earlier: every
/// read is still served and verified by the normal path, and a profile that fails or is wrong costs fetches,
/// never correctness.
/// </summary>
internal sealed class StartupProfiler : IDisposable
{
    /// <summary>Chunks per prefetch round (8 MiB of 64 KiB chunks); two rounds are in flight at a time.</summary>
    private const int GroupChunks = 128;

    private readonly LazyVolume _volume;
    private readonly Digest _snapshot;
    private readonly IBlockStore _store;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private StartupTrace? _trace;
    private Timer? _windowEnd;
    private int _finished;
    private int _disposed;

    private StartupProfiler(LazyVolume volume, Digest snapshot, IBlockStore store, ILogger logger)
    {
        _volume = volume;
        _snapshot = snapshot;
        _store = store;
        _logger = logger;
    }

    /// <summary>Replays the snapshot's profile, or starts recording one. Null when profiles are off or the volume has no base.</summary>
    public static async Task<StartupProfiler?> StartAsync(LazyVolume volume, NodeStorage node, CancellationToken cancellationToken)
    {
        if (!node.Options.StartupProfiles || volume.BaseSnapshot is null)
        {
            return null;
        }

        var logger = node.Loggers.CreateLogger<StartupProfiler>();
        var snapshot = Digest.Parse(volume.BaseSnapshot);
        StartupProfile? profile;
        using (var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            deadline.CancelAfter(node.Options.FetchTimeout);
            try
            {
                profile = await node.Store.GetStartupProfileAsync(snapshot, deadline.Token);
            }
            catch (Exception e) when (e is BlockStoreException or HttpRequestException || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                // Only an optimisation: the container starts without it, fetching on demand.
                logger.LogWarning("Volume {Volume}: no startup profile of snapshot {Snapshot} ({Error}); reads fetch on demand.", volume.VolumeId, snapshot, e.Message);
                return null;
            }
        }

        var profiler = new StartupProfiler(volume, snapshot, node.Store, logger);
        if (profile is { Chunks.Count: > 0 })
        {
            profiler.Replay(profile.Chunks);
        }
        else
        {
            profiler.Record(node.Options.StartupProfileWindow);
        }

        return profiler;
    }

    private void Replay(IReadOnlyList<long> chunks)
    {
        _volume.Stats.ProfileReplayed(chunks.Count);
        var groups = (chunks.Count + GroupChunks - 1) / GroupChunks;
        for (var worker = 0; worker < Math.Min(2, groups); worker++)
        {
            var first = worker;
            _ = Task.Factory.StartNew(() => PrefetchGroups(chunks, first, groups), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        }
    }

    private void PrefetchGroups(IReadOnlyList<long> chunks, int first, int groups)
    {
        try
        {
            for (var group = first; group < groups && !_stop.IsCancellationRequested; group += 2)
            {
                var start = group * GroupChunks;
                _volume.PrefetchChunks(chunks, start, Math.Min(GroupChunks, chunks.Count - start));
            }
        }
        catch (Exception e)
        {
            // The reads that need these chunks fetch them again and report any real error themselves.
            _logger.LogDebug("Volume {Volume}: replaying the startup profile stopped: {Error}", _volume.VolumeId, e.Message);
        }
    }

    private void Record(TimeSpan window)
    {
        _trace = new StartupTrace(_volume.Geometry.ChunkCount, window);
        _volume.Trace = _trace;
        _windowEnd = new Timer(_ => Finish(), null, window, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Ends the recording (window over or volume detached) and stores what it saw, in the background.</summary>
    private void Finish()
    {
        if (_trace is null || Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return;
        }

        _volume.Trace = null;
        var chunks = _trace.Close();
        _volume.Stats.ProfileRecorded(chunks.Count);
        if (chunks.Count == 0)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                await _store.PutStartupProfileAsync(_snapshot, new StartupProfile(chunks), deadline.Token);
                _logger.LogInformation("Recorded the startup profile of snapshot {Snapshot}: {Count} chunks, read first by volume {Volume}.", _snapshot, chunks.Count, _volume.VolumeId);
            }
            catch (Exception e)
            {
                _logger.LogWarning("Storing the startup profile of snapshot {Snapshot} failed: {Error}", _snapshot, e.Message);
            }
        });
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        _windowEnd?.Dispose();
        Finish();
        _stop.Dispose();
    }
}
