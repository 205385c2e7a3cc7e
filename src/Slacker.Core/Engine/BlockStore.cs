using System.Security.Cryptography;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Core.Engine;

/// <summary>
/// The block-store engine: chunks, volumes, snapshots and clones over <see cref="IMetadataStore"/> and two
/// <see cref="IChunkStore"/>s (chunks and block-map pages). It sees only the interfaces, so SQLite + local
/// files and PostgreSQL + S3 run the same logic. Failures are <see cref="BlockStoreException"/>s carrying the
/// API's error codes, and every failing call leaves the stores as they were.
/// </summary>
public sealed class BlockStore(IMetadataStore metadata, IChunkStore chunks, IChunkStore pages, TimeProvider? time = null)
{
    public const int MaxMissingQuery = BlockStoreClient.MaxMissingQuery;
    public const int MaxMapEntries = 1_000_000;

    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly StripedLock _volumeLocks = new();

    public IMetadataStore Metadata => metadata;

    public IChunkStore Chunks => chunks;

    public IChunkStore Pages => pages;

    /// <summary>Stores a chunk from memory. True if newly stored.</summary>
    public async ValueTask<bool> PutChunkAsync(Digest digest, ReadOnlyMemory<byte> data, CancellationToken ct = default)
    {
        if (data.Length > ChunkGeometry.MaxChunkSize)
        {
            throw BlockStoreErrors.BodyTooLarge(ChunkGeometry.MaxChunkSize);
        }

        if (ZeroChunks.IsZeroChunk(digest))
        {
            return digest.Matches(data.Span) ? false : throw BlockStoreErrors.DigestMismatch(digest, data.Length);
        }

        try
        {
            return await chunks.PutAsync(digest, data, ct);
        }
        catch (DigestMismatchException)
        {
            throw BlockStoreErrors.DigestMismatch(digest, data.Length);
        }
    }

    /// <summary>Stores a chunk streamed from a request body, verifying it on the way. True if newly stored.</summary>
    public async Task<bool> PutChunkAsync(Digest digest, Stream body, CancellationToken ct = default)
    {
        if (ZeroChunks.IsZeroChunk(digest))
        {
            // Never stored, but still checked: a client must not believe a wrong upload succeeded.
            var actual = await Digest.ComputeAsync(body, ct);
            return actual == digest ? false : throw BlockStoreErrors.DigestMismatch(digest, ZeroChunks.SizeOf(digest));
        }

        try
        {
            return (await chunks.PutStreamAsync(body, digest, ChunkGeometry.MaxChunkSize, ct)).Created;
        }
        catch (ObjectTooLargeException)
        {
            throw BlockStoreErrors.BodyTooLarge(ChunkGeometry.MaxChunkSize);
        }
        catch (DigestMismatchException e)
        {
            throw BlockStoreErrors.DigestMismatch(digest, e.Length);
        }
    }

    /// <summary>The digests the store lacks. Present ones are touched, so gc keeps them through its grace period.</summary>
    public async Task<IReadOnlyList<Digest>> FindMissingAsync(IReadOnlyList<Digest> digests, CancellationToken ct = default)
    {
        if (digests.Count > MaxMissingQuery)
        {
            throw BlockStoreErrors.TooMany("digests", digests.Count, MaxMissingQuery);
        }

        var stored = digests.Where(d => !d.IsZero && !ZeroChunks.IsZeroChunk(d)).Distinct().ToArray();
        var present = await chunks.TouchAsync(stored, ct);
        return [.. stored.Where(d => !present.Contains(d))];
    }

    /// <param name="id">The client's id for the volume (<see cref="NewVolumeId"/>), so that a retried create is a no-op; null: the server picks one.</param>
    public async Task<VolumeRecord> CreateVolumeAsync(long size, int chunkSize, string? label, string? id = null, CancellationToken ct = default)
    {
        if (ChunkGeometry.Validate(size, chunkSize) is { } problem)
        {
            throw BlockStoreErrors.ChunkSizeInvalid(problem);
        }

        var volume = new VolumeRecord(CheckVolumeId(id) ?? NewVolumeId(), new ChunkGeometry(size, chunkSize), null, label, 0, 0, _time.GetUtcNow());
        return await InsertAsync(volume, ct);
    }

