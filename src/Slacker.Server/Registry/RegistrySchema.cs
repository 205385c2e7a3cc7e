using Slacker.Server.Storage.Sql;

namespace Slacker.Server.Registry;

/// <summary>
/// The registry's tables. On SQLite they live in their own <c>registry.db</c>, on PostgreSQL next to the
/// metadata in the one shared database. Never edit a released step: add one.
/// </summary>
public static class RegistrySchema
{
    public const string Component = "registry";

    public static IReadOnlyList<string> For(SqlKind kind) => kind == SqlKind.Postgres ? Postgres : Sqlite;

    private static readonly string[] Sqlite =
    [
        """
        CREATE TABLE IF NOT EXISTS repo_blobs (repo TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, digest));
        CREATE INDEX IF NOT EXISTS repo_blobs_digest ON repo_blobs (digest);
        CREATE TABLE IF NOT EXISTS manifests (repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, bytes BLOB NOT NULL,
            subject TEXT, created TEXT NOT NULL, PRIMARY KEY (repo, digest));
        CREATE INDEX IF NOT EXISTS manifests_subject ON manifests (repo, subject);
        CREATE TABLE IF NOT EXISTS tags (repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, tag));
        CREATE TABLE IF NOT EXISTS uploads (id TEXT PRIMARY KEY, repo TEXT NOT NULL, created TEXT NOT NULL);
        """,
    ];

    private static readonly string[] Postgres =
    [
        """
        CREATE TABLE repo_blobs (repo TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, digest));
        CREATE INDEX repo_blobs_digest ON repo_blobs (digest);
        CREATE TABLE manifests (repo TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL, bytes BYTEA NOT NULL,
            subject TEXT, created TEXT NOT NULL, PRIMARY KEY (repo, digest));
        CREATE INDEX manifests_subject ON manifests (repo, subject);
        CREATE TABLE tags (repo TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL, PRIMARY KEY (repo, tag));
        CREATE TABLE uploads (id TEXT PRIMARY KEY, repo TEXT NOT NULL, created TEXT NOT NULL);
        """,
    ];
}
