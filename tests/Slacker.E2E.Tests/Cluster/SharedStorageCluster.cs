using System.Text.Json;
using Slacker.Bench.Cluster;
using Slacker.Bench.Processes;
using Slacker.E2E.Tests.Fixtures;

namespace Slacker.E2E.Tests.Cluster;

/// <summary>
/// A whole cluster on this machine: PostgreSQL and Ceph RGW (S3), <c>slacker server</c>s on the bridge address
/// sharing them, and <c>slacker node</c>s each in its own network namespace (a simulated host) with its own data
/// and cache. Everything lives under one temp dir and is stopped by PID on dispose, mounts and namespaces removed.
/// </summary>
public sealed class SharedStorageCluster : IAsyncDisposable
{
    private readonly List<ServerProcess?> _servers = [];
    private readonly List<int> _serverPorts = [];
    private readonly List<ClusterNode> _nodes = [];

    private SharedStorageCluster(string root, ClusterStorage storage, HostNetwork network)
    {
        Root = root;
        Storage = storage;
        Network = network;
    }

    public string Root { get; }

    public ClusterStorage Storage { get; }

    public CephS3Instance Ceph => Storage.Ceph;

    public HostNetwork Network { get; }

    public IReadOnlyList<ClusterNode> Nodes => _nodes;

    public ServerProcess Server(int index) => _servers[index] ?? throw new InvalidOperationException($"server {index} is not running");

    public string ServerUrl(int index) => $"http://{Network.GatewayAddress}:{_serverPorts[index]}";

    public string AllServers => string.Join(",", _serverPorts.Select((_, i) => ServerUrl(i)));

    /// <param name="nodeServers">Per node, the indexes of the servers it knows, e.g. [[0], [1], [0, 1]].</param>
    public static async Task<SharedStorageCluster> StartAsync(int servers, params int[][] nodeServers)
    {
        var root = Directory.CreateTempSubdirectory("slk-cluster-").FullName;
        ClusterStorage? storage = null;
        HostNetwork network;
        try
        {
            storage = await ClusterStorage.StartAsync(Path.Join(root, "storage"));
            network = await HostNetwork.CreateAsync();
        }
        catch
        {
            if (storage is not null)
            {
                await storage.DisposeAsync();
            }

            Directory.Delete(root, recursive: true);
            throw;
        }

        var cluster = new SharedStorageCluster(root, storage, network);
        try
        {
            for (var i = 0; i < servers; i++)
            {
                cluster._serverPorts.Add(FreePort.Pick());
                cluster._servers.Add(null);
                await cluster.StartServerAsync(i);
            }

            foreach (var known in nodeServers)
            {
                await cluster.AddNodeAsync(string.Join(",", known.Select(cluster.ServerUrl)));
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>(Re)starts server <paramref name="index"/> on its port, on the shared stores.</summary>
    public async Task StartServerAsync(int index)
    {
        _servers[index]?.Dispose();
        _servers[index] = null;
        _servers[index] = await ServerProcess.StartOnAsync(Network.GatewayAddress, _serverPorts[index], Path.Join(Root, $"server{index}"),
            "--config", Storage.ConfigPath, "--gc-grace", "0");
    }

    /// <summary>kill -9 of one server: its connections die mid-answer.</summary>
    public void KillServer(int index)
    {
        Server(index).Kill9();
        Server(index).Dispose();
        _servers[index] = null;
    }

    /// <summary>A new host with a node on it that knows <paramref name="servers"/> (comma-separated URLs).</summary>
    public async Task<ClusterNode> AddNodeAsync(string servers)
    {
        var host = await Network.AddHostAsync();
        var node = new ClusterNode(host, Path.Join(Root, $"node{_nodes.Count}"), servers);
        _nodes.Add(node);
        await node.StartAsync();
        return node;
    }

    /// <summary>`slacker fsck` on the shared stores, as an operator runs it (JSON report).</summary>
    public async Task<FsckOutput> FsckAsync()
    {
        var result = await SlackerProcess.RunAsync(["fsck", "--data", Path.Join(Root, "fsck"), "--config", Storage.ConfigPath, "--json"]);
        var report = result.Stdout.Length > 0 ? JsonDocument.Parse(result.Stdout) : null;
        return new FsckOutput(result, report);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }

        foreach (var server in _servers)
        {
            server?.Dispose();
        }

        KillLeftoverContainers();
        Slacker.Fuse.FuseSession.CleanupStale(Root);
        MountCleanup.UnmountBelow(Root);
        await Network.DisposeAsync();
        await Storage.DisposeAsync();
        if (Mounts.Below(Root).Count == 0)
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    private void KillLeftoverContainers()
    {
        foreach (var node in _nodes)
        {
            ContainerReaper.KillContainersOf(node.Data, Root);
        }
    }
}

public sealed record FsckOutput(SlackerProcess.Result Result, JsonDocument? Report)
{
    public bool IsClean => Result.ExitCode == 0 && Report is not null && Report.RootElement.GetProperty("problems").GetArrayLength() == 0;

    public override string ToString() => Result.ToString();
}
