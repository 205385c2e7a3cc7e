using System.Globalization;
using Slacker.Server.Storage.Sql;

namespace Slacker.Server.Registry;

/// <summary>A stored manifest: its exact bytes and what the referrers API and GET need without re-parsing.</summary>
public sealed record ManifestRow(string Repository, string Digest, string MediaType, byte[] Bytes, string? Subject);

/// <summary>
/// The registry's own metadata: which blobs each repository links, its manifests and tags, and open upload
/// sessions. Blob bytes live in the server's chunk store, and what keeps them (and Slacker snapshots) from gc
/// are named references in the server's metadata store.
/// </summary>
public sealed class RegistryStore(SqlDatabase database)
{
    public Task InitializeAsync(CancellationToken ct = default) =>
        SchemaMigrator.MigrateAsync(database, RegistrySchema.Component, RegistrySchema.For(database.Kind), ct);

    public Task LinkBlobAsync(string repo, string digest, CancellationToken ct) =>
        database.WriteAsync(s => s.ExecuteAsync("INSERT INTO repo_blobs (repo, digest) VALUES (@r, @d) ON CONFLICT DO NOTHING", ct, ("@r", repo), ("@d", digest)), ct);

    public async Task<bool> UnlinkBlobAsync(string repo, string digest, CancellationToken ct) =>
        await database.WriteAsync(s => s.ExecuteAsync("DELETE FROM repo_blobs WHERE repo = @r AND digest = @d", ct, ("@r", repo), ("@d", digest)), ct) > 0;

    public async Task<bool> IsBlobLinkedAsync(string repo, string digest, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM repo_blobs WHERE repo = @r AND digest = @d", ct, ("@r", repo), ("@d", digest)) is not null;

    public async Task<bool> IsBlobLinkedAnywhereAsync(string digest, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM repo_blobs WHERE digest = @d LIMIT 1", ct, ("@d", digest)) is not null;

    /// <summary>Stores the manifest, links it in the repository and points the tag at it, in one transaction.</summary>
    public Task PutManifestAsync(ManifestRow row, string? tag, CancellationToken ct) =>
        database.WriteAsync(async s =>
        {
            await s.ExecuteAsync("""
                INSERT INTO manifests (repo, digest, media_type, bytes, subject, created) VALUES (@r, @d, @m, @b, @s, @c)
                ON CONFLICT (repo, digest) DO UPDATE SET media_type = excluded.media_type
                """, ct, ("@r", row.Repository), ("@d", row.Digest), ("@m", row.MediaType), ("@b", row.Bytes), ("@s", row.Subject),
                ("@c", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)));
            if (tag is not null)
            {
                await s.ExecuteAsync("INSERT INTO tags (repo, tag, digest) VALUES (@r, @t, @d) ON CONFLICT (repo, tag) DO UPDATE SET digest = excluded.digest",
                    ct, ("@r", row.Repository), ("@t", tag), ("@d", row.Digest));
            }
        }, ct);

    public Task<ManifestRow?> GetManifestAsync(string repo, string digest, CancellationToken ct) =>
        database.ReadAsync(s => s.FirstAsync(
            "SELECT media_type, bytes, subject FROM manifests WHERE repo = @r AND digest = @d",
            r => new ManifestRow(repo, digest, r.GetString(0), SqlSession.Bytes(r, 1), SqlSession.NullableString(r, 2)), ct, ("@r", repo), ("@d", digest)), ct);

    public async Task<string?> ResolveTagAsync(string repo, string tag, CancellationToken ct) =>
        await ScalarAsync("SELECT digest FROM tags WHERE repo = @r AND tag = @t", ct, ("@r", repo), ("@t", tag)) as string;

    public async Task<bool> RepositoryExistsAsync(string repo, CancellationToken ct) =>
        await ScalarAsync("SELECT 1 FROM manifests WHERE repo = @r UNION SELECT 1 FROM repo_blobs WHERE repo = @r LIMIT 1", ct, ("@r", repo)) is not null;

    /// <summary>Up to <paramref name="limit"/> tags after <paramref name="last"/>, in lexical order.</summary>
    public Task<List<string>> ListTagsAsync(string repo, string? last, int limit, CancellationToken ct) =>
        ListStringsAsync("SELECT tag FROM tags WHERE repo = @r AND tag > @l ORDER BY tag LIMIT @n", ct, ("@r", repo), ("@l", last ?? ""), ("@n", limit));

    public Task<List<string>> ListRepositoriesAsync(string? last, int limit, CancellationToken ct) =>
        ListStringsAsync(
            "SELECT repo FROM (SELECT repo FROM manifests UNION SELECT repo FROM repo_blobs) AS known WHERE repo > @l ORDER BY repo LIMIT @n",
            ct, ("@l", last ?? ""), ("@n", limit));

    public Task<List<string>> TagsOfAsync(string repo, string digest, CancellationToken ct) =>
        ListStringsAsync("SELECT tag FROM tags WHERE repo = @r AND digest = @d ORDER BY tag", ct, ("@r", repo), ("@d", digest));

    public Task<List<ManifestRow>> ListReferrersAsync(string repo, string subject, CancellationToken ct) =>
        database.ReadAsync(s => s.ListAsync(
            "SELECT digest, media_type, bytes FROM manifests WHERE repo = @r AND subject = @s ORDER BY digest",
            r => new ManifestRow(repo, r.GetString(0), r.GetString(1), SqlSession.Bytes(r, 2), subject), ct, ("@r", repo), ("@s", subject)), ct);

    /// <summary>Deletes the manifest and every tag that points at it.</summary>
    public Task<bool> DeleteManifestAsync(string repo, string digest, CancellationToken ct) =>
        database.WriteAsync(async s =>
        {
            await s.ExecuteAsync("DELETE FROM tags WHERE repo = @r AND digest = @d", ct, ("@r", repo), ("@d", digest));
            return await s.ExecuteAsync("DELETE FROM manifests WHERE repo = @r AND digest = @d", ct, ("@r", repo), ("@d", digest)) > 0;
        }, ct);

    public async Task<bool> DeleteTagAsync(string repo, string tag, CancellationToken ct) =>
        await database.WriteAsync(s => s.ExecuteAsync("DELETE FROM tags WHERE repo = @r AND tag = @t", ct, ("@r", repo), ("@t", tag)), ct) > 0;

    public Task AddUploadAsync(string id, string repo, CancellationToken ct) =>
        database.WriteAsync(s => s.ExecuteAsync("INSERT INTO uploads (id, repo, created) VALUES (@i, @r, @c)", ct,
            ("@i", id), ("@r", repo), ("@c", DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture))), ct);

    public async Task<string?> GetUploadRepositoryAsync(string id, CancellationToken ct) =>
        await ScalarAsync("SELECT repo FROM uploads WHERE id = @i", ct, ("@i", id)) as string;

    public async Task<bool> RemoveUploadAsync(string id, CancellationToken ct) =>
        await database.WriteAsync(s => s.ExecuteAsync("DELETE FROM uploads WHERE id = @i", ct, ("@i", id)), ct) > 0;

    private Task<List<string>> ListStringsAsync(string sql, CancellationToken ct, params (string, object?)[] parameters) =>
        database.ReadAsync(s => s.ListAsync(sql, r => r.GetString(0), ct, parameters), ct);

    private Task<object?> ScalarAsync(string sql, CancellationToken ct, params (string, object?)[] parameters) =>
        database.ReadAsync(s => s.ScalarAsync(sql, ct, parameters), ct);
}
