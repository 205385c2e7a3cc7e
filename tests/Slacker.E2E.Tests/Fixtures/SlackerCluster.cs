using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Slacker.Core.Api;
using Slacker.Node;
using Slacker.Node.Agent;
using Slacker.Node.Containers;
using Slacker.Node.Volumes;

namespace Slacker.E2E.Tests.Fixtures;

/// <summary>
/// A real `slacker server` on a free loopback port and a real `slacker node` on its own socket and data dir, as
/// separate processes, all under one temp dir that disposal removes (after checking nothing stays mounted).
/// </summary>
public sealed class SlackerCluster : IAsyncDisposable
{
    private int _nodeCount;

    public string Root { get; }

    public string ServerUrl { get; }

    public SlackerProcess.Background Server { get; }

    public SlackerProcess.Background? Node { get; private set; }

    public string Socket => Path.Join(Root, "node.sock");

    public string NodeData { get; private set; } = "";

    private SlackerCluster(string root, string serverUrl, SlackerProcess.Background server)
    {
        Root = root;
        ServerUrl = serverUrl;
        Server = server;
    }

    public static async Task<SlackerCluster> StartAsync(bool withNode = true)
    {
        var root = Directory.CreateTempSubdirectory("slk-").FullName;
        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var server = new SlackerProcess.Background(["server", "--data", Path.Join(root, "server"), "--listen", $"127.0.0.1:{port}"]);
        var cluster = new SlackerCluster(root, url, server);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri(url) };
            var deadline = DateTime.UtcNow.AddMinutes(1);
            while (true)
            {
                Assert.False(server.Process.HasExited, "server died:\n" + server.Output);
                try
                {
                    if ((await http.GetAsync("healthz")).IsSuccessStatusCode)
                    {
                        break;
                    }
                }
                catch (HttpRequestException)
                {
                }

                Assert.True(DateTime.UtcNow < deadline, "server not healthy within a minute:\n" + server.Output);
                await Task.Delay(100);
            }

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

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
    /// Puts the busybox root on the server as a Slacker image NAME:TAG: an ext4 built from the directory, imported
    /// as a volume (only missing chunks move), snapshotted, and recorded in the server's registry.
    /// </summary>
    public async Task<string> ImportBusyboxAsync(string reference)
    {
        var template = await BusyboxRootfs.TemplateAsync();
        var image = Path.Join(Root, "busybox.ext4");
        await using (var file = new FileStream(image, FileMode.Create))
        {
            file.SetLength(64L << 20);
        }

        var mkfs = await BusyboxRootfs.Run("mkfs.ext4", Root, "-q", "-F", "-b", "4096", "-d", template, image);
        Assert.True(mkfs.ExitCode == 0, mkfs.Output);
        using var http = new HttpClient { BaseAddress = new Uri(ServerUrl) };
        var imported = await VolumeImporter.ImportAsync(new BlockStoreClientAdapter(new BlockStoreClient(http)), image, label: reference);
        var config = Encoding.UTF8.GetBytes(
            """{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"]},"rootfs":{"type":"layers","diff_ids":[]}}""");
        var parent = new ResolvedImage(reference, "", imported.Snapshot.Id, imported.Volume.Size, imported.Volume.ChunkSize, ImageRunConfig.Empty, config);
        await new RegistryImageResolver(http).RecordCommitAsync(reference, parent, imported.Snapshot.Id, CancellationToken.None);
        File.Delete(image);
        return imported.Snapshot.Id;
    }

    /// <summary>`slacker push`'s work: publish an image from the node's local store to the server's registry.</summary>
    public async Task PushFromNodeAsync(string reference)
    {
        var service = new Slacker.Images.Operations.ImageService(new Uri(ServerUrl + "/"), Slacker.Images.Store.LocalImageStore.Default(NodeData));
        await service.PushAsync(Slacker.Images.Import.ImageName.Parse(reference));
    }

    /// <summary>A counter from the server's Prometheus /metrics.</summary>
    public async Task<long> MetricAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = new Uri(ServerUrl) };
        var text = await http.GetStringAsync("metrics");
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(name + " ", StringComparison.Ordinal) || line.StartsWith(name + "{", StringComparison.Ordinal))
            {
                return (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>Mount points under this cluster's root (there must be none once the node stopped).</summary>
    public IReadOnlyList<string> MountsUnderRoot() =>
        [.. File.ReadAllLines("/proc/self/mountinfo")
            .Select(l => l.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m == Root || m.StartsWith(Root + "/", StringComparison.Ordinal))];

    public async ValueTask DisposeAsync()
    {
        await StopNodeAsync();
        await Server.DisposeAsync();

        // A failed test may have left mounts; they are ours (under Root), so remove them before deleting files.
        foreach (var mount in MountsUnderRoot().Reverse())
        {
            await BusyboxRootfs.Run("umount", "/", "-l", mount);
        }

        if (MountsUnderRoot().Count == 0)
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
