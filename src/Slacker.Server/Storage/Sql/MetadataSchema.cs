namespace Slacker.Server.Storage.Sql;

/// <summary>
/// The metadata tables, one migration list per engine. Never edit a released step: add one. SQLite's first step
/// is the schema that data directories had before migrations were recorded (CREATE ... IF NOT EXISTS), so an
/// existing directory simply records it.
/// </summary>
public static class MetadataSchema
{
    public const string Component = "metadata";

    public static IReadOnlyList<string> For(SqlKind kind) => kind == SqlKind.Postgres ? Postgres : Sqlite;

    private static readonly string[] Sqlite =
    [
        """
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
        """,
    ];

    private static readonly string[] Postgres =
    [
        """
        CREATE TABLE snapshots (
            id            TEXT PRIMARY KEY,
            volume_size   BIGINT NOT NULL,
            chunk_size    INTEGER NOT NULL,
            root          BYTEA NOT NULL,
            source_volume TEXT,
            label         TEXT,
            released      INTEGER NOT NULL DEFAULT 0,
            created_at    BIGINT NOT NULL
        );
        CREATE TABLE volumes (
            id            TEXT PRIMARY KEY,
            volume_size   BIGINT NOT NULL,
            chunk_size    INTEGER NOT NULL,
            base_snapshot TEXT REFERENCES snapshots(id),
            label         TEXT,
            version       BIGINT NOT NULL DEFAULT 0,
            created_at    BIGINT NOT NULL
        );
        CREATE INDEX volumes_by_base ON volumes(base_snapshot);
        CREATE TABLE volume_changes (
            volume_id   TEXT NOT NULL REFERENCES volumes(id) ON DELETE CASCADE,
            chunk_index BIGINT NOT NULL,
            digest      BYTEA,
            PRIMARY KEY (volume_id, chunk_index)
        );
        CREATE TABLE startup_profiles (
            snapshot_id TEXT PRIMARY KEY REFERENCES snapshots(id) ON DELETE CASCADE,
            document    BYTEA NOT NULL,
            updated_at  BIGINT NOT NULL
        );
        CREATE TABLE refs (
            target     TEXT NOT NULL,
            owner      TEXT NOT NULL,
            created_at BIGINT NOT NULL,
            PRIMARY KEY (target, owner)
        );
        """,
        // The object index of the S3 chunk store (S3ChunkStore): which objects exist and when they were last
        // wanted. stored = 0 while an upload may still be in flight.
        """
        CREATE TABLE objects (
            store      TEXT NOT NULL,
            digest     BYTEA NOT NULL,
            length     BIGINT NOT NULL,
            stored     INTEGER NOT NULL,
            touched_at BIGINT NOT NULL,
            PRIMARY KEY (store, digest)
        );
        """,
    ];
}
