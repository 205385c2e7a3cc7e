using System.Net.Sockets;
using Slacker.Bench.Cluster;
using Slacker.Bench.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// The `slacker server` and `slacker node` the bench starts for itself, on loopback, with fresh data under the
/// work dir: nothing another user of this host runs is touched, and every cycle starts from a known state.
/// They are stopped by PID at the end (the node first: it detaches its roots in order), and anything still
/// mounted below their dir is unmounted before the dir is deleted.
/// With <see cref="SlackerBackend.Cluster"/> the server keeps its metadata in a PostgreSQL and its chunks in a Ceph
/// RGW bucket that the bench starts for itself (<see cref="ClusterStorage"/>), as every server of a cluster does.
/// </summary>
public sealed class SlackerServices : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private readonly string _dir;
    private OwnedDaemon? _server;
    private OwnedDaemon? _node;
    private ClusterStorage? _storage;

    private SlackerServices(string dir, int port)
    {
        _dir = dir;
        ServerUrl = $"http://127.0.0.1:{port}";
        NodeSocket = Path.Combine(dir, "node.sock");
        NodeData = Path.Combine(dir, "node");
    }

    public string ServerUrl { get; }

    public string NodeSocket { get; }

    public string NodeData { get; }

    /// <summary>What every CLI call needs to reach these two (the CLI's own settings).</summary>
    public IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["SLACKER_SERVER"] = ServerUrl,
        ["SLACKER_NODE_SOCKET"] = NodeSocket,
        ["SLACKER_NODE_DATA"] = NodeData,
    };

    /// <summary>Where the server keeps its metadata and chunks, for the report.</summary>
    public string StorageDescription => _storage?.Description ?? "embedded (SQLite, local chunk files)";

    public static async Task<SlackerServices> StartAsync(ContainerCli cli, string workDir, SlackerBackend backend, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(workDir, backend == SlackerBackend.Cluster ? "slacker-cluster" : "slacker");
        if (Directory.Exists(dir))
        {
            MountCleanup.UnmountBelow(dir);
            Directory.Delete(dir, recursive: true);
        }

        Directory.CreateDirectory(dir);
        var services = new SlackerServices(dir, FreePort.Pick());
        try
        {
            string[] stores = [];
            if (backend == SlackerBackend.Cluster)
            {
                services._storage = await ClusterStorage.StartAsync(Path.Combine(dir, "storage"), cancellationToken);
                stores = ["--config", services._storage.ConfigPath];
            }

            services._server = Start(cli, ["server", "--data", Path.Combine(dir, "server"), "--listen", services.ServerUrl["http://".Length..], .. stores], Path.Combine(dir, "server.log"));
            await WaitAsync(services._server, "slacker server", () => ServerAnswersAsync(services.ServerUrl, cancellationToken), cancellationToken);
            services._node = Start(cli, ["node", "--data", services.NodeData, "--socket", services.NodeSocket, "--server", services.ServerUrl], Path.Combine(dir, "node.log"));
            await WaitAsync(services._node, "slacker node", () => NodeAnswersAsync(services.NodeSocket, cancellationToken), cancellationToken);
            return services;
        }
        catch
        {
            await services.DisposeAsync();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        // The node first: it stops its containers and detaches their roots, which needs nothing from the server.
        if (_node is not null)
        {
            await _node.StopAsync(TimeSpan.FromSeconds(60));
            await _node.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }

        if (Directory.Exists(_dir))
        {
            // What a node that died mid-detach left: its FUSE connections first (a thread waiting on its own dead
            // FUSE server holds the process and the loop device until they are aborted), then the mounts.
            Slacker.Fuse.FuseSession.CleanupStale(_dir);
            MountCleanup.UnmountBelow(_dir);
            Directory.Delete(_dir, recursive: true);
        }
    }

    private static OwnedDaemon Start(ContainerCli cli, IEnumerable<string> arguments, string log) =>
        OwnedDaemon.Start(cli.Binary, cli.GlobalArguments.Concat(arguments), log);

    /// <summary>Waits until <paramref name="ready"/>, failing with the daemon's log when it exits or the start timeout passes.</summary>
    internal static async Task WaitAsync(OwnedDaemon daemon, string what, Func<Task<bool>> ready, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + StartTimeout;
        while (!await ready())
        {
            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException(
                    $"{what} did not come up within {StartTimeout.TotalSeconds:0} s (`{daemon.Description}`); its log ({daemon.LogPath}) ends:\n{daemon.LogTail()}");
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    internal static async Task<bool> ServerAnswersAsync(string url, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(url + "/healthz"), cancellationToken);
            return response.IsSuccessStatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }

    internal static async Task<bool> NodeAnswersAsync(string socketPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(socketPath))
        {
            return false;
        }

        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}

/// <summary>Which stores the bench's slacker server runs on.</summary>
public enum SlackerBackend
{
    /// <summary>The one-machine default: SQLite and chunk files under the server's data dir.</summary>
    Embedded,

    /// <summary>The cluster's shared tier: PostgreSQL and an S3 bucket (Ceph RGW).</summary>
    Cluster,
}
