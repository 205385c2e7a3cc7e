using System.Globalization;
using Slacker.Bench.Cluster;
using Slacker.Bench.Processes;
using Slacker.Core.Model;
using Slacker.Server.Storage;
using Slacker.Server.Storage.S3;

namespace Slacker.Core.Tests.Engine;

/// <summary>A throw-away PostgreSQL and Ceph S3 for the engine's model tests over the cluster's backends.</summary>
public sealed class ClusterBackend : IAsyncLifetime
{
    private int _databases;

    public string Root { get; } = Directory.CreateTempSubdirectory("slk-backend-").FullName;

    public PostgresInstance? Postgres { get; private set; }

    public CephS3Instance? Ceph { get; private set; }

    public async Task InitializeAsync()
    {
        // PostgreSQL runs as user postgres, which must reach its directory below this one.
        File.SetUnixFileMode(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.OtherExecute);
        Postgres = await PostgresInstance.StartAsync(Path.Join(Root, "pg"), FreePort.Pick());
        Ceph = await CephS3Instance.StartAsync(Path.Join(Root, "ceph"), FreePort.Pick(), FreePort.Pick());
    }

    /// <summary>Stores of their own: a new database and a new bucket, so that histories do not meet.</summary>
    public async Task<StoreLocations> FreshAsync()
    {
        var name = "h" + Interlocked.Increment(ref _databases).ToString(CultureInfo.InvariantCulture);
        await Postgres!.QueryAsync($"CREATE DATABASE {name}");
        return new StoreLocations(Path.Join(Root, name))
        {
            Metadata = Postgres.Uri[..Postgres.Uri.LastIndexOf('/')] + "/" + name,
            Chunks = Ceph!.Location("bucket-" + name),
            S3Credentials = new S3Credentials(Ceph.AccessKey, Ceph.SecretKey),
        };
    }

    public async Task DisposeAsync()
    {
        if (Ceph is not null)
        {
            await Ceph.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        Directory.Delete(Root, recursive: true);
    }
}

/// <summary>
/// The engine against its model over PostgreSQL metadata and S3 objects (with their PostgreSQL index): the same
/// histories as over SQLite and files, gc included, must read back exactly as taken and leave fsck clean.
/// </summary>
public sealed class ClusterBackendTests(ClusterBackend backend) : IClassFixture<ClusterBackend>
{
    [Fact]
    public async Task A_long_history_over_postgres_and_s3_reads_back_as_taken()
    {
        await using var harness = await EngineHarness.OpenAsync(await backend.FreshAsync());
        await harness.InitializeAsync();
        var random = new Random(20261205);
        for (var i = 0; i < 150; i++)
        {
            await harness.ApplyAsync((random.Next(8), random.Next(1000), random.Next(1000), random.Next(1000)));
        }

        await harness.VerifyAsync(snapshotVolumes: true);
        Assert.Equal(150, harness.Operations);
    }

    [Fact]
    public async Task An_S3_object_without_an_index_row_is_listed_and_swept_and_a_withdrawn_one_is_not_served()
    {
        var locations = await backend.FreshAsync();
        await using var stores = await ServerStores.OpenAsync(locations);
        var kept = Digest.Compute("kept"u8);
        Assert.True(await stores.Chunks.PutAsync(kept, "kept"u8.ToArray()));
        Assert.False(await stores.Chunks.PutAsync(kept, "kept"u8.ToArray()));

        // What a put that died between its S3 PUT and its commit leaves: an object with no row.
        var orphanBytes = "orphan"u8.ToArray();
        var orphan = Digest.Compute(orphanBytes);
        using (var bucket = new S3Bucket(S3Location.Parse(locations.Chunks!), locations.S3Credentials!))
        {
            await bucket.PutAsync("chunks/" + orphan.Hex, orphanBytes, CancellationToken.None);
        }

        Assert.Null(await stores.Chunks.GetLengthAsync(orphan));
        var listed = new List<StoredObjectView>();
        await foreach (var o in stores.Chunks.ListAsync())
        {
            listed.Add(new StoredObjectView(o.Digest, o.Length));
        }

        Assert.Equal(new[] { kept, orphan }.Order(), listed.Select(o => o.Digest).Order());
        var report = await stores.CreateCollector(TimeSpan.Zero).RunAsync();
        Assert.Null(await stores.Chunks.ReadAllAsync(orphan));
        Assert.Null(await stores.Chunks.ReadAllAsync(kept)); // unreferenced too, and grace zero
        Assert.True(report.ChunksDeleted >= 2, report.ToString());

        // After gc deleted it, a put stores it again rather than trusting a stale "present".
        Assert.True(await stores.Chunks.PutAsync(kept, "kept"u8.ToArray()));
        Assert.Equal("kept"u8.ToArray(), await stores.Chunks.ReadAllAsync(kept));
    }

    private readonly record struct StoredObjectView(Digest Digest, long Length);
}
