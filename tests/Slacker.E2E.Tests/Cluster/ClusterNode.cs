using Slacker.Bench.Cluster;

namespace Slacker.E2E.Tests.Cluster;

/// <summary>One simulated host of a <see cref="SharedStorageCluster"/>: a network namespace running `slacker node`.</summary>
public sealed class ClusterNode(NetworkHost host, string data, string servers) : IAsyncDisposable
{
    private SlackerProcess.Background? _process;

    public NetworkHost Host { get; } = host;

    public string Data { get; } = data;

    public string Servers { get; } = servers;

    public string Socket => Data + ".sock";

    public string Output => _process?.Output ?? "";

    public async Task StartAsync()
    {
        _process = new SlackerProcess.Background(SlackerProcess.StartInfoIn(Host.NamespacePath, ["node", "--data", Data, "--socket", Socket, "--server", Servers]));
        await _process.WaitForOutputAsync("Node ready", TimeSpan.FromMinutes(1));
    }

    /// <summary>`slacker ARGS` on this host: against its node (--socket) and, for registry commands, its servers.</summary>
    public Task<SlackerProcess.Result> CliAsync(params string[] args)
    {
        var at = args[0] is "node" or "container" && args.Length > 1 ? 2 : 1;
        string[] extra = args[0] is "push" or "pull" or "import" ? ["--server", Servers, "--node-data", Data] : ["--socket", Socket];
        return SlackerProcess.RunInAsync(Host.NamespacePath, [.. args[..at], .. extra, .. args[at..]], TimeSpan.FromMinutes(3));
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.StopAsync(TimeSpan.FromSeconds(60));
            await _process.DisposeAsync();
            _process = null;
        }
    }
}
