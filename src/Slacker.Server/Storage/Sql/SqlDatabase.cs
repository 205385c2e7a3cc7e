namespace Slacker.Server.Storage.Sql;

public enum SqlKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// One relational database behind the server's metadata and registry: the embedded SQLite file or a PostgreSQL
/// that several servers share. Every unit of work is one transaction handed a <see cref="SqlSession"/>; the
/// engine-specific parts (how writers are serialised, which conflicts are retried, how a cluster-wide lock is
/// taken) live in the two subclasses, so the stores above them are written once.
/// </summary>
public abstract class SqlDatabase : IAsyncDisposable
{
    public abstract SqlKind Kind { get; }

    /// <summary>Where the data is, for logs and errors (never a password).</summary>
    public abstract string Location { get; }

    /// <summary>True when other server processes may use the same database at the same time.</summary>
    public bool IsShared => Kind == SqlKind.Postgres;

    /// <summary>
    /// A read-write transaction that behaves as if it ran alone (SQLite: one writer at a time; PostgreSQL:
    /// SERIALIZABLE, retried on a serialization failure or deadlock, so <paramref name="work"/> must touch nothing
    /// but the database).
    /// </summary>
    public abstract Task<T> WriteAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct);

    /// <summary>A read-only transaction: every statement in it sees the same snapshot of the database.</summary>
    public abstract Task<T> ReadAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct);

    /// <summary>
    /// A mutex named <paramref name="name"/> across every process using this database (PostgreSQL: a session
    /// advisory lock, released by the server when the holder's connection dies, so a killed holder never blocks
    /// the cluster). Waits until it is free.
    /// </summary>
    public abstract Task<IAsyncDisposable> LockAsync(string name, CancellationToken ct);

    public async Task WriteAsync(Func<SqlSession, Task> work, CancellationToken ct) =>
        await WriteAsync(async session =>
        {
            await work(session);
            return true;
        }, ct);

    public abstract ValueTask DisposeAsync();
}
