using Slacker.Bench.Processes;

namespace Slacker.E2E.Tests.Fixtures;

/// <summary>
/// A real `slacker server` on a free loopback port and a real `slacker node` on its own socket and data dir, as
/// separate processes, all under one temp dir that disposal removes (after checking nothing stays mounted).
/// </summary>
public sealed class SlackerCluster : IAsyncDisposable
{
    private int _nodeCount;

    public string Root { get; }

    public string ServerUrl => Server.Url;

    public ServerProcess Server { get; }

    public SlackerProcess.Background? Node { get; private set; }

    public string Socket => Path.Join(Root, "node.sock");

    public string NodeData { get; private set; } = "";

    private SlackerCluster(string root, ServerProcess server)
    {
        Root = root;
        Server = server;
    }

    public static async Task<SlackerCluster> StartAsync(bool withNode = true)
    {
        var root = Directory.CreateTempSubdirectory("slk-").FullName;
        ServerProcess server;
        try
        {
            server = await ServerProcess.StartAsync(Path.Join(root, "server"));
        }
        catch
        {
            Directory.Delete(root, recursive: true);
            throw;
        }

        var cluster = new SlackerCluster(root, server);
        try
        {
            if (withNode)
            {
                await cluster.StartNodeAsync();
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Starts a node; <paramref name="freshData"/> gives it a new data dir (an empty chunk cache).</summary>
    public async Task StartNodeAsync(bool freshData = false, string? serverUrl = null)
    {
        if (NodeData.Length == 0 || freshData)
        {
            NodeData = Path.Join(Root, $"node{_nodeCount++}");
        }

        Node = new SlackerProcess.Background(["node", "--data", NodeData, "--socket", Socket, "--server", serverUrl ?? ServerUrl]);
        await Node.WaitForOutputAsync("Node ready", TimeSpan.FromMinutes(1));
    }

    public async Task StopNodeAsync()
    {
        if (Node is not null)
        {
            await Node.StopAsync(TimeSpan.FromSeconds(60));
            await Node.DisposeAsync();
            Node = null;
        }
    }

    /// <summary>Runs `slacker ARGS` against this cluster's node (the socket option goes right after the command).</summary>
    public Task<SlackerProcess.Result> CliAsync(params string[] args) => CliWithStdinAsync(null, args);

    public Task<SlackerProcess.Result> CliWithStdinAsync(string? stdin, params string[] args)
    {
        var at = args[0] is "node" or "container" && args.Length > 1 ? 2 : 1;
        return SlackerProcess.RunAsync([.. args[..at], "--socket", Socket, .. args[at..]], stdin);
    }

    /// <summary>
    /// Puts the busybox root on the server as a Slacker image NAME:TAG through the real import path: a standard
    /// OCI layout imported with `slacker import oci:DIR:TAG NAME` (flattened into ext4, chunks uploaded,
    /// snapshotted, recorded in the server's registry). Returns the image's snapshot id.
    /// </summary>
    public async Task<string> ImportBusyboxAsync(string reference)
    {
        var layout = await BusyboxOciLayout.WriteAsync(Path.Join(Root, "busybox-oci"), "1");
        var import = await SlackerProcess.RunAsync(["import", "--server", ServerUrl, "--node-data", Path.Join(Root, "importer"), layout, reference]);
        Assert.True(import.ExitCode == 0, import.ToString());
        var service = new Slacker.Images.Operations.ImageService(new Uri(ServerUrl + "/"), Slacker.Images.Store.LocalImageStore.Default(Path.Join(Root, "importer")));
        var image = await service.FetchAsync(Slacker.Images.Import.ImageName.Parse(reference));
        return image.Image.Layer.Snapshot;
    }

    /// <summary>`slacker push NAME` from the current node's image store to the server's registry.</summary>
    public async Task PushFromNodeAsync(string reference)
    {
        var push = await SlackerProcess.RunAsync(["push", "--server", ServerUrl, "--node-data", NodeData, reference]);
        Assert.True(push.ExitCode == 0, push.ToString());
    }

    /// <summary>A counter from the server's Prometheus /metrics.</summary>
    public Task<long> MetricAsync(string name) => Server.CounterAsync(name);

    /// <summary>Mount points under this cluster's root (there must be none once the node stopped).</summary>
    public IReadOnlyList<string> MountsUnderRoot() => Mounts.Below(Root);

    public async ValueTask DisposeAsync()
    {
        await StopNodeAsync();
        await Server.StopAsync();
        Server.Dispose();

        KillLeftoverContainers();

        // A failed test may have left mounts; they are ours (under Root), so remove them before deleting files.
        // FUSE connections first: a node killed in the middle of a detach keeps a thread in an unmount that waits
        // for its own dead FUSE server, and only an abort lets that process (and the loop device) go.
        Slacker.Fuse.FuseSession.CleanupStale(Root);
        MountCleanup.UnmountBelow(Root);

        if (MountsUnderRoot().Count == 0)
        {
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>Containers that a failed test left running (see <see cref="ContainerReaper"/>).</summary>
    private void KillLeftoverContainers()
    {
        foreach (var node in Directory.EnumerateDirectories(Root, "node*"))
        {
            ContainerReaper.KillContainersOf(node, Root);
        }
    }
}
