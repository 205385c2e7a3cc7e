using Slacker.Core.Engine;
using Slacker.Core.Storage;
using Slacker.Server.Registry;
using Slacker.Server.Storage.S3;
using Slacker.Server.Storage.Sql;

namespace Slacker.Server.Storage;

/// <summary>
/// The backends of one server. Embedded default, all in the data directory: <c>metadata.db</c> and
/// <c>registry.db</c> (SQLite), <c>chunks/</c> (chunks and registry blobs), <c>pages/</c> (block-map pages) and
/// <c>registry-uploads/</c>. Cluster: PostgreSQL for metadata, registry and the object index, S3 for chunks,
/// pages and uploads; the data directory then only spools uploads. Pages live apart from chunks because a
/// 32 KiB page and a 32 KiB chunk cannot be told apart by content, and gc and fsck must know which is which.
/// </summary>
public sealed class ServerStores : IAsyncDisposable
{
    private readonly SqlDatabase _metadataDatabase;
    private readonly SqlDatabase? _registryDatabase;
    private readonly S3Bucket? _bucket;

    private ServerStores(StoreLocations locations, SqlDatabase metadataDatabase, SqlDatabase? registryDatabase, IChunkStore chunks, IChunkStore pages,
        IUploadStaging uploads, S3Bucket? bucket)
    {
        Locations = locations;
        _metadataDatabase = metadataDatabase;
        _registryDatabase = registryDatabase;
        _bucket = bucket;
        Metadata = new SqlMetadataStore(metadataDatabase);
        Registry = new RegistryStore(registryDatabase ?? metadataDatabase);
        Chunks = chunks;
        Pages = pages;
        Uploads = uploads;
    }

    public StoreLocations Locations { get; }

    public string DataDirectory => Locations.DataDirectory;

    public SqlMetadataStore Metadata { get; }

    public RegistryStore Registry { get; }

    public IChunkStore Chunks { get; }

    public IChunkStore Pages { get; }

    public IUploadStaging Uploads { get; }

    /// <summary>True when other servers may share these stores (PostgreSQL metadata).</summary>
    public bool IsShared => _metadataDatabase.IsShared;

    public static Task<ServerStores> OpenAsync(string dataDirectory, bool readOnly = false, CancellationToken ct = default) =>
        OpenAsync(new StoreLocations(dataDirectory), readOnly, ct);

    /// <param name="readOnly">For fsck: open existing stores without changing them, even while servers run on them.</param>
    public static async Task<ServerStores> OpenAsync(StoreLocations locations, bool readOnly = false, CancellationToken ct = default)
    {
        locations.Validate();
        var root = Path.GetFullPath(locations.DataDirectory);
        locations = locations with { DataDirectory = root };
        if (!readOnly)
        {
            Directory.CreateDirectory(root);
        }
        else if (locations.Metadata is null && !Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Data directory {root} does not exist: pass the --data directory the server uses.");
        }

        var spool = Path.Join(root, "spool");
        var opened = new List<IAsyncDisposable>();
        try
        {
            SqlDatabase metadata = locations.Metadata is { } uri
                ? await PostgresDatabase.OpenAsync(uri, readOnly, ct)
                : await SqliteDatabase.OpenAsync(Path.Join(root, "metadata.db"), readOnly, ct);
            opened.Add(metadata);
            SqlDatabase? registry = null;
            if (metadata.Kind == SqlKind.Sqlite && !readOnly)
            {
                registry = await SqliteDatabase.OpenAsync(Path.Join(root, "registry.db"), readOnly: false, ct);
                opened.Add(registry);
            }

            IChunkStore chunks, pages;
            IUploadStaging uploads;
            S3Bucket? bucket = null;
            if (locations.Chunks is { } s3)
            {
                bucket = new S3Bucket(S3Location.Parse(s3), locations.S3Credentials ?? S3Credentials.FromEnvironment());
                await bucket.EnsureExistsAsync(create: !readOnly, ct);
                var index = (PostgresDatabase)metadata;
                chunks = new S3ChunkStore(bucket, index, "chunks", spool, locations.ReadCacheBytes);
                pages = new S3ChunkStore(bucket, index, "pages", spool, locations.ReadCacheBytes / 8);
                uploads = new S3UploadStaging(bucket, spool);
            }
            else
            {
                chunks = new FileChunkStore(Path.Join(root, "chunks"), readOnly);
                pages = new FileChunkStore(Path.Join(root, "pages"), readOnly);
                uploads = new FileUploadStaging(Path.Join(root, "registry-uploads"));
            }

            var stores = new ServerStores(locations, metadata, registry, chunks, pages, uploads, bucket);
            if (!readOnly)
            {
                await stores.Metadata.InitializeAsync(ct);
                await stores.Registry.InitializeAsync(ct);
            }

            return stores;
        }
        catch
        {
            foreach (var resource in opened)
            {
                await resource.DisposeAsync();
            }

            throw;
        }
    }

    public BlockStore CreateEngine(TimeProvider? time = null) => new(Metadata, Chunks, Pages, time);

    public GarbageCollector CreateCollector(TimeSpan grace, TimeProvider? time = null) => new(Metadata, Chunks, Pages, grace, time);

    public StoreChecker CreateChecker() => new(Metadata, Chunks, Pages);

    public async ValueTask DisposeAsync()
    {
        _bucket?.Dispose();
        if (_registryDatabase is not null)
        {
            await _registryDatabase.DisposeAsync();
        }

        await _metadataDatabase.DisposeAsync();
    }
}
