using System.Buffers.Binary;
using System.Data;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Slacker.Server.Storage.Sql;

/// <summary>
/// A PostgreSQL database that any number of servers share. Writes run SERIALIZABLE, so the invariants that the
/// embedded store gets from its single writer (a snapshot commits only on the volume version it was built from,
/// gc never deletes a snapshot that a concurrent clone names) hold across servers too; PostgreSQL aborts one of
/// two conflicting transactions and the loser is run again here.
/// </summary>
public sealed class PostgresDatabase : SqlDatabase
{
    private const int MaxAttempts = 30;
    private readonly NpgsqlDataSource _source;
    private readonly bool _readOnly;

    private PostgresDatabase(NpgsqlDataSource source, string location, bool readOnly)
    {
        _source = source;
        Location = location;
        _readOnly = readOnly;
    }

    public override SqlKind Kind => SqlKind.Postgres;

    public override string Location { get; }

    /// <param name="uri">postgres://user[:password]@host[:port]/database[?sslmode=require&amp;...]; the password may also
    /// come from PGPASSWORD or ~/.pgpass.</param>
    public static async Task<PostgresDatabase> OpenAsync(string uri, bool readOnly, CancellationToken ct)
    {
        var connection = PostgresUri.Parse(uri);
        var builder = new NpgsqlSlimDataSourceBuilder(connection.ConnectionString);
        builder.EnableArrays();
        var source = builder.Build();
        var database = new PostgresDatabase(source, connection.Location, readOnly);
        try
        {
            await using var probe = await source.OpenConnectionAsync(ct);
            return database;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await database.DisposeAsync();
            throw new IOException($"Cannot connect to PostgreSQL at {connection.Location}: {e.Message}. Check that it runs and that the user, password and database in --metadata are right.", e);
        }
    }

    public override Task<T> WriteAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct)
    {
        if (_readOnly)
        {
            throw new InvalidOperationException($"The database {Location} was opened read-only.");
        }

        return RunAsync(IsolationLevel.Serializable, readOnly: false, work, ct);
    }

    public override Task<T> ReadAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct) =>
        RunAsync(IsolationLevel.RepeatableRead, readOnly: true, work, ct);

    /// <summary>
    /// READ COMMITTED with row locks taken by the statements themselves: the object index holds a row lock across
    /// an object-store call, which must not be aborted by unrelated writers as a serializable transaction would be.
    /// Deadlocks are still retried.
    /// </summary>
    public Task<T> LockingAsync<T>(Func<SqlSession, Task<T>> work, CancellationToken ct) =>
        RunAsync(IsolationLevel.ReadCommitted, readOnly: false, work, ct);

    public override async Task<IAsyncDisposable> LockAsync(string name, CancellationToken ct)
    {
        var connection = await _source.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT pg_advisory_lock(@key)";
            command.Parameters.Add(new NpgsqlParameter("key", LockKey(name)));
            await command.ExecuteNonQueryAsync(ct);
            return new AdvisoryLock(connection, LockKey(name));
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public override ValueTask DisposeAsync() => _source.DisposeAsync();

    /// <summary>A stable 64-bit key per name, the same in every server process.</summary>
    internal static long LockKey(string name) => BinaryPrimitives.ReadInt64LittleEndian(SHA256.HashData(Encoding.UTF8.GetBytes("slacker:" + name)));

    private async Task<T> RunAsync<T>(IsolationLevel isolation, bool readOnly, Func<SqlSession, Task<T>> work, CancellationToken ct)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await using var connection = await _source.OpenConnectionAsync(ct);
                await using var transaction = await connection.BeginTransactionAsync(isolation, ct);
                if (readOnly)
                {
                    await using var command = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction);
                    await command.ExecuteNonQueryAsync(ct);
                }

                var result = await work(new SqlSession(connection, transaction, SqlKind.Postgres));
                await transaction.CommitAsync(ct);
                return result;
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected && attempt < MaxAttempts)
            {
                // The transaction was rolled back as a whole: run it again, after a jittered pause that grows.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 + Math.Min(attempt, 10) * 10)), ct);
            }
        }
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long key) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = connection.CreateCommand();
                command.CommandText = "SELECT pg_advisory_unlock(@key)";
                command.Parameters.Add(new NpgsqlParameter("key", key));
                await command.ExecuteNonQueryAsync();
            }
            finally
            {
                // Closing the session releases the lock too, even if the unlock above failed.
                await connection.DisposeAsync();
            }
        }
    }
}
