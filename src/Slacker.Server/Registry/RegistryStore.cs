using Microsoft.Data.Sqlite;

namespace Slacker.Server.Registry;

/// <summary>A stored manifest: its exact bytes and what the referrers API and GET need without re-parsing.</summary>
public sealed record ManifestRow(string Repository, string Digest, string MediaType, byte[] Bytes, string? Subject);

/// <summary>
/// The registry's own metadata in <c>registry.db</c> next to the server's metadata: which blobs each repository
/// links, its manifests and tags, and open upload sessions. Blob bytes live in the server's chunk store, and
/// what keeps them (and Slacker snapshots) from gc are named references in the server's metadata store.
/// </summary>
public sealed class RegistryStore : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    public RegistryStore(string path)
    {
        _connectionString = new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadWriteCreate, Pooling = true }.ToString();
    }

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await ExecuteAsync(connection, null, """
            PRAGMA journal_mode=WAL;
            CREATE TABLE IF NOT EXISTS repo_blobs (repo TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, digest));
            CREATE INDEX IF NOT EXISTS repo_blobs_digest ON repo_blobs (digest);
            CREATE TABLE IF NOT EXISTS manifests (repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, bytes BLOB NOT NULL,
                subject TEXT, created TEXT NOT NULL, PRIMARY KEY (repo, digest));
            CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo, subject);
            CREATE TABLE IF NOT EXISTS tags (repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, tag));
            CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, repo TEXT NOT NULL, created TEXT NOT NULL);
            """, ct);
    }

    public Task LinkBlobAsync(string repo, string digest, CancellationToken ct) =>
        WriteAsync((c, t) => ExecuteAsync(c, t, "INSERT OR IGNORE INTO repo_blobs (repo, digest) VALUES ($r, $d)", ct, ("$r", repo), ("$d", digest)), ct);

    public async Task<bool> UnlinkBlobAsync(string repo, string digest, CancellationToken ct) =>
        await WriteAsync(async (c, t) => await ExecuteAsync(c, t, "DELETE FROM repo_blobs WHERE repo = $r AND digest = $d", ct, ("$r", repo), ("$d", digest)) > 0, ct);

    public async Task<bool> IsBlobLinkedAsync(string repo, string digest, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM repo_blobs WHERE repo = $r AND digest = $d", ct, ("$r", repo), ("$d", digest)) is not null;

    public async Task<bool> IsBlobLinkedAnywhereAsync(string digest, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM repo_blobs WHERE digest = $d LIMIT 1", ct, ("$d", digest)) is not null;

    /// <summary>Stores the manifest, links it in the repository and points the tag at it, in one transaction.</summary>
    public Task PutManifestAsync(ManifestRow row, string? tag, CancellationToken ct) =>
        WriteAsync(async (c, t) =>
        {
            await ExecuteAsync(c, t, """
                INSERT INTO manifests (repo, digest, media_type, bytes, subject, created) VALUES ($r, $d, $m, $b, $s, $c)
                ON CONFLICT (repo, digest) DO UPDATE SET media_type = excluded.media_type
                """, ct, ("$r", row.Repository), ("$d", row.Digest), ("$m", row.MediaType), ("$b", row.Bytes), ("$s", row.Subject), ("$c", DateTimeOffset.UtcNow.ToString("O")));
            if (tag is not null)
            {
                await ExecuteAsync(c, t, "INSERT INTO tags (repo, tag, digest) VALUES ($r, $t, $d) ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest",
                    ct, ("$r", row.Repository), ("$t", tag), ("$d", row.Digest));
            }
        }, ct);

    public async Task<ManifestRow?> GetManifestAsync(string repo, string digest, CancellationToken ct)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT media_type, bytes, subject FROM manifests WHERE repo = $r AND digest = $d", ("$r", repo), ("$d", digest));
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct)
            ? new ManifestRow(repo, digest, reader.GetString(0), (byte[])reader[1], reader.IsDBNull(2) ? null : reader.GetString(2))
            : null;
    }

    public async Task<string?> ResolveTagAsync(string repo, string tag, CancellationToken ct) =>
        await ScalarAsync("SELECT digest FROM tags WHERE repo = $r AND tag = $t", ct, ("$r", repo), ("$t", tag)) as string;

    public async Task<bool> RepositoryExistsAsync(string repo, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM manifests WHERE repo = $r UNION SELECT 1 FROM repo_blobs WHERE repo = $r LIMIT 1", ct, ("$r", repo)) is not null;

    /// <summary>Up to <paramref name="limit"/> tags after <paramref name="last"/>, in lexical order.</summary>
    public Task<List<string>> ListTagsAsync(string repo, string? last, int limit, CancellationToken ct) =>
        ListStringsAsync("SELECT tag FROM tags WHERE repo = $r AND tag > $l ORDER BY tag LIMIT $n", ct, ("$r", repo), ("$l", last ?? ""), ("$n", limit));

    public Task<List<string>> ListRepositoriesAsync(string? last, int limit, CancellationToken ct) =>
        ListStringsAsync("SELECT repo FROM (SELECT repo FROM manifests UNION SELECT repo FROM repo_blobs) WHERE repo > $l ORDER BY repo LIMIT $n", ct, ("$l", last ?? ""), ("$n", limit));

    public Task<List<string>> TagsOfAsync(string repo, string digest, CancellationToken ct) =>
        ListStringsAsync("SELECT tag FROM tags WHERE repo = $r AND digest = $d ORDER BY tag", ct, ("$r", repo), ("$d", digest));

    public async Task<List<ManifestRow>> ListReferrersAsync(string repo, string subject, CancellationToken ct)
    {
        var rows = new List<ManifestRow>();
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, "SELECT digest, media_type, bytes FROM manifests WHERE repo = $r AND subject = $s ORDER BY digest", ("$r", repo), ("$s", subject));
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            rows.Add(new ManifestRow(repo, reader.GetString(0), reader.GetString(1), (byte[])reader[2], subject));
        }

        return rows;
    }

    /// <summary>Deletes the manifest and every tag that points at it.</summary>
    public async Task<bool> DeleteManifestAsync(string repo, string digest, CancellationToken ct) =>
        await WriteAsync(async (c, t) =>
        {
            await ExecuteAsync(c, t, "DELETE FROM tags WHERE repo = $r AND digest = $d", ct, ("$r", repo), ("$d", digest));
            return await ExecuteAsync(c, t, "DELETE FROM manifests WHERE repo = $r AND digest = $d", ct, ("$r", repo), ("$d", digest)) > 0;
        }, ct);

    public async Task<bool> DeleteTagAsync(string repo, string tag, CancellationToken ct) =>
        await WriteAsync(async (c, t) => await ExecuteAsync(c, t, "DELETE FROM tags WHERE repo = $r AND tag = $t", ct, ("$r", repo), ("$t", tag)) > 0, ct);

    public Task AddUploadAsync(string id, string repo, CancellationToken ct) =>
        WriteAsync((c, t) => ExecuteAsync(c, t, "INSERT INTO uploads (id, repo, created) VALUES ($i, $r, $c)", ct, ("$i", id), ("$r", repo), ("$c", DateTimeOffset.UtcNow.ToString("O"))), ct);

    public async Task<string?> GetUploadRepositoryAsync(string id, CancellationToken ct) =>
        await ScalarAsync("SELECT repo FROM uploads WHERE id = $i", ct, ("$i", id)) as string;

    public async Task<bool> RemoveUploadAsync(string id, CancellationToken ct) =>
        await WriteAsync(async (c, t) => await ExecuteAsync(c, t, "DELETE FROM uploads WHERE id = $i", ct, ("$i", id)) > 0, ct);

    private async Task<List<string>> ListStringsAsync(string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        var list = new List<string>();
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, sql, parameters);
        await using var reader = await command.ExecuteReaderAsync(ct);
        while (await reader.ReadAsync(ct))
        {
            list.Add(reader.GetString(0));
        }

        return list;
    }

    private async Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = Command(connection, null, sql, parameters);
        return await command.ExecuteScalarAsync(ct);
    }

    private async Task<SqliteConnection> OpenAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await ExecuteAsync(connection, null, "PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000;", ct);
        return connection;
    }

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken ct)
    {
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

    private Task<bool> WriteAsync(Func<SqliteConnection, SqliteTransaction, Task> work, CancellationToken ct) =>
        WriteAsync(async (c, t) =>
        {
            await work(c, t);
            return true;
        }, ct);

    private static async Task<int> ExecuteAsync(SqliteConnection connection, SqliteTransaction? tx, string sql, CancellationToken ct, params (string, object?)[] parameters)
    {
        await using var command = Command(connection, tx, sql, parameters);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }

        return command;
    }

    public ValueTask DisposeAsync()
    {
        _writeLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
