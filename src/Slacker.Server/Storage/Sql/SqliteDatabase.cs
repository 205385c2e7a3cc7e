using System.Collections.Concurrent;
using Microsoft.Data.Sqlite;

namespace Slacker.Server.Storage.Sql;

/// <summary>
/// One SQLite file in WAL mode: readers never block the writer, so fsck and gc's mark read a consistent view
/// while the server writes. synchronous=FULL makes every commit durable before it is acknowledged. Writes are
/// serialised in-process (SQLite allows one writer anyway), so they queue instead of spinning on SQLITE_BUSY;
/// that also makes <see cref="LockAsync"/> a plain in-process mutex: one process owns an embedded database.
/// </summary>
public sealed class SqliteDatabase : SqlDatabase
{
    private readonly string _connectionString;
    private readonly bool _readOnly;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);

    private SqliteDatabase(string path, bool readOnly)
    {
        Location = path;
        _readOnly = readOnly;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = readOnly ? SqliteOpenMode.ReadOnly : SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    public override SqlKind Kind => SqlKind.Sqlite;

    public override string Location { get; }

    /// <param name="readOnly">For fsck: open an existing file without changing it, even while a server writes it.</param>
    public static async Task<SqliteDatabase> OpenAsync(string path, bool readOnly, CancellationToken ct)
    {
        if (readOnly && !File.Exists(path))
        {
            throw new FileNotFoundException($"No database at {path}: check the --data directory.", path);
        }

        var database = new SqliteDatabase(path, readOnly);
        if (!readOnly)
        {
            await using var connection = await database.OpenConnectionAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA journal_mode=WAL;";
            await command.ExecuteNonQueryAsync(ct);
        }

        return database;
    }

    public override async Task<T> WriteAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct)
    {
        if (_readOnly)
        {
            throw new InvalidOperationException($"The database {Location} was opened read-only.");
        }

        await _writeLock.WaitAsync(ct);
        try
        {
            await using var connection = await OpenConnectionAsync(ct);
            await using var transaction = connection.BeginTransaction(deferred: false);
            var result = await work(new SqlSession(connection, transaction, SqlKind.Sqlite));
            await transaction.CommitAsync(ct);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    public override async Task<T> ReadAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct)
    {
        await using var connection = await OpenConnectionAsync(ct);
        await using var transaction = connection.BeginTransaction(deferred: true);
        var result = await work(new SqlSession(connection, transaction, SqlKind.Sqlite));
        await transaction.CommitAsync(ct);
        return result;
    }

    public override async Task<IAsyncDisposable> LockAsync(string name, CancellationToken ct)
    {
        var gate = _locks.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        return new Releaser(gate);
    }

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open; clearing this pool lets a test delete its temp dir.
        using (var connection = new SqliteConnection(_connectionString))
        {
            SqliteConnection.ClearPool(connection);
        }

        _writeLock.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken ct)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = _readOnly
            ? "PRAGMA busy_timeout=30000;"
            : "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA busy_timeout=30000;";
        await command.ExecuteNonQueryAsync(ct);
        return connection;
    }

    private sealed class Releaser(SemaphoreSlim gate) : IAsyncDisposable
    {
        public ValueTask DisposeAsync()
        {
            gate.Release();
            return ValueTask.CompletedTask;
        }
    }
}
