using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Slacker.Node.Cache;

namespace Slacker.Node;

/// <summary>
/// What every volume on a node shares: the server, the chunk cache and the single-flight fetcher. One per node
/// process.
/// </summary>
public sealed class NodeStorage
{
    private NodeStorage(NodeOptions options, IBlockStore store, ILoggerFactory loggers)
    {
        Options = options;
        Paths = new NodePaths(options.Root);
        Store = store;
        Loggers = loggers;
        Directory.CreateDirectory(Paths.Root);
        Directory.CreateDirectory(Paths.Volumes);
        Directory.CreateDirectory(Paths.Mounts);
        Cache = ChunkCache.Open(Paths.Cache, options.CacheCapacityBytes, loggers.CreateLogger<ChunkCache>());
        Fetcher = new ChunkFetcher(Cache, store, options.FetchTimeout, loggers.CreateLogger<ChunkFetcher>(), options.FetchParallelism);
    }

    public NodeOptions Options { get; }

    public NodePaths Paths { get; }

    public IBlockStore Store { get; }

    public ILoggerFactory Loggers { get; }

    public ChunkCache Cache { get; }

    public ChunkFetcher Fetcher { get; }

    public static NodeStorage Open(NodeOptions options, IBlockStore store, ILoggerFactory? loggers = null)
    {
        if (options.SequentialWindowChunks < 0 || options.FetchTimeout <= TimeSpan.Zero || options.MapBatchSize <= 0 || options.UploadParallelism <= 0 || options.FetchParallelism <= 0)
        {
            throw new ArgumentException("Node options: the sequential window must be >= 0; fetch timeout, map batch size, upload and fetch parallelism must be positive.", nameof(options));
        }

        return new NodeStorage(options, store, loggers ?? NullLoggerFactory.Instance);
    }
}