    /// <summary>A new volume whose base is the snapshot: one metadata row, whatever the snapshot's size.</summary>
    public async Task<VolumeRecord> CloneAsync(Digest snapshotId, string? label, string? id = null, CancellationToken ct = default)
    {
        var snapshot = await metadata.GetSnapshotAsync(snapshotId, ct) ?? throw BlockStoreErrors.SnapshotUnknown(snapshotId);
        var volume = new VolumeRecord(CheckVolumeId(id) ?? NewVolumeId(), snapshot.Geometry, snapshotId, label, 0, 0, _time.GetUtcNow());
        return await InsertAsync(volume, ct);
    }

    /// <summary>A fresh volume id: "vol-" and 20 random hex digits. Clients make them too, for retryable creates.</summary>
    public static string NewVolumeId() => "vol-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(10));

    private async Task<VolumeRecord> InsertAsync(VolumeRecord volume, CancellationToken ct)
    {
        switch (await metadata.CreateVolumeAsync(volume, ct))
        {
            case CreateVolumeOutcome.Created:
                return volume;
            case CreateVolumeOutcome.BaseSnapshotUnknown:
                throw BlockStoreErrors.SnapshotUnknown(volume.BaseSnapshot!.Value);
            default:
                // The same create again (the first answer was lost): the volume it made is the answer.
                var existing = await metadata.GetVolumeAsync(volume.Id, ct);
                return existing is not null && existing.Geometry == volume.Geometry && existing.BaseSnapshot == volume.BaseSnapshot
                    ? existing
                    : throw new BlockStoreException(409, ErrorCodes.Conflict, $"volume id '{volume.Id}' is taken by another volume: let the server pick the id, or make a new random one.");
        }
    }

    private static string? CheckVolumeId(string? id) =>
        id is null || (id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_' or '.') && char.IsAsciiLetterOrDigit(id[0]))
            ? id
            : throw BlockStoreErrors.SizeInvalid($"volume id '{(id.Length > 80 ? id[..80] + "…" : id)}' is not valid: use 1-64 lowercase letters, digits, '-', '_' or '.', starting with a letter or digit.");

    public async Task<VolumeRecord> GetVolumeAsync(string id, CancellationToken ct = default) =>
        await metadata.GetVolumeAsync(id, ct) ?? throw BlockStoreErrors.VolumeUnknown(id);

    public Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken ct = default) => metadata.ListVolumesAsync(ct);

    public async Task<VolumeState> GetVolumeStateAsync(string id, CancellationToken ct = default) =>
        await metadata.GetVolumeStateAsync(id, ct) ?? throw BlockStoreErrors.VolumeUnknown(id);

    public async Task DeleteVolumeAsync(string id, CancellationToken ct = default)
    {
        using var _ = await _volumeLocks.AcquireAsync(id, ct);
        if (!await metadata.DeleteVolumeAsync(id, ct))
        {
            throw BlockStoreErrors.VolumeUnknown(id);
        }
    }

    /// <summary>
    /// Sets block-map entries of a volume, all or nothing. Every named chunk is touched first and must exist, so
    /// a gc running meanwhile either sees the new entries or sees the chunks as freshly wanted.
    /// </summary>
    public async Task<VolumeRecord> UpdateMapAsync(string volumeId, IReadOnlyList<ChunkChange> entries, CancellationToken ct = default)
    {
        if (entries.Count > MaxMapEntries)
        {
            throw BlockStoreErrors.TooMany("map entries", entries.Count, MaxMapEntries);
        }

        using var _ = await _volumeLocks.AcquireAsync(volumeId, ct);
        var volume = await GetVolumeAsync(volumeId, ct);
        var changes = Normalize(entries, volume);

        var named = changes.Select(c => c.Digest).Where(d => !d.IsZero).Distinct().ToArray();
        var present = await chunks.TouchAsync(named, ct);
        if (present.Count < named.Length)
        {
            throw BlockStoreErrors.ChunksNotUploaded([.. named.Where(d => !present.Contains(d))]);
        }

        return await metadata.ApplyChangesAsync(volumeId, changes, ct) ?? throw BlockStoreErrors.VolumeUnknown(volumeId);
    }

