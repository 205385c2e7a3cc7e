using Slacker.Bench.Cluster;
using Slacker.Bench.Drivers;
using Slacker.Bench.Processes;

namespace Slacker.Bench.Scale;

/// <summary>
/// One `slacker node` on a simulated host, with its own data dir and so its own, empty chunk cache, talking
/// to one server. <see cref="Cli"/> runs the slacker CLI on that host, as a user logged in there would.
/// </summary>
public sealed class ScaleNode : IAsyncDisposable
{
    private readonly OwnedDaemon _daemon;

    private ScaleNode(NetworkHost host, string directory, int server, OwnedDaemon daemon, ContainerCli cli)
    {
        Host = host;
        Directory = directory;
        Server = server;
        _daemon = daemon;
        Cli = cli;
    }

    public NetworkHost Host { get; }

    public string Directory { get; }

    /// <summary>The index of the server this node talks to.</summary>
    public int Server { get; }

    public ContainerCli Cli { get; }

    public static async Task<ScaleNode> StartAsync(ContainerCli slacker, NetworkHost host, string directory, int server, string serverUrl, CancellationToken ct)
    {
        System.IO.Directory.CreateDirectory(directory);
        var data = Path.Join(directory, "data");
        var socket = Path.Join(directory, "node.sock");
        var (program, arguments) = host.Wrap(slacker.Binary, [.. slacker.GlobalArguments, "node", "--data", data, "--socket", socket, "--server", serverUrl]);
        var daemon = OwnedDaemon.Start(program, arguments, Path.Join(directory, "node.log"));
        var (cliProgram, cliArguments) = host.Wrap(slacker.Binary, slacker.GlobalArguments);
        var cli = new ContainerCli(cliProgram, cliArguments, new Dictionary<string, string>
        {
            ["SLACKER_SERVER"] = serverUrl,
            ["SLACKER_NODE_SOCKET"] = socket,
            ["SLACKER_NODE_DATA"] = data,
        });
        var node = new ScaleNode(host, directory, server, daemon, cli);
        try
        {
            await SlackerServices.WaitAsync(daemon, $"slacker node on {host.Namespace}", () => SlackerServices.NodeAnswersAsync(socket, ct), ct);
            return node;
        }
        catch
        {
            await node.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the node (it detaches its roots), then removes whatever a node that died left, and its dir.</summary>
    public async ValueTask DisposeAsync()
    {
        await _daemon.StopAsync(TimeSpan.FromSeconds(60));
        await _daemon.DisposeAsync();
        Slacker.Fuse.FuseSession.CleanupStale(Directory);
        MountCleanup.UnmountBelow(Directory);
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
