namespace Slacker.Server.Storage.Sql;

/// <summary>
/// Brings one component's tables (metadata, registry) to the newest schema at start. Steps are numbered from 1,
/// applied in one transaction and recorded in <c>schema_migrations</c>; a lock across the cluster makes servers
/// that start together apply each step once. A database that a newer slacker has migrated further is refused
/// rather than misread.
/// </summary>
public static class SchemaMigrator
{
    public static async Task MigrateAsync(SqlDatabase database, string component, IReadOnlyList<string> steps, CancellationToken ct)
    {
        // The lock is taken before the transaction starts, so that its snapshot already sees what a server that
        // migrated first committed.
        await using var _ = await database.LockAsync("migrate", ct);
        await database.WriteAsync(async session =>
        {
            await session.ExecuteAsync(
                "CREATE TABLE IF NOT EXISTS schema_migrations (component TEXT NOT NULL, version INTEGER NOT NULL, applied_at BIGINT NOT NULL, PRIMARY KEY (component, version))", ct);
            var current = await session.ScalarAsync("SELECT MAX(version) FROM schema_migrations WHERE component = @c", ct, ("@c", component)) is { } value
                ? Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture)
                : 0;
            if (current > steps.Count)
            {
                throw new InvalidOperationException(
                    $"The {component} schema in {database.Location} is at version {current}, newer than this slacker knows ({steps.Count}): run a slacker at least as new as the one that migrated it.");
            }

            for (var version = current + 1; version <= steps.Count; version++)
            {
                await session.ExecuteAsync(steps[version - 1], ct);
                await session.ExecuteAsync("INSERT INTO schema_migrations (component, version, applied_at) VALUES (@c, @v, @at)", ct,
                    ("@c", component), ("@v", version), ("@at", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            }
        }, ct);
    }
}
