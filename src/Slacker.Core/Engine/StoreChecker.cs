using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Core.Engine;

/// <summary>
/// fsck: every snapshot and volume must reach only pages and chunks that exist and hash to their names, and
/// every root must hash to its snapshot id. Reads everything reachable once; reports each problem by name.
/// </summary>
public sealed class StoreChecker(IMetadataStore metadata, IChunkStore chunks, IChunkStore pages)
{
    public async Task<FsckReport> CheckAsync(CancellationToken ct = default)
    {
        var problems = new List<FsckProblem>();
        // Each chunk is read once, however many snapshots share it; the value says who first reached it.
        var chunkUsers = new Dictionary<Digest, string>();
        var checkedPages = new Dictionary<Digest, bool>();
        var snapshots = await metadata.ListSnapshotsAsync(ct);
        var snapshotIds = snapshots.Select(s => s.Id).ToHashSet();

        foreach (var snapshot in snapshots)
        {
            await CheckSnapshotAsync(snapshot, chunkUsers, checkedPages, problems, ct);
        }

        var volumes = await metadata.ListVolumesAsync(ct);
        foreach (var volume in volumes)
        {
            var state = await metadata.GetVolumeStateAsync(volume.Id, ct);
            if (state is null)
            {
                continue; // deleted while we looked: nothing to check
            }

            if (volume.BaseSnapshot is { } baseId && !snapshotIds.Contains(baseId))
            {
                problems.Add(new FsckProblem("base-snapshot-missing", volume.Id, $"base snapshot {baseId} does not exist"));
            }

            foreach (var change in state.Changes)
            {
                if (change.Index < 0 || change.Index >= volume.Geometry.ChunkCount)
                {
                    problems.Add(new FsckProblem("index-out-of-range", volume.Id, $"change at index {change.Index} is outside 0..{volume.Geometry.ChunkCount - 1}"));
                }

                if (!change.Digest.IsZero)
                {
                    chunkUsers.TryAdd(change.Digest, $"volume {volume.Id} index {change.Index}");
                }
            }
        }

        // A remote store answers many reads at once; the problems come out in a stable order whatever the timing.
        var chunkProblems = new System.Collections.Concurrent.ConcurrentBag<FsckProblem>();
        await Parallel.ForEachAsync(chunkUsers, new ParallelOptions { MaxDegreeOfParallelism = chunks.ReadConcurrency, CancellationToken = ct }, async (entry, token) =>
        {
            var (chunk, user) = entry;
            var (bytes, corrupt) = await ReadCheckedAsync(chunks, chunk, token);
            if (bytes is null && corrupt is null)
            {
                chunkProblems.Add(new FsckProblem("chunk-missing", chunk.ToString(), $"reached from {user}"));
            }
            else if (corrupt is not null)
            {
                chunkProblems.Add(new FsckProblem("chunk-corrupt", chunk.ToString(), $"{corrupt}; reached from {user}"));
            }
        });
        problems.AddRange(chunkProblems.OrderBy(p => p.Subject, StringComparer.Ordinal));

        return new FsckReport(snapshots.Count, volumes.Count, chunkUsers.Count, problems);
    }

    private async Task CheckSnapshotAsync(
        SnapshotRecord snapshot, Dictionary<Digest, string> chunkUsers, Dictionary<Digest, bool> checkedPages, List<FsckProblem> problems, CancellationToken ct)
    {
        var subject = snapshot.Id.ToString();
        var rootBytes = await metadata.GetSnapshotRootAsync(snapshot.Id, ct);
        if (rootBytes is null)
        {
            problems.Add(new FsckProblem("root-missing", subject, "the snapshot has no root"));
            return;
        }

        BlockMapRoot root;
        try
        {
            root = BlockMapRoot.Decode(rootBytes, snapshot.Id);
        }
        catch (InvalidDataException e)
        {
            problems.Add(new FsckProblem("root-corrupt", subject, e.Message));
            return;
        }

        if (root.Geometry != snapshot.Geometry)
        {
            problems.Add(new FsckProblem("geometry-mismatch", subject, $"row says {snapshot.Geometry.VolumeSize}/{snapshot.Geometry.ChunkSize}, root says {root.Geometry.VolumeSize}/{root.Geometry.ChunkSize}"));
        }

        for (var p = 0; p < root.Pages.Length; p++)
        {
            var page = root.Pages[p];
            if (page.IsZero)
            {
                continue;
            }

            if (!checkedPages.TryGetValue(page, out var good))
            {
                var (bytes, corrupt) = await ReadCheckedAsync(pages, page, ct);
                good = bytes is not null && bytes.Length == ChunkGeometry.PageBytes;
                checkedPages[page] = good;
                if (bytes is null && corrupt is null)
                {
                    problems.Add(new FsckProblem("page-missing", page.ToString(), $"page {p} of snapshot {subject}"));
                }
                else if (!good)
                {
                    problems.Add(new FsckProblem("page-corrupt", page.ToString(), $"page {p} of snapshot {subject}: {corrupt ?? $"{bytes!.Length} bytes, not a page"}"));
                }
                else
                {
                    var entries = BlockMapPage.Entries(bytes!);
                    for (var slot = 0; slot < entries.Length; slot++)
                    {
                        if (entries[slot].IsZero)
                        {
                            continue;
                        }

                        var index = ((long)p * ChunkGeometry.EntriesPerPage) + slot;
                        if (index >= root.Geometry.ChunkCount)
                        {
                            problems.Add(new FsckProblem("index-out-of-range", subject, $"page {p} names a chunk at index {index}, past the volume's end"));
                        }

                        chunkUsers.TryAdd(entries[slot], $"snapshot {subject} index {index}");
                    }
                }
            }
        }
    }

    /// <summary>The object's bytes if they hash to its name; otherwise what is wrong (a store that verifies on read throws instead).</summary>
    private static async Task<(byte[]? Bytes, string? Corrupt)> ReadCheckedAsync(IChunkStore store, Digest digest, CancellationToken ct)
    {
        try
        {
            var bytes = await store.ReadAllAsync(digest, ct);
            return bytes is null || digest.Matches(bytes) ? (bytes, null) : (null, $"{bytes.Length} bytes do not hash to the name");
        }
        catch (CorruptObjectException e)
        {
            return (null, e.Message);
        }
    }
}
