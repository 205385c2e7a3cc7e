using Slacker.Server.Storage.S3;
using Slacker.Server.Storage.Sql;

namespace Slacker.Server.Storage;

/// <summary>
/// Which backends a server (or fsck) uses. Both null is the embedded default in the data directory; a cluster
/// sets <see cref="Metadata"/> to a postgres:// URI and <see cref="Chunks"/> to an s3:// location, and every
/// server of the cluster is given the same two.
/// </summary>
public sealed record StoreLocations(string DataDirectory)
{
    /// <summary>postgres://user@host:port/db, or null for SQLite in the data directory.</summary>
    public string? Metadata { get; init; }

    /// <summary>s3://bucket?endpoint=..., or null for chunks/ and pages/ in the data directory.</summary>
    public string? Chunks { get; init; }

    /// <summary>Keys for <see cref="Chunks"/>; null takes them from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.</summary>
    public S3Credentials? S3Credentials { get; init; }

    /// <summary>Memory for verified objects read from S3 (each server's share of what all its nodes read).</summary>
    public long ReadCacheBytes { get; init; } = 512L << 20;

    /// <summary>Checks the combination before anything is opened, so a typo fails with a sentence, not a stack.</summary>
    public void Validate()
    {
        if (Metadata is { } metadata && !PostgresUri.IsPostgres(metadata))
        {
            throw new ArgumentException($"--metadata '{PostgresUri.Redact(metadata)}' is not a PostgreSQL URI: write postgres://USER@HOST:PORT/DATABASE, or leave it out for SQLite in the data directory.");
        }

        if (Chunks is { } chunks)
        {
            S3Location.Parse(chunks);
            if (Metadata is null)
            {
                throw new ArgumentException("--chunks s3://... needs --metadata postgres://...: the object index that makes S3 safe to share lives in PostgreSQL.");
            }
        }
    }

    public string Describe() =>
        $"metadata {(Metadata is null ? "sqlite " + Path.Join(DataDirectory, "metadata.db") : PostgresUri.Parse(Metadata).Location)}, " +
        $"chunks {(Chunks is null ? "files in " + DataDirectory : S3Location.Parse(Chunks).ToString())}";
}
