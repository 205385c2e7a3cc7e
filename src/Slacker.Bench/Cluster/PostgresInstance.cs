using System.Globalization;
using Slacker.Native.Processes;

namespace Slacker.Bench.Cluster;

/// <summary>
/// A throw-away PostgreSQL cluster (Debian's postgresql package) under one directory, run as the postgres user,
/// reachable by TCP on <see cref="Host"/>:<see cref="Port"/> with trust authentication for user slacker. Stopped
/// (immediate) and deleted on dispose; only this cluster's postmaster is ever signalled, through pg_ctl.
/// </summary>
public sealed class PostgresInstance : IAsyncDisposable
{
    public const string User = "slacker";
    public const string Database = "slacker";

    private readonly string _bin;

    private PostgresInstance(string directory, string bin, string host, int port)
    {
        Directory = directory;
        _bin = bin;
        Host = host;
        Port = port;
    }

    public string Directory { get; }

    public string Host { get; }

    public int Port { get; }

    /// <summary>The --metadata URI for slacker server.</summary>
    public string Uri => $"postgres://{User}@{(Host.Contains(':', StringComparison.Ordinal) ? $"[{Host}]" : Host)}:{Port}/{Database}";

    /// <summary>The newest installed server's bin directory, or null when postgresql is not installed.</summary>
    public static string? FindBinaries() =>
        System.IO.Directory.Exists("/usr/lib/postgresql")
            ? System.IO.Directory.EnumerateDirectories("/usr/lib/postgresql")
                .Select(d => Path.Join(d, "bin"))
                .Where(d => File.Exists(Path.Join(d, "postgres")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 0)
                .FirstOrDefault()
            : null;

    /// <param name="directory">Created and given to user postgres; every directory above it must be searchable by that user.</param>
    /// <param name="listen">Addresses to listen on (comma-separated), e.g. "127.0.0.1" or "127.0.0.1,10.77.0.1".</param>
    public static async Task<PostgresInstance> StartAsync(string directory, int port, string listen = "127.0.0.1", CancellationToken ct = default)
    {
        var bin = FindBinaries() ?? throw new InvalidOperationException("PostgreSQL is not installed: apt-get install postgresql (the cluster tests and `slacker bench --scale` need it).");
        System.IO.Directory.CreateDirectory(directory);
        var data = Path.Join(directory, "data");
        await RunAsync("chown", ["postgres", directory], ct);
        var instance = new PostgresInstance(directory, bin, listen.Split(',')[0], port);
        try
        {
            await AsPostgresAsync(Path.Join(bin, "initdb"), ["-D", data, "-U", User, "--auth=trust", "-E", "UTF8", "--no-sync"], ct);
            // The cluster is scratch: fsync off keeps the tests about Slacker's protocol, not the disk.
            await AsPostgresAsync(Path.Join(bin, "pg_ctl"),
                ["-D", data, "-l", Path.Join(directory, "postgres.log"), "-w", "-t", "60", "start",
                 "-o", $"-p {port} -k {directory} -c listen_addresses={listen} -c fsync=off -c max_connections=300 -c shared_buffers=64MB"], ct);
            await AsPostgresAsync(Path.Join(bin, "createdb"), ["-h", instance.Host, "-p", port.ToString(CultureInfo.InvariantCulture), "-U", User, Database], ct);
            return instance;
        }
        catch
        {
            await instance.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs SQL through psql and returns its unaligned output (for tests that inspect the tables).</summary>
    public async Task<string> QueryAsync(string sql, CancellationToken ct = default) =>
        (await AsPostgresAsync(Path.Join(_bin, "psql"),
            ["-h", Host, "-p", Port.ToString(CultureInfo.InvariantCulture), "-U", User, "-d", Database, "-At", "-v", "ON_ERROR_STOP=1", "-c", sql], ct)).StandardOutput;

    public async ValueTask DisposeAsync()
    {
        var data = Path.Join(Directory, "data");
        if (File.Exists(Path.Join(data, "postmaster.pid")))
        {
            await ProcessRunner.RunAsync("runuser", ["-u", "postgres", "--", Path.Join(_bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"],
                new ProcessOptions { Timeout = TimeSpan.FromSeconds(60) });
        }

        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }

    private static async Task<ProcessResult> AsPostgresAsync(string program, string[] arguments, CancellationToken ct) =>
        await RunAsync("runuser", ["-u", "postgres", "--", program, .. arguments], ct);

    private static async Task<ProcessResult> RunAsync(string program, string[] arguments, CancellationToken ct) =>
        (await ProcessRunner.RunAsync(program, arguments, new ProcessOptions { Timeout = TimeSpan.FromMinutes(2) }, ct)).EnsureSuccess($"PostgreSQL setup ({Path.GetFileName(program)} {string.Join(' ', arguments.Take(3))})");
}
