using Microsoft.Data.Sqlite;
using Slacker.Core.Model;
using Slacker.Core.Storage;

namespace Slacker.Server.Storage;

/// <summary>
/// Metadata in one SQLite database in WAL mode: readers never block the writer, so fsck and gc's mark can read
/// a consistent view while the server writes. synchronous=FULL makes every committed snapshot durable before
/// its id is returned. Writes are serialised in-process (SQLite allows one writer anyway) so they queue instead
/// of spinning on SQLITE_BUSY.
/// </summary>
public sealed class SqliteMetadataStore : IMetadataStore
{
    private const string Schema = """
        CREATE TABLE IF NOT EXISTS snapshots (
            id            TEXT PRIMARY KEY,
            volume_size   INTEGER NOT NULL,
            chunk_size    INTEGER NOT NULL,
            root          BLOB NOT NULL,
            source_volume TEXT,
            label         TEXT,
            released      INTEGER NOT NULL DEFAULT 0,
            created_at    INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS volumes (
            id            TEXT PRIMARY KEY,
            volume_size   INTEGER NOT NULL,
            chunk_size    INTEGER NOT NULL,
            base_snapshot TEXT REFERENCES snapshots(id),
            label         TEXT,
            version       INTEGER NOT NULL DEFAULT 0,
            created_at    INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS volumes_by_base ON volumes(base_snapshot);
        CREATE TABLE IF NOT EXISTS volume_changes (
            volume_id   TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
            chunk_index INTEGER NOT NULL,
            digest      BLOB,
            PRIMARY KEY (volume_id, chunk_index)
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS startup_profiles (
            snapshot_id TEXT PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,
            document    BLOB NOT NULL,
            updated_at  INTEGER NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS refs (
            target     TEXT NOT NULL,
            owner      TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            PRIMARY KEY (target, owner)
        ) WITHOUT ROWID;
        """;

    private const string VolumeColumns =
        "v.id, v.volume_size, v.chunk_size, v.base_snapshot, v.label, v.version, v.created_at, " +
        "(SELECT COUNT(*) FROM volume_changes c WHERE c.volume_id = v.id)";

    private const string SnapshotColumns = "id, volume_size, chunk_size, source_volume, label, released, created_at";

