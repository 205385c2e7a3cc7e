using Slacker.Core.Engine;
using Slacker.Core.Storage;

namespace Slacker.Server.Storage;

/// <summary>
/// The embedded default backend of one data directory: <c>metadata.db</c> (SQLite), <c>chunks/</c> (chunks
/// and registry blobs) and <c>pages/</c> (block-map pages). Pages live apart from chunks because a 32 KiB
/// page and a 32 KiB chunk cannot be told apart by content, and gc and fsck must know which is which.
/// </summary>
public sealed class ServerStores : IAsyncDisposable
{
    private ServerStores(string dataDirectory, IMetadataStore metadata, IChunkStore chunks, IChunkStore pages)
    {
        DataDirectory = dataDirectory;
        Metadata = metadata;
        Chunks = chunks;
        Pages = pages;
    }

    public string DataDirectory { get; }

    public IMetadataStore Metadata { get; }

    public IChunkStore Chunks { get; }

    public IChunkStore Pages { get; }

    /// <param name="readOnly">For fsck: open an existing data directory without changing it, even while a server runs on it.</param>
    public static async Task<ServerStores> OpenAsync(string dataDirectory, bool readOnly = false, CancellationToken ct = default)
    {
        var root = Path.GetFullPath(dataDirectory);
        if (!readOnly)
        {
            Directory.CreateDirectory(root);
        }
        else if (!Directory.Exists(root))
        {
            throw new DirectoryNotFoundException($"Data directory {root} does not exist: pass the --data directory the server uses.");
        }

        var metadata = new SqliteMetadataStore(Path.Join(root, "metadata.db"), readOnly);
        await metadata.InitializeAsync(ct);
        return new ServerStores(
            root,
            metadata,
            new FileChunkStore(Path.Join(root, "chunks"), readOnly),
            new FileChunkStore(Path.Join(root, "pages"), readOnly));
    }

    public BlockStore CreateEngine(TimeProvider? time = null) => new(Metadata, Chunks, Pages, time);

    public GarbageCollector CreateCollector(TimeSpan grace, TimeProvider? time = null) => new(Metadata, Chunks, Pages, grace, time);

    public StoreChecker CreateChecker() => new(Metadata, Chunks, Pages);

    public ValueTask DisposeAsync() => Metadata.DisposeAsync();
}
