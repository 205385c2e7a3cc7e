using System.Globalization;
using Slacker.Native.Processes;

namespace Slacker.Bench.Cluster;

/// <summary>
/// A private network of simulated hosts on this machine: a bridge with address 10.N.0.1/24 in the root network
/// namespace (where the servers, PostgreSQL and S3 run) and, per host, a network namespace joined to the bridge
/// by a veth pair, with address 10.N.0.(i+2). Traffic stays between these and loopback: there is no route out.
/// Every name carries a random tag, and dispose deletes exactly what this instance made.
/// </summary>
public sealed class HostNetwork : IAsyncDisposable
{
    private readonly List<NetworkHost> _hosts = [];
    private readonly string _tag;
    private readonly int _subnet;

    private HostNetwork(string tag, int subnet)
    {
        _tag = tag;
        _subnet = subnet;
    }

    public string Bridge => $"slk{_tag}";

    /// <summary>The root namespace's address on the bridge: servers listen here to be reachable from the hosts.</summary>
    public string GatewayAddress => $"10.{_subnet}.0.1";

    public IReadOnlyList<NetworkHost> Hosts => _hosts;

    public static async Task<HostNetwork> CreateAsync(CancellationToken ct = default)
    {
        var tag = Convert.ToHexStringLower(BitConverter.GetBytes(Random.Shared.Next()))[..5];
        var subnet = 100 + Random.Shared.Next(100);
        var network = new HostNetwork(tag, subnet);
        try
        {
            await IpAsync(ct, "link", "add", network.Bridge, "type", "bridge");
            await IpAsync(ct, "addr", "add", $"{network.GatewayAddress}/24", "dev", network.Bridge);
            await IpAsync(ct, "link", "set", network.Bridge, "up");
            return network;
        }
        catch
        {
            await network.DisposeAsync();
            throw;
        }
    }

    /// <summary>A new simulated host: its own network namespace on the bridge.</summary>
    public async Task<NetworkHost> AddHostAsync(CancellationToken ct = default)
    {
        var index = _hosts.Count;
        var host = new NetworkHost($"slk{_tag}h{index}", $"10.{_subnet}.0.{index + 2}");
        _hosts.Add(host);
        var outside = $"slk{_tag}v{index}";
        await IpAsync(ct, "netns", "add", host.Namespace);
        await IpAsync(ct, "link", "add", outside, "type", "veth", "peer", "name", "eth0", "netns", host.Namespace);
        await IpAsync(ct, "link", "set", outside, "master", Bridge, "up");
        await host.RunAsync("ip", ["addr", "add", $"{host.Address}/24", "dev", "eth0"], ct);
        await host.RunAsync("ip", ["link", "set", "eth0", "up"], ct);
        await host.RunAsync("ip", ["link", "set", "lo", "up"], ct);
        return host;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var host in _hosts)
        {
            // Deleting the namespace deletes its end of the veth pair, and with it the bridge's end.
            await ProcessRunner.RunAsync("ip", ["netns", "del", host.Namespace]);
        }

        await ProcessRunner.RunAsync("ip", ["link", "del", Bridge]);
    }

    internal static async Task IpAsync(CancellationToken ct, params string[] arguments) =>
        (await ProcessRunner.RunAsync("ip", arguments, new ProcessOptions { Timeout = TimeSpan.FromSeconds(30) }, ct))
            .EnsureSuccess($"ip {string.Join(' ', arguments)}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Bridge} {GatewayAddress}/24, {_hosts.Count} hosts");
}

/// <summary>
/// One simulated host: a network namespace. Its processes run through nsenter with only the network namespace
/// changed, so they share the machine's mounts, FUSE and loop devices (as a node on its own machine would own
/// them) but see only this host's network. (ip netns exec would also unshare the mount namespace.)
/// </summary>
public sealed record NetworkHost(string Namespace, string Address)
{
    public string NamespacePath => $"/run/netns/{Namespace}";

    /// <summary>The program and arguments that run <paramref name="program"/> inside this host.</summary>
    public (string Program, string[] Arguments) Wrap(string program, IEnumerable<string> arguments) =>
        ("nsenter", [$"--net={NamespacePath}", "--", program, .. arguments]);

    public async Task<ProcessResult> RunAsync(string program, IEnumerable<string> arguments, CancellationToken ct = default)
    {
        var (wrapped, args) = Wrap(program, arguments);
        return (await ProcessRunner.RunAsync(wrapped, args, new ProcessOptions { Timeout = TimeSpan.FromSeconds(60) }, ct))
            .EnsureSuccess($"{program} in {Namespace}");
    }
}
