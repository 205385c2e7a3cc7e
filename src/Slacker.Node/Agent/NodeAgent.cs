using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Slacker.Core.Api;
using Slacker.Core.Model;
using Slacker.Native;
using Slacker.Node.Attach;
using Slacker.Node.Containers;

namespace Slacker.Node.Agent;

/// <summary>
/// `slacker node`: the per-host agent. It owns the chunk cache, the attached volumes and the containers, and
/// serves the CLI on a unix socket. At start it recovers what a previous run left: containers that ended while
/// it was down are shown exited, and stale mounts under its own data dir are removed.
/// </summary>
public sealed class NodeAgent : IAsyncDisposable
{
    private readonly FileStream _lock;
    private readonly HttpClient _http;

    public NodeAgentOptions Options { get; }

    public NodeStorage Storage { get; }

    public LazyRootProvider Roots { get; }

    public ContainerManager Containers { get; }

    public IImageResolver Images { get; }

    private NodeAgent(NodeAgentOptions options, FileStream dataLock, HttpClient http, NodeStorage storage, LazyRootProvider roots, ContainerManager containers, IImageResolver images)
    {
        Options = options;
        _lock = dataLock;
        _http = http;
        Storage = storage;
        Roots = roots;
        Containers = containers;
        Images = images;
    }

    /// <summary>Opens the node's state and recovers it; <paramref name="images"/> overrides the server-registry resolver.</summary>
    public static async Task<NodeAgent> OpenAsync(NodeAgentOptions options, ILoggerFactory loggers, Func<HttpClient, HttpMessageHandler, IImageResolver>? images, CancellationToken cancellationToken)
    {
        if (!IsRoot())
        {
            throw new NodeAgentException("slacker node must run as root: it mounts file systems, attaches loop devices and runs containers. Run it as root.");
        }

        ServerList servers;
        try
        {
            servers = ServerList.Parse(options.ServerUrl);
        }
        catch (BlockStoreException e)
        {
            throw new NodeAgentException($"{e.Message} (e.g. {NodeAgentOptions.DefaultServer})", e);
        }

        var dataDir = Path.GetFullPath(options.DataDir);
        Directory.CreateDirectory(dataDir);
        FileStream dataLock;
        try
        {
            dataLock = new FileStream(Path.Join(dataDir, "node.lock"), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e)
        {
            throw new NodeAgentException($"Another slacker node already uses {dataDir} (its lock is held); stop it, or give this one its own --data.", e);
        }

        // One failover handler for every call to the cluster: block store, chunk fetches and registry.
        var handler = new ServerFailoverHandler(servers, new SocketsHttpHandler());
        var http = new HttpClient(handler) { BaseAddress = servers.Primary, Timeout = TimeSpan.FromMinutes(5) };
        var server = new BlockStoreClient(http);
        var storage = NodeStorage.Open(new NodeOptions { Root = dataDir, CacheCapacityBytes = options.CacheCapacityBytes, StartupProfiles = options.StartupProfiles }, new BlockStoreClientAdapter(server), loggers);
        var store = new ContainerStore(dataDir);
        var resolver = images?.Invoke(http, handler) ?? new RegistryImageResolver(http);
        var roots = new LazyRootProvider(storage, new VolumeAttacher(storage), server, resolver, store, loggers.CreateLogger<LazyRootProvider>());
        var containers = new ContainerManager(store, roots, options.Runtime, Path.Join(dataDir, "runtime"), loggers.CreateLogger<ContainerManager>());
        await containers.RecoverAsync(cancellationToken);
        return new NodeAgent(options with { DataDir = dataDir }, dataLock, http, storage, roots, containers, resolver);
    }

    private static bool IsRoot() => Libc.GetEuid() == 0;

    /// <summary>Serves the API on the unix socket until <paramref name="cancellationToken"/> fires.</summary>
    public async Task ServeAsync(ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        PrepareSocket(Options.SocketPath);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.ListenUnixSocket(Options.SocketPath));
        await using var app = builder.Build();
        app.UseWebSockets();
        var apiLogger = loggers.CreateLogger("Slacker.Node.Api");
        app.Use((http, next) => NodeApi.HandleErrorsAsync(http, () => next(http), apiLogger));
        NodeApi.Map(app, this);
        await app.StartAsync(cancellationToken);

        // Only root may drive the node: whoever can create containers here can mount anything.
        File.SetUnixFileMode(Options.SocketPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        loggers.CreateLogger<NodeAgent>().LogInformation("Node ready on {Socket} (data {Data}, server {Server}, runtime {Runtime}).",
            Options.SocketPath, Options.DataDir, Options.ServerUrl, Options.Runtime);
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        await app.StopAsync(CancellationToken.None);
        File.Delete(Options.SocketPath);
    }

    /// <summary>A socket file left by a dead node is removed; one a live node answers on is an error.</summary>
    private static void PrepareSocket(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        if (!File.Exists(path))
        {
            return;
        }

        using var probe = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        try
        {
            probe.Connect(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        }
        catch (System.Net.Sockets.SocketException)
        {
            File.Delete(path);
            return;
        }

        throw new NodeAgentException($"Another slacker node is already listening on {path}; stop it, or give this one its own --socket.");
    }

    public NodeInfo Info()
    {
        var all = Containers.List(all: true);
        return new NodeInfo(Options.DataDir, Options.ServerUrl, Options.SocketPath, Options.Runtime, all.Count,
            all.Count(c => c.Status == ContainerStatus.Running), Storage.Cache.Stats());
    }

    public async Task<CommitResponse> CommitAsync(string idOrName, CommitRequest request, CancellationToken cancellationToken)
    {
        RegistryImageResolver.Split(request.Reference);
        var record = await Containers.GetSettledAsync(idOrName, cancellationToken);
        var (result, parent) = await Roots.CommitAsync(record, request.Label ?? $"commit of {record.Name} as {request.Reference}", cancellationToken);
        var imageId = await Images.RecordCommitAsync(request.Reference, parent, result.SnapshotId, cancellationToken);
        return new CommitResponse(request.Reference, imageId, result.SnapshotId, result.DirtyChunks, result.UploadedChunks, result.UploadedBytes,
            result.ChunksAlreadyOnServer, result.Duration.TotalSeconds);
    }

    /// <summary>
    /// Empties the node chunk cache (the benchmark's cold start). Refused while any container root is attached:
    /// their reads would only bring the chunks back, and pinned entries are in use.
    /// </summary>
    public PruneCacheResponse PruneCache()
    {
        if (Roots.AttachedCount > 0)
        {
            throw new ContainerException(ContainerErrors.Conflict,
                $"{Roots.AttachedCount} container root(s) are attached and use the cache; stop those containers first.");
        }

        var cache = Storage.Cache;
        var before = cache.Stats();
        cache.Clear();

        var after = cache.Stats();
        return new PruneCacheResponse(before.Entries - after.Entries, before.Bytes - after.Bytes, after);
    }

    /// <summary>The cache's last records go to disk, so that the next start finds them.</summary>
    private void FlushCache()
    {
        try
        {
            Storage.Cache.Flush();
        }
        catch (IOException e)
        {
            Storage.Loggers.CreateLogger<NodeAgent>().LogWarning("Flushing the chunk cache at shutdown failed: {Error}", e.Message);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await Containers.DisposeAsync();
        await Roots.DisposeAsync();
        FlushCache();
        _http.Dispose();
        await _lock.DisposeAsync();
    }
}

public sealed class NodeAgentException(string message, Exception? inner = null) : Exception(message, inner);
