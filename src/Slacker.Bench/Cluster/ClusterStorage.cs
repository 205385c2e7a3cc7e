using System.Text.Json;
using Slacker.Bench.Processes;
using Slacker.Core.Storage;

namespace Slacker.Bench.Cluster;

/// <summary>
/// The shared storage tier of a cluster on this machine: a throw-away PostgreSQL for metadata and a Ceph RGW
/// bucket for chunks, both on 127.0.0.1, and the --config file that points a `slacker server` (or fsck) at
/// them. Any number of servers started with that file form one cluster. Everything lives under one directory,
/// except PostgreSQL's data: it runs as user postgres, which must be able to reach it, so it gets a directory of
/// its own under the system temp dir rather than one below a private (0700) dir of the caller. All is stopped by
/// PID and deleted on dispose.
/// </summary>
public sealed class ClusterStorage : IAsyncDisposable
{
    public const string Bucket = "slacker";

    private ClusterStorage(string directory, PostgresInstance postgres, CephS3Instance ceph)
    {
        Directory = directory;
        Postgres = postgres;
        Ceph = ceph;
        ConfigPath = Path.Join(directory, "cluster.json");
    }

    public string Directory { get; }

    public PostgresInstance Postgres { get; }

    public CephS3Instance Ceph { get; }

    /// <summary>The file to pass as `slacker server --config` and `slacker fsck --config`: metadata, chunks, S3 keys.</summary>
    public string ConfigPath { get; }

    /// <summary>What the config file says, for reports: the two locations without the keys.</summary>
    public string Description => $"metadata {Postgres.Uri}, chunks {Ceph.Location(Bucket)}";

    /// <param name="directory">Created if missing.</param>
    public static async Task<ClusterStorage> StartAsync(string directory, CancellationToken ct = default)
    {
        System.IO.Directory.CreateDirectory(directory);
        var postgresTask = PostgresInstance.StartAsync(System.IO.Directory.CreateTempSubdirectory("slacker-postgres-").FullName, FreePort.Pick(), ct: ct);
        CephS3Instance ceph;
        try
        {
            ceph = await CephS3Instance.StartAsync(Path.Join(directory, "ceph"), FreePort.Pick(), FreePort.Pick(), ct);
        }
        catch
        {
            // Both start at once (Ceph takes seconds): the one that did start is not left running.
            await StopQuietlyAsync(postgresTask);
            throw;
        }

        PostgresInstance postgres;
        try
        {
            postgres = await postgresTask;
        }
        catch
        {
            await ceph.DisposeAsync();
            throw;
        }

        var storage = new ClusterStorage(directory, postgres, ceph);
        await File.WriteAllTextAsync(storage.ConfigPath, JsonSerializer.Serialize(
            new StoreConfig { Metadata = postgres.Uri, Chunks = ceph.Location(Bucket), S3AccessKey = ceph.AccessKey, S3SecretKey = ceph.SecretKey },
            StoreConfigJson.Default.StoreConfig), ct);
        File.SetUnixFileMode(storage.ConfigPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return storage;
    }

    private static async Task StopQuietlyAsync(Task<PostgresInstance> starting)
    {
        try
        {
            await (await starting).DisposeAsync();
        }
        catch (Exception ex) when (ex is InvalidOperationException or Native.Processes.ProcessFailedException)
        {
            // It failed to start as well; the first failure is the one to report.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Ceph.DisposeAsync();
        await Postgres.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
