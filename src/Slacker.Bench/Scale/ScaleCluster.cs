using System.Globalization;
using Slacker.Bench.Cluster;
using Slacker.Bench.Drivers;
using Slacker.Bench.Processes;

namespace Slacker.Bench.Scale;

/// <summary>
/// The cluster `bench --scale` measures: the shared storage (PostgreSQL + Ceph S3) and N `slacker server`s on
/// the bridge address of a <see cref="HostNetwork"/>, whose simulated hosts run the nodes. Stopped by PID,
/// namespaces and dirs removed, on dispose.
/// </summary>
public sealed class ScaleCluster : IAsyncDisposable
{
    private const string BytesServed = "slacker_chunk_bytes_served_total";

    private readonly string _directory;
    private readonly List<OwnedDaemon> _servers = [];
    private readonly List<string> _serverUrls = [];
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(10) };
    private ClusterStorage? _storage;
    private HostNetwork? _network;

    private ScaleCluster(string directory, ContainerCli slackerCli)
    {
        _directory = directory;
        SlackerCli = slackerCli;
    }

    public ContainerCli SlackerCli { get; }

    public ClusterStorage Storage => _storage!;

    public IReadOnlyList<NetworkHost> Hosts => _network!.Hosts;

    public IReadOnlyList<string> ServerUrls => _serverUrls;

    public static async Task<ScaleCluster> StartAsync(ContainerCli slacker, string directory, int servers, int hosts, TextWriter log, CancellationToken ct)
    {
        if (System.IO.Directory.Exists(directory))
        {
            MountCleanup.UnmountBelow(directory);
            System.IO.Directory.Delete(directory, recursive: true);
        }

        var cluster = new ScaleCluster(directory, slacker);
        try
        {
            cluster._storage = await ClusterStorage.StartAsync(Path.Join(directory, "storage"), ct);
            log.WriteLine($"[scale] storage: {cluster._storage.Description}");
            cluster._network = await HostNetwork.CreateAsync(ct);
            for (var i = 0; i < hosts; i++)
            {
                await cluster._network.AddHostAsync(ct);
            }

            log.WriteLine($"[scale] network: {cluster._network}");
            for (var i = 0; i < servers; i++)
            {
                var url = string.Create(CultureInfo.InvariantCulture, $"http://{cluster._network.GatewayAddress}:{FreePort.Pick()}");
                var server = OwnedDaemon.Start(slacker.Binary,
                    [.. slacker.GlobalArguments, "server", "--data", Path.Join(directory, $"server{i}"), "--listen", url["http://".Length..], "--config", cluster._storage.ConfigPath],
                    Path.Join(directory, $"server{i}.log"));
                cluster._servers.Add(server);
                cluster._serverUrls.Add(url);
                await SlackerServices.WaitAsync(server, $"slacker server {i}", () => SlackerServices.ServerAnswersAsync(url, ct), ct);
                log.WriteLine($"[scale] server {i}: {url}");
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>A node on host <paramref name="host"/> with a fresh data dir, talking to server <paramref name="server"/>.</summary>
    public Task<ScaleNode> StartNodeAsync(int host, int server, string name, CancellationToken ct) =>
        ScaleNode.StartAsync(SlackerCli, Hosts[host], Path.Join(_directory, "nodes", name), server, _serverUrls[server], ct);

    /// <summary>CPU seconds all servers have used since they started.</summary>
    public double ServerCpuSeconds() => _servers.Sum(s => CpuTime.ProcessSeconds(s.Pid));

    /// <summary>Chunk bytes each server has sent since it started (its /metrics counter).</summary>
    public async Task<long[]> BytesServedAsync(CancellationToken ct)
    {
        var values = new long[_serverUrls.Count];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = PrometheusText.Counter(await _http.GetStringAsync(new Uri(_serverUrls[i] + "/metrics"), ct), BytesServed);
        }

        return values;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var server in _servers)
        {
            await server.DisposeAsync();
        }

        if (_network is not null)
        {
            await _network.DisposeAsync();
        }

        if (_storage is not null)
        {
            await _storage.DisposeAsync();
        }

        _http.Dispose();
        if (System.IO.Directory.Exists(_directory))
        {
            Slacker.Fuse.FuseSession.CleanupStale(_directory);
            MountCleanup.UnmountBelow(_directory);
            System.IO.Directory.Delete(_directory, recursive: true);
        }
    }
}