    /// <summary>
    /// Snapshots the volume: reads only the base pages that hold a change, writes the rewritten pages, then in
    /// one metadata transaction records the snapshot, makes it the volume's base and clears the change list.
    /// The id is returned only after that commit, so an id a client has seen is always complete.
    /// </summary>
    public async Task<SnapshotRecord> SnapshotAsync(string volumeId, string? label, CancellationToken ct = default)
    {
        using var _ = await _volumeLocks.AcquireAsync(volumeId, ct);
        for (var attempt = 0; ; attempt++)
        {
            var state = await GetVolumeStateAsync(volumeId, ct);
            var volume = state.Volume;
            var baseRoot = volume.BaseSnapshot is { } baseId
                ? await LoadRootAsync(baseId, ct)
                : BlockMapRoot.Empty(volume.Geometry);

            var changes = state.Changes as ChunkChange[] ?? [.. state.Changes];
            var basePages = await ReadPagesAsync(SnapshotBuilder.PagesToRead(baseRoot, changes), ct);
            var build = SnapshotBuilder.Build(baseRoot, d => basePages[d], changes);

            await Parallel.ForEachAsync(build.NewPages, new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct },
                async (page, token) => await pages.PutAsync(page.Digest, page.Bytes, token));

            var record = new SnapshotRecord(build.Id, volume.Geometry, volumeId, label, false, _time.GetUtcNow());
            switch (await metadata.CommitSnapshotAsync(new SnapshotCommit(record, build.RootBytes, volumeId, volume.Version), ct))
            {
                case SnapshotCommitOutcome.Committed:
                    return await metadata.GetSnapshotAsync(build.Id, ct) ?? record;
                case SnapshotCommitOutcome.VolumeUnknown:
                    throw BlockStoreErrors.VolumeUnknown(volumeId);
                case SnapshotCommitOutcome.VolumeChanged when attempt < 10:
                    // Another server changed the map between our read and commit: rebuild from the new state.
                    continue;
                default:
                    throw new BlockStoreException(409, ErrorCodes.Conflict, $"volume {volumeId} kept changing while it was being snapshotted: pause writers and retry.");
            }
        }
    }

    public async Task<SnapshotRecord> GetSnapshotAsync(Digest id, CancellationToken ct = default) =>
        await metadata.GetSnapshotAsync(id, ct) ?? throw BlockStoreErrors.SnapshotUnknown(id);

    public Task<IReadOnlyList<SnapshotRecord>> ListSnapshotsAsync(CancellationToken ct = default) => metadata.ListSnapshotsAsync(ct);

    public Task<IReadOnlyList<string>> GetSnapshotUsersAsync(Digest id, CancellationToken ct = default) => metadata.GetSnapshotUsersAsync(id, ct);

    public async Task<byte[]> GetRootBytesAsync(Digest id, CancellationToken ct = default) =>
        await metadata.GetSnapshotRootAsync(id, ct) ?? throw BlockStoreErrors.SnapshotUnknown(id);

    /// <summary>
    /// Records which chunks a container of the snapshot read first. Each index must be a chunk of the snapshot
    /// and appear once; the document replaces an earlier one (the newest run is the best guess of the next).
    /// </summary>
    public async Task PutStartupProfileAsync(Digest snapshotId, StartupProfile profile, CancellationToken ct = default)
    {
        var snapshot = await metadata.GetSnapshotAsync(snapshotId, ct) ?? throw BlockStoreErrors.SnapshotUnknown(snapshotId);
        var chunks = profile.Chunks ?? throw BlockStoreErrors.JsonInvalid("the 'chunks' array is missing");
        if (chunks.Count > MaxMapEntries)
        {
            throw BlockStoreErrors.TooMany("profile chunks", chunks.Count, MaxMapEntries);
        }

        var seen = new HashSet<long>(chunks.Count);
        foreach (var index in chunks)
        {
            if (index < 0 || index >= snapshot.Geometry.ChunkCount)
            {
                throw BlockStoreErrors.IndexOutOfRange(index, snapshot.Geometry.ChunkCount, snapshotId.ToString());
            }

            if (!seen.Add(index))
            {
                throw BlockStoreErrors.JsonInvalid($"chunk {index} is listed twice; a profile names each chunk once");
            }
        }

        var document = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(profile, CoreJsonContext.Default.StartupProfile);
        if (!await metadata.PutStartupProfileAsync(snapshotId, document, ct))
        {
            throw BlockStoreErrors.SnapshotUnknown(snapshotId);
        }
    }

    public async Task<StartupProfile> GetStartupProfileAsync(Digest snapshotId, CancellationToken ct = default)
    {
        var document = await metadata.GetStartupProfileAsync(snapshotId, ct) ?? throw BlockStoreErrors.ProfileUnknown(snapshotId);
        return System.Text.Json.JsonSerializer.Deserialize(document, CoreJsonContext.Default.StartupProfile)
            ?? throw BlockStoreErrors.Internal($"the startup profile of snapshot {snapshotId} is empty");
    }

    /// <summary>Releases the snapshot: the next gc deletes it once no volume base and no named reference keeps it.</summary>
    public async Task<SnapshotRecord> ReleaseSnapshotAsync(Digest id, CancellationToken ct = default) =>
        await metadata.ReleaseSnapshotAsync(id, ct) ?? throw BlockStoreErrors.SnapshotUnknown(id);

    public async Task<byte[]> GetPageAsync(Digest digest, CancellationToken ct = default) =>
        digest.IsZero
            ? new byte[ChunkGeometry.PageBytes]
            : await pages.ReadAllAsync(digest, ct) ?? throw BlockStoreErrors.PageUnknown(digest);

    private async Task<BlockMapRoot> LoadRootAsync(Digest id, CancellationToken ct)
    {
        var bytes = await metadata.GetSnapshotRootAsync(id, ct) ?? throw BlockStoreErrors.Internal($"base snapshot {id} has no root");
        try
        {
            return BlockMapRoot.Decode(bytes, id);
        }
        catch (InvalidDataException e)
        {
            throw BlockStoreErrors.Internal($"root of snapshot {id} is damaged ({e.Message})");
        }
    }

    private async Task<Dictionary<Digest, ReadOnlyMemory<byte>>> ReadPagesAsync(IReadOnlyList<Digest> wanted, CancellationToken ct)
    {
        var read = new System.Collections.Concurrent.ConcurrentDictionary<Digest, ReadOnlyMemory<byte>>();
        await Parallel.ForEachAsync(wanted.Distinct(), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = ct }, async (digest, token) =>
        {
            var bytes = await pages.ReadAllAsync(digest, token) ?? throw BlockStoreErrors.Internal($"block-map page {digest} is missing");
            read[digest] = bytes;
        });
        return new Dictionary<Digest, ReadOnlyMemory<byte>>(read);
    }

    private static ChunkChange[] Normalize(IReadOnlyList<ChunkChange> entries, VolumeRecord volume)
    {
        var chunkCount = volume.Geometry.ChunkCount;
        var byIndex = new SortedDictionary<long, Digest>();
        foreach (var entry in entries)
        {
            if (entry.Index < 0 || entry.Index >= chunkCount)
            {
                throw BlockStoreErrors.IndexOutOfRange(entry.Index, chunkCount, volume.Id);
            }

            // Later entries for the same index win, as if applied in order.
            byIndex[entry.Index] = ZeroChunks.IsZeroChunk(entry.Digest) ? Digest.Zero : entry.Digest;
        }

        return [.. byIndex.Select(e => new ChunkChange(e.Key, e.Value))];
    }
}
