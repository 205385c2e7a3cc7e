using System.Data.Common;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Server.Storage.Sql;

/// <summary>
/// Volumes, change lists, snapshots, startup profiles and named references in SQL, the same statements on
/// SQLite (embedded default) and PostgreSQL (shared by a cluster). Each method is one transaction of
/// <see cref="SqlDatabase"/>, which gives it the isolation of a single writer on both engines.
/// </summary>
public sealed class SqlMetadataStore(SqlDatabase database) : IMetadataStore
{
    private const string VolumeColumns =
        "v.id, v.volume_size, v.chunk_size, v.base_snapshot, v.label, v.version, v.created_at, " +
        "(SELECT COUNT(*) FROM volume_changes c WHERE c.volume_id = v.id)";

    private const string SnapshotColumns = "id, volume_size, chunk_size, source_volume, label, released, created_at";

    public SqlDatabase Database => database;

    public Task InitializeAsync(CancellationToken ct = default) =>
        SchemaMigrator.MigrateAsync(database, MetadataSchema.Component, MetadataSchema.For(database.Kind), ct);

    public Task<CreateVolumeOutcome> CreateVolumeAsync(VolumeRecord volume, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
        {
            if (volume.BaseSnapshot is { } baseId && await session.ScalarAsync("SELECT 1 FROM snapshots WHERE id = @id", ct, ("@id", baseId.ToString())) is null)
            {
                return CreateVolumeOutcome.BaseSnapshotUnknown;
            }

            var inserted = await session.ExecuteAsync(
                "INSERT INTO volumes (id, volume_size, chunk_size, base_snapshot, label, version, created_at) VALUES (@id, @size, @chunk, @base, @label, 0, @at) " +
                "ON CONFLICT (id) DO NOTHING", ct,
                ("@id", volume.Id), ("@size", volume.Geometry.VolumeSize), ("@chunk", volume.Geometry.ChunkSize),
                ("@base", volume.BaseSnapshot?.ToString()), ("@label", volume.Label), ("@at", volume.CreatedAt.ToUnixTimeMilliseconds()));
            return inserted > 0 ? CreateVolumeOutcome.Created : CreateVolumeOutcome.AlreadyExists;
        }, ct);

    public Task<VolumeRecord?> GetVolumeAsync(string id, CancellationToken ct = default) =>
        database.ReadAsync(session => ReadVolumeAsync(session, id, ct), ct);