    private readonly string _connectionString;
    private readonly bool _readOnly;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public SqliteMetadataStore(string path, bool readOnly = false)
    {
        _readOnly = readOnly;
        if (readOnly && !File.Exists(path))
        {
            throw new FileNotFoundException($"No metadata database at {path}: check the --data directory.", path);
        }

        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        if (_readOnly)
        {
            return;
        }

        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, "PRAGMA journal_mode=WAL;", ct);
        await ExecuteAsync(connection, null, Schema, ct);
    }

    public Task<CreateVolumeOutcome> CreateVolumeAsync(VolumeRecord volume, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            if (volume.BaseSnapshot is { } baseId && await ScalarAsync(connection, tx, "SELECT 1 FROM snapshots WHERE id = $id", ct, ("$id", baseId.ToString())) is null)
            {
                return CreateVolumeOutcome.BaseSnapshotUnknown;
            }

            await ExecuteAsync(connection, tx,
                "INSERT INTO volumes (id, volume_size, chunk_size, base_snapshot, label, version, created_at) VALUES ($id, $size, $chunk, $base, $label, 0, $at)", ct,
                ("$id", volume.Id), ("$size", volume.Geometry.VolumeSize), ("$chunk", volume.Geometry.ChunkSize),
                ("$base", volume.BaseSnapshot?.ToString()), ("$label", volume.Label), ("$at", volume.CreatedAt.ToUnixTimeMilliseconds()));
            return CreateVolumeOutcome.Created;
        }, ct);

    public Task<VolumeRecord?> GetVolumeAsync(string id, CancellationToken ct = default) =>
        ReadAsync((connection, tx) => ReadVolumeAsync(connection, tx, id, ct), ct);

    public Task<IReadOnlyList<VolumeRecord>> ListVolumesAsync(CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var list = new List<VolumeRecord>();
            await using var command = Command(connection, tx, $"SELECT {VolumeColumns} FROM volumes v ORDER BY v.created_at, v.id");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                list.Add(ReadVolume(reader));
            }

            return (IReadOnlyList<VolumeRecord>)list;
        }, ct);

    public Task<VolumeState?> GetVolumeStateAsync(string id, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var volume = await ReadVolumeAsync(connection, tx, id, ct);
            if (volume is null)
            {
                return null;
            }

            var changes = new List<ChunkChange>((int)volume.ChangedChunks);
            await using var command = Command(connection, tx, "SELECT chunk_index, digest FROM volume_changes WHERE volume_id = $id ORDER BY chunk_index", ("$id", id));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                changes.Add(new ChunkChange(reader.GetInt64(0), reader.IsDBNull(1) ? Digest.Zero : new Digest((byte[])reader.GetValue(1))));
            }

            return new VolumeState(volume, changes);
        }, ct);

    public Task<VolumeRecord?> ApplyChangesAsync(string volumeId, IReadOnlyList<ChunkChange> changes, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            if (await ExecuteAsync(connection, tx, "UPDATE volumes SET version = version + 1 WHERE id = $id", ct, ("$id", volumeId)) == 0)
            {
                return null;
            }

            await using var upsert = Command(connection, tx,
                "INSERT INTO volume_changes (volume_id, chunk_index, digest) VALUES ($id, $index, $digest) " +
                "ON CONFLICT (volume_id, chunk_index) DO UPDATE SET digest = excluded.digest",
                ("$id", volumeId), ("$index", 0L), ("$digest", DBNull.Value));
            foreach (var change in changes)
            {
                upsert.Parameters["$index"].Value = change.Index;
                upsert.Parameters["$digest"].Value = change.Digest.IsZero ? DBNull.Value : change.Digest.AsSpan().ToArray();
                await upsert.ExecuteNonQueryAsync(ct);
            }

            return await ReadVolumeAsync(connection, tx, volumeId, ct);
        }, ct);

    public Task<bool> DeleteVolumeAsync(string id, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) => await ExecuteAsync(connection, tx, "DELETE FROM volumes WHERE id = $id", ct, ("$id", id)) > 0, ct);

    public Task<SnapshotCommitOutcome> CommitSnapshotAsync(SnapshotCommit commit, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            var version = await ScalarAsync(connection, tx, "SELECT version FROM volumes WHERE id = $id", ct, ("$id", commit.VolumeId));
            if (version is null)
            {
                return SnapshotCommitOutcome.VolumeUnknown;
            }

            if ((long)version != commit.VolumeVersion)
            {
                return SnapshotCommitOutcome.VolumeChanged;
            }

            var snapshot = commit.Snapshot;
            // Same content, same id: taking it again just un-releases it.
            await ExecuteAsync(connection, tx,
                $"INSERT INTO snapshots ({SnapshotColumns}, root) VALUES ($id, $size, $chunk, $source, $label, 0, $at, $root) " +
                "ON CONFLICT (id) DO UPDATE SET released = 0", ct,
                ("$id", snapshot.Id.ToString()), ("$size", snapshot.Geometry.VolumeSize), ("$chunk", snapshot.Geometry.ChunkSize),
                ("$source", snapshot.SourceVolume), ("$label", snapshot.Label), ("$at", snapshot.CreatedAt.ToUnixTimeMilliseconds()), ("$root", commit.Root));
            await ExecuteAsync(connection, tx, "UPDATE volumes SET base_snapshot = $snapshot, version = version + 1 WHERE id = $id", ct,
                ("$snapshot", snapshot.Id.ToString()), ("$id", commit.VolumeId));
            await ExecuteAsync(connection, tx, "DELETE FROM volume_changes WHERE volume_id = $id", ct, ("$id", commit.VolumeId));
            return SnapshotCommitOutcome.Committed;
        }, ct);

    public Task<SnapshotRecord?> GetSnapshotAsync(Digest id, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            await using var command = Command(connection, tx, $"SELECT {SnapshotColumns} FROM snapshots WHERE id = $id", ("$id", id.ToString()));
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadSnapshot(reader) : null;
        }, ct);

    public Task<byte[]?> GetSnapshotRootAsync(Digest id, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
            await ScalarAsync(connection, tx, "SELECT root FROM snapshots WHERE id = $id", ct, ("$id", id.ToString())) as byte[], ct);

    public Task<IReadOnlyList<SnapshotRecord>> ListSnapshotsAsync(CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var list = new List<SnapshotRecord>();
            await using var command = Command(connection, tx, $"SELECT {SnapshotColumns} FROM snapshots ORDER BY created_at, id");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                list.Add(ReadSnapshot(reader));
            }

            return (IReadOnlyList<SnapshotRecord>)list;
        }, ct);

    public Task<IReadOnlyList<string>> GetSnapshotUsersAsync(Digest id, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var users = new List<string>();
            await using var command = Command(connection, tx,
                "SELECT 'volume:' || id FROM volumes WHERE base_snapshot = $id " +
                "UNION ALL SELECT owner FROM refs WHERE target = $id", ("$id", id.ToString()));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                users.Add(reader.GetString(0));
            }

            return (IReadOnlyList<string>)users;
        }, ct);

    public Task<SnapshotRecord?> ReleaseSnapshotAsync(Digest id, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            await ExecuteAsync(connection, tx, "UPDATE snapshots SET released = 1 WHERE id = $id", ct, ("$id", id.ToString()));
            await using var command = Command(connection, tx, $"SELECT {SnapshotColumns} FROM snapshots WHERE id = $id", ("$id", id.ToString()));
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? ReadSnapshot(reader) : null;
        }, ct);

    public Task AddReferenceAsync(Digest target, string owner, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
            await ExecuteAsync(connection, tx, "INSERT INTO refs (target, owner, created_at) VALUES ($target, $owner, $at) ON CONFLICT DO NOTHING", ct,
                ("$target", target.ToString()), ("$owner", owner), ("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds())), ct);

    public Task<bool> RemoveReferenceAsync(Digest target, string owner, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
            await ExecuteAsync(connection, tx, "DELETE FROM refs WHERE target = $target AND owner = $owner", ct, ("$target", target.ToString()), ("$owner", owner)) > 0, ct);

    public Task<IReadOnlyList<string>> GetReferencesAsync(Digest target, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var owners = new List<string>();
            await using var command = Command(connection, tx, "SELECT owner FROM refs WHERE target = $target ORDER BY owner", ("$target", target.ToString()));
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                owners.Add(reader.GetString(0));
            }

            return (IReadOnlyList<string>)owners;
        }, ct);

    public Task<bool> PutStartupProfileAsync(Digest snapshot, byte[] document, CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            if (await ScalarAsync(connection, tx, "SELECT 1 FROM snapshots WHERE id = $id", ct, ("$id", snapshot.ToString())) is null)
            {
                return false;
            }

            await ExecuteAsync(connection, tx,
                "INSERT INTO startup_profiles (snapshot_id, document, updated_at) VALUES ($id, $doc, $at) " +
                "ON CONFLICT(snapshot_id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at", ct,
                ("$id", snapshot.ToString()), ("$doc", document), ("$at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            return true;
        }, ct);

    public Task<byte[]?> GetStartupProfileAsync(Digest snapshot, CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
            await ScalarAsync(connection, tx, "SELECT document FROM startup_profiles WHERE snapshot_id = $id", ct, ("$id", snapshot.ToString())) as byte[], ct);

    public Task<IReadOnlyList<Digest>> DeleteUnusedReleasedSnapshotsAsync(CancellationToken ct = default) =>
        WriteAsync(async (connection, tx) =>
        {
            var deleted = new List<Digest>();
            await using var command = Command(connection, tx,
                "DELETE FROM snapshots WHERE released = 1 " +
                "AND NOT EXISTS (SELECT 1 FROM volumes v WHERE v.base_snapshot = snapshots.id) " +
                "AND NOT EXISTS (SELECT 1 FROM refs r WHERE r.target = snapshots.id) RETURNING id");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                deleted.Add(Digest.Parse(reader.GetString(0)));
            }

            return (IReadOnlyList<Digest>)deleted;
        }, ct);

    public Task<LiveSet> ReadLiveSetAsync(CancellationToken ct = default) =>
        ReadAsync(async (connection, tx) =>
        {
            var snapshots = await ReadDigestsAsync(connection, tx, "SELECT id FROM snapshots", ct);
            var targets = await ReadDigestsAsync(connection, tx, "SELECT DISTINCT target FROM refs", ct);
            var chunks = new List<Digest>();
            await using var command = Command(connection, tx, "SELECT DISTINCT digest FROM volume_changes WHERE digest IS NOT NULL");
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                chunks.Add(new Digest((byte[])reader.GetValue(0)));
            }

            return new LiveSet(snapshots, chunks, targets);
        }, ct);

    public async ValueTask DisposeAsync()
    {
        _writeLock.Dispose();
        // Pooled connections keep the files open; clearing lets a test delete its temp dir.
        SqliteConnection.ClearAllPools();
        await Task.CompletedTask;
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await ExecuteAsync(connection, null, _readOnly ? "PRAGMA busy_timeout=30000;" : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;", ct);
        return connection;
    }

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken ct)
    {
        if (_readOnly)
        {
            throw new InvalidOperationException("This metadata store was opened read-only.");
        }

        await _writeLock.WaitAsync(ct);
        try
        {
            await using var connection = await OpenAsync(ct);
            await using var tx = connection.BeginTransaction(deferred: false);
            var result = await work(connection, tx);
            await tx.CommitAsync(ct);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> work, CancellationToken ct) =>
        await WriteAsync(async (c, t) =>
        {
            await work(c, t);
            return true;
        }, ct);

    /// <summary>Several statements in one deferred transaction: they all see the same snapshot of the database (WAL).</summary>
    private async Task<T> ReadAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var tx = connection.BeginTransaction(deferred: true);
        var result = await work(connection, tx);
        await tx.CommitAsync(ct);
        return result;
    }

    private static async Task<VolumeRecord?> ReadVolumeAsync(SqliteConnection connection, SqliteTransaction tx, string id, CancellationToken ct)
    {
        await using var command = Command(connection, tx, $"SELECT {VolumeColumns} FROM volumes v WHERE v.id = $id", ("$id", id));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? ReadVolume(reader) : null;
    }

    private static async Task<List<Digest>> ReadDigestsAsync(SqliteConnection connection, SqliteTransaction tx, string sql, CancellationToken ct)
    {
        var list = new List<Digest>();
        await using var command = Command(connection, tx, sql);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            if (Digest.TryParse(reader.GetString(0), out var digest))
            {
                list.Add(digest);
            }
        }

        return list;
    }

    private static VolumeRecord ReadVolume(SqliteDataReader reader) => new(
        reader.GetString(0),
        new ChunkGeometry(reader.GetInt64(1), reader.GetInt32(2)),
        reader.IsDBNull(3) ? null : Digest.Parse(reader.GetString(3)),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetInt64(5),
        reader.GetInt64(7),
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)));

    private static SnapshotRecord ReadSnapshot(SqliteDataReader reader) => new(
        Digest.Parse(reader.GetString(0)),
        new ChunkGeometry(reader.GetInt64(1), reader.GetInt32(2)),
        reader.IsDBNull(3) ? null : reader.GetString(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.GetInt64(5) != 0,
        DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(6)));

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = tx;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken ct, params (string Name, object? Value)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        var value = await command.ExecuteScalarAsync(ct);
        return value is DBNull ? null : value;
    }
}
