using System.Diagnostics;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Core.Engine;

/// <summary>
/// Mark and sweep over the stores. Mark: every page and chunk reachable from a kept snapshot, every chunk in a
/// volume's change list, every target of a named reference. Sweep: everything else that nobody touched within
/// the grace period.
/// </summary>
/// <remarks>
/// Why this is safe while clients push: an upload, a "missing" answer and a map update all touch the chunks
/// they name, a snapshot writes (or touches) its pages before it commits, and the sweep deletes only objects
/// untouched since <c>start - grace</c>, atomically against touches. So anything that becomes referenced after
/// the mark's consistent read was touched after the gc started and is never swept. One gc runs at a time across
/// every server that shares the metadata (<see cref="IMetadataStore.LockForGcAsync"/>): two sweeps would each be
/// safe, but twice the work. Servers' clocks must agree to well within the grace period, since each stamps its own
/// touches.
/// </remarks>
public sealed class GarbageCollector(IMetadataStore metadata, IChunkStore chunks, IChunkStore pages, TimeSpan grace, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public TimeSpan Grace => grace;

    public async Task<GcReport> RunAsync(CancellationToken ct = default)
    {
        await using var _ = await metadata.LockForGcAsync(ct);
        return await CollectAsync(ct);
    }

    private async Task<GcReport> CollectAsync(CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var cutoff = _time.GetUtcNow() - grace;

        var deletedSnapshots = await metadata.DeleteUnusedReleasedSnapshotsAsync(ct);
        var live = await metadata.ReadLiveSetAsync(ct);
        var liveChunks = new HashSet<Digest>(live.ChangeChunks);
        liveChunks.UnionWith(live.ReferenceTargets);
        var livePages = new HashSet<Digest>();
        foreach (var snapshot in live.Snapshots)
        {
            await MarkSnapshotAsync(snapshot, livePages, liveChunks, ct);
        }

        var (chunksScanned, chunksDeleted, chunkBytes) = await SweepAsync(chunks, liveChunks, cutoff, ct);
        var (_, pagesDeleted, pageBytes) = await SweepAsync(pages, livePages, cutoff, ct);
        return new GcReport(chunksScanned, chunksDeleted, chunkBytes + pageBytes, pagesDeleted, deletedSnapshots.Count, clock.Elapsed.TotalSeconds);
    }

    private async Task MarkSnapshotAsync(Digest snapshot, HashSet<Digest> livePages, HashSet<Digest> liveChunks, CancellationToken ct)
    {
        var rootBytes = await metadata.GetSnapshotRootAsync(snapshot, ct);
        if (rootBytes is null)
        {
            return;
        }

        BlockMapRoot root;
        try
        {
            root = BlockMapRoot.Decode(rootBytes, snapshot);
        }
        catch (InvalidDataException e)
        {
            // Sweeping on a guess could destroy data: refuse, and let fsck name the damage.
            throw BlockStoreErrors.Internal($"gc stopped before sweeping: the root of snapshot {snapshot} is damaged ({e.Message})");
        }

        foreach (var page in root.Pages.ToArray())
        {
            if (page.IsZero || !livePages.Add(page))
            {
                continue;
            }

            var bytes = await pages.ReadAllAsync(page, ct);
            if (bytes is null || bytes.Length != ChunkGeometry.PageBytes || !page.Matches(bytes))
            {
                throw BlockStoreErrors.Internal($"gc stopped before sweeping: block-map page {page} of snapshot {snapshot} is missing or damaged");
            }

            foreach (var entry in BlockMapPage.Entries(bytes))
            {
                if (!entry.IsZero)
                {
                    liveChunks.Add(entry);
                }
            }
        }
    }

    private static async Task<(long Scanned, long Deleted, long Bytes)> SweepAsync(
        IChunkStore store, HashSet<Digest> live, DateTimeOffset cutoff, CancellationToken ct)
    {
        long scanned = 0, deleted = 0, bytes = 0;
        await foreach (var item in store.ListAsync(ct))
        {
            scanned++;
            if (!live.Contains(item.Digest) && item.LastTouched < cutoff && await store.DeleteIfUntouchedSinceAsync(item.Digest, cutoff, ct))
            {
                deleted++;
                bytes += item.Length;
            }
        }

        return (scanned, deleted, bytes);
    }
}