    public Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken ct = default) =>
        database.ReadAsync<IReadOnlyList<VolumeRecord>>(async session =>
            await session.ListAsync($"SELECT {VolumeColumns} FROM volumes v ORDER BY v.created_at, v.id", ReadVolume, ct), ct);

    public Task<VolumeState?> GetVolumeStateAsync(string id, CancellationToken ct = default) =>
        database.ReadAsync(async session =>
        {
            var volume = await ReadVolumeAsync(session, id, ct);
            if (volume is null)
            {
                return null;
            }

            var changes = await session.ListAsync(
                "SELECT chunk_index, digest FROM volume_changes WHERE volume_id = @id ORDER BY chunk_index",
                r => new ChunkChange(SqlSession.Int64(r, 0), r.IsDBNull(1) ? Digest.Zero : new Digest(SqlSession.Bytes(r, 1))), ct, ("@id", id));
            return new VolumeState(volume, changes);
        }, ct);

    public Task<VolumeRecord?> ApplyChangesAsync(string volumeId, IReadOnlyList<ChunkChange> changes, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
        {
            // Bumping the version first also takes the volume's row lock: concurrent updates of one volume queue.
            if (await session.ExecuteAsync("UPDATE volumes SET version = version + 1 WHERE id = @id", ct, ("@id", volumeId)) == 0)
            {
                return null;
            }

            await UpsertChangesAsync(session, volumeId, changes, ct);
            return await ReadVolumeAsync(session, volumeId, ct);
        }, ct);

    public Task<bool> DeleteVolumeAsync(string id, CancellationToken ct = default) =>
        database.WriteAsync(async session => await session.ExecuteAsync("DELETE FROM volumes WHERE id = @id", ct, ("@id", id)) > 0, ct);

    public Task<SnapshotCommitOutcome> CommitSnapshotAsync(SnapshotCommit commit, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
        {
            var version = await session.ScalarAsync("SELECT version FROM volumes WHERE id = @id", ct, ("@id", commit.VolumeId));
            if (version is null)
            {
                return SnapshotCommitOutcome.VolumeUnknown;
            }

            if (Convert.ToInt64(version, System.Globalization.CultureInfo.InvariantCulture) != commit.VolumeVersion)
            {
                return SnapshotCommitOutcome.VolumeChanged;
            }

            var snapshot = commit.Snapshot;
            // Same content, same id: taking it again just un-releases it.
            await session.ExecuteAsync(
                $"INSERT INTO snapshots ({SnapshotColumns}, root) VALUES (@id, @size, @chunk, @source, @label, 0, @at, @root) " +
                "ON CONFLICT (id) DO UPDATE SET released = 0", ct,
                ("@id", snapshot.Id.ToString()), ("@size", snapshot.Geometry.VolumeSize), ("@chunk", snapshot.Geometry.ChunkSize),
                ("@source", snapshot.SourceVolume), ("@label", snapshot.Label), ("@at", snapshot.CreatedAt.ToUnixTimeMilliseconds()), ("@root", commit.Root));
            await session.ExecuteAsync("UPDATE volumes SET base_snapshot = @snapshot, version = version + 1 WHERE id = @id", ct,
                ("@snapshot", snapshot.Id.ToString()), ("@id", commit.VolumeId));
            await session.ExecuteAsync("DELETE FROM volume_changes WHERE volume_id = @id", ct, ("@id", commit.VolumeId));
            return SnapshotCommitOutcome.Committed;
        }, ct);

    public Task<SnapshotRecord?> GetSnapshotAsync(Digest id, CancellationToken ct = default) =>
        database.ReadAsync(session => session.FirstAsync($"SELECT {SnapshotColumns} FROM snapshots WHERE id = @id", ReadSnapshot, ct, ("@id", id.ToString())), ct);

    public Task<byte[]?> GetSnapshotRootAsync(Digest id, CancellationToken ct = default) =>
        database.ReadAsync(async session => await session.ScalarAsync("SELECT root FROM snapshots WHERE id = @id", ct, ("@id", id.ToString())) as byte[], ct);

    public Task<IReadOnlyList<SnapshotRecord>> ListSnapshotsAsync(CancellationToken ct = default) =>
        database.ReadAsync<IReadOnlyList<SnapshotRecord>>(async session =>
            await session.ListAsync($"SELECT {SnapshotColumns} FROM snapshots ORDER BY created_at, id", ReadSnapshot, ct), ct);

    public Task<IReadOnlyList<string>> GetSnapshotUsersAsync(Digest id, CancellationToken ct = default) =>
        database.ReadAsync<IReadOnlyList<string>>(async session => await session.ListAsync(
            "SELECT 'volume:' || id FROM volumes WHERE base_snapshot = @id UNION ALL SELECT owner FROM refs WHERE target = @id",
            r => r.GetString(0), ct, ("@id", id.ToString())), ct);

    public Task<SnapshotRecord?> ReleaseSnapshotAsync(Digest id, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
        {
            await session.ExecuteAsync("UPDATE snapshots SET released = 1 WHERE id = @id", ct, ("@id", id.ToString()));
            return await session.FirstAsync($"SELECT {SnapshotColumns} FROM snapshots WHERE id = @id", ReadSnapshot, ct, ("@id", id.ToString()));
        }, ct);

    public Task AddReferenceAsync(Digest target, string owner, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
            await session.ExecuteAsync("INSERT INTO refs (target, owner, created_at) VALUES (@target, @owner, @at) ON CONFLICT DO NOTHING", ct,
                ("@target", target.ToString()), ("@owner", owner), ("@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())), ct);

    public Task<bool> RemoveReferenceAsync(Digest target, string owner, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
            await session.ExecuteAsync("DELETE FROM refs WHERE target = @target AND owner = @owner", ct, ("@target", target.ToString()), ("@owner", owner)) > 0, ct);

    public Task<IReadOnlyList<string>> GetReferencesAsync(Digest target, CancellationToken ct = default) =>
        database.ReadAsync<IReadOnlyList<string>>(async session =>
            await session.ListAsync("SELECT owner FROM refs WHERE target = @target ORDER BY owner", r => r.GetString(0), ct, ("@target", target.ToString())), ct);

    public Task<bool> PutStartupProfileAsync(Digest snapshot, byte[] document, CancellationToken ct = default) =>
        database.WriteAsync(async session =>
        {
            if (await session.ScalarAsync("SELECT 1 FROM snapshots WHERE id = @id", ct, ("@id", snapshot.ToString())) is null)
            {
                return false;
            }

            await session.ExecuteAsync(
                "INSERT INTO startup_profiles (snapshot_id, document, updated_at) VALUES (@id, @doc, @at) " +
                "ON CONFLICT (snapshot_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at", ct,
                ("@id", snapshot.ToString()), ("@doc", document), ("@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            return true;
        }, ct);

    public Task<byte[]?> GetStartupProfileAsync(Digest snapshot, CancellationToken ct = default) =>
        database.ReadAsync(async session =>
            await session.ScalarAsync("SELECT document FROM startup_profiles WHERE snapshot_id = @id", ct, ("@id", snapshot.ToString())) as byte[], ct);

    public Task<IReadOnlyList<Digest>> DeleteUnusedReleasedSnapshotsAsync(CancellationToken ct = default) =>
        database.WriteAsync<IReadOnlyList<Digest>>(async session => await session.ListAsync(
            "DELETE FROM snapshots WHERE released = 1 " +
            "AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.base_snapshot = snapshots.id) " +
            "AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.target = snapshots.id) RETURNING id",
            r => Digest.Parse(r.GetString(0)), ct), ct);

    public Task<LiveSet> ReadLiveSetAsync(CancellationToken ct = default) =>
        database.ReadAsync(async session =>
        {
            var snapshots = await ReadDigestsAsync(session, "SELECT id FROM snapshots", ct);
            var targets = await ReadDigestsAsync(session, "SELECT DISTINCT target FROM refs", ct);
            var chunks = await session.ListAsync(
                "SELECT DISTINCT digest FROM volume_changes WHERE digest IS NOT NULL", r => new Digest(SqlSession.Bytes(r, 0)), ct);
            return new LiveSet(snapshots, chunks, targets);
        }, ct);

    public Task<IAsyncDisposable> LockForGcAsync(CancellationToken ct = default) => database.LockAsync("gc", ct);

    public ValueTask DisposeAsync() => database.DisposeAsync();

    private static async Task UpsertChangesAsync(SqlSession session, string volumeId, IReadOnlyList<ChunkChange> changes, CancellationToken ct)
    {
        const string Upsert = " ON CONFLICT (volume_id, chunk_index) DO UPDATE SET digest = excluded.digest";
        if (session.Kind == SqlKind.Postgres)
        {
            // One statement for the whole list: a round trip per entry would make a push of thousands of chunks
            // wait on the network thousands of times.
            var indexes = new long[changes.Count];
            var digests = new byte[]?[changes.Count];
            for (var i = 0; i < changes.Count; i++)
            {
                indexes[i] = changes[i].Index;
                digests[i] = changes[i].Digest.IsZero ? null : changes[i].Digest.AsSpan().ToArray();
            }

            await session.ExecuteAsync(
                "INSERT INTO volume_changes (volume_id, chunk_index, digest) SELECT @id, i, d FROM unnest(@indexes, @digests) AS t(i, d)" + Upsert,
                ct, ("@id", volumeId), ("@indexes", indexes), ("@digests", digests));
            return;
        }

        await using var upsert = session.Command(
            "INSERT INTO volume_changes (volume_id, chunk_index, digest) VALUES (@id, @index, @digest)" + Upsert,
            ("@id", volumeId), ("@index", 0L), ("@digest", DBNull.Value));
        foreach (var change in changes)
        {
            upsert.Parameters["@index"].Value = change.Index;
            upsert.Parameters["@digest"].Value = change.Digest.IsZero ? DBNull.Value : change.Digest.AsSpan().ToArray();
            await upsert.ExecuteNonQueryAsync(ct);
        }
    }

    private static Task<VolumeRecord?> ReadVolumeAsync(SqlSession session, string id, CancellationToken ct) =>
        session.FirstAsync($"SELECT {VolumeColumns} FROM volumes v WHERE v.id = @id", ReadVolume, ct, ("@id", id));

    private static async Task<List<Digest>> ReadDigestsAsync(SqlSession session, string sql, CancellationToken ct)
    {
        var texts = await session.ListAsync(sql, r => r.GetString(0), ct);
        var list = new List<Digest>(texts.Count);
        foreach (var text in texts)
        {
            if (Digest.TryParse(text, out var digest))
            {
                list.Add(digest);
            }
        }

        return list;
    }

    private static VolumeRecord ReadVolume(DbDataReader reader) => new(
        reader.GetString(0),
        new ChunkGeometry(SqlSession.Int64(reader, 1), (int)SqlSession.Int64(reader, 2)),
        reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)),
        SqlSession.NullableString(reader, 4),
        SqlSession.Int64(reader, 5),
        SqlSession.Int64(reader, 7),
        DateTimeOffset.FromUnixTimeMilliseconds(SqlSession.Int64(reader, 6)));

    private static SnapshotRecord ReadSnapshot(DbDataReader reader) => new(
        Digest.Parse(reader.GetString(0)),
        new ChunkGeometry(SqlSession.Int64(reader, 1), (int)SqlSession.Int64(reader, 2)),
        SqlSession.NullableString(reader, 3),
        SqlSession.NullableString(reader, 4),
        SqlSession.Int64(reader, 5) != 0,
        DateTimeOffset.FromUnixTimeMilliseconds(SqlSession.Int64(reader, 6)));
}
