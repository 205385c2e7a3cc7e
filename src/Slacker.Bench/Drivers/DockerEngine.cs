using Slacker.Bench.Processes;

namespace Slacker.Bench.Drivers;

/// <summary>
/// The Docker daemon the bench talks to: the one already running on this host, or else a dockerd of its own
/// (overlay2, no iptables, no bridge) whose data-root, exec-root, socket and pidfile all live under the
/// work dir. An own dockerd is stopped by its PID and its leftover mounts are unmounted at the end.
/// </summary>
public sealed class DockerEngine : IAsyncDisposable
{
    private readonly OwnedDaemon? _daemon;
    private readonly string? _dir;

    private DockerEngine(ContainerCli cli, string? host, OwnedDaemon? daemon, string? dir)
    {
        Cli = cli;
        Host = host;
        _daemon = daemon;
        _dir = dir;
    }

    public ContainerCli Cli { get; }

    /// <summary>unix:// address of the daemon, or null for the client's default (an already running daemon).</summary>
    public string? Host { get; }

    public bool Owned => _daemon is not null;

    /// <summary>Debian's docker.io client when installed, else whatever `docker` is on PATH.</summary>
    public static string DefaultClient => File.Exists("/usr/bin/docker") ? "/usr/bin/docker" : "docker";

    public static async Task<DockerEngine> StartAsync(string dockerClient, string workDir, CancellationToken cancellationToken)
    {
        var existing = new ContainerCli(dockerClient, []);
        if (File.Exists("/var/run/docker.sock") || Environment.GetEnvironmentVariable("DOCKER_HOST") is { Length: > 0 })
        {
            var probe = await existing.RunAsync(["version", "--format", "{{.Server.Version}}"], cancellationToken, timeout: TimeSpan.FromSeconds(20));
            if (probe.Succeeded)
            {
                return new DockerEngine(existing, null, null, null);
            }
        }

        return await StartOwnAsync(dockerClient, workDir, cancellationToken);
    }

    /// <summary>
    /// A dockerd of its own under <paramref name="workDir"/>/docker even when the host runs one (tests must not
    /// touch the host's images). Keep <paramref name="workDir"/> short: the socket path has a 108-byte limit.
    /// </summary>
    public static async Task<DockerEngine> StartOwnAsync(string dockerClient, string workDir, CancellationToken cancellationToken)
    {
        var dir = Path.Combine(workDir, "docker");
        Directory.CreateDirectory(dir);
        var socket = Path.Combine(dir, "docker.sock");
        var host = "unix://" + socket;
        var daemon = OwnedDaemon.Start(
            "dockerd",
            [
                "--iptables=false", "--ip6tables=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
                "--storage-driver=overlay2",
                "--data-root", Path.Combine(dir, "data"),
                "--exec-root", Path.Combine(dir, "exec"),
                "--pidfile", Path.Combine(dir, "docker.pid"),
                "-H", host,
            ],
            Path.Combine(dir, "dockerd.log"));
        var engine = new DockerEngine(new ContainerCli(dockerClient, ["-H", host]), host, daemon, dir);
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var probe = await engine.Cli.RunAsync(["version", "--format", "{{.Server.Version}}"], cancellationToken, timeout: TimeSpan.FromSeconds(10));
            if (probe.Succeeded)
            {
                return engine;
            }

            if (daemon.HasExited || DateTime.UtcNow > deadline)
            {
                var tail = daemon.LogTail();
                await engine.DisposeAsync();
                throw new InvalidOperationException($"dockerd did not come up on {host} within 60 s; its log ({dir}/dockerd.log) ends:\n{tail}");
            }

            await Task.Delay(200, cancellationToken);
        }
    }

    public async Task<string> VersionAsync(CancellationToken cancellationToken)
    {
        var server = await Cli.RunAsync(["version", "--format", "{{.Server.Version}}"], cancellationToken);
        var client = await Cli.RunAsync(["version", "--format", "{{.Client.Version}}"], cancellationToken);
        var driver = await Cli.RunAsync(["info", "--format", "{{.Driver}}"], cancellationToken);
        return $"dockerd {server.StandardOutput.Trim()} (client {client.StandardOutput.Trim()}, {driver.StandardOutput.Trim()}{(Owned ? ", own daemon" : ", host daemon")})";
    }

    public async ValueTask DisposeAsync()
    {
        if (_daemon is null)
        {
            return;
        }

        await _daemon.DisposeAsync();
        MountCleanup.UnmountBelow(_dir!);
        try
        {
            Directory.Delete(_dir!, recursive: true);
        }
        catch (IOException)
        {
            // A mount we could not detach keeps its directory; the rest is gone and the next run starts clean elsewhere.
        }
    }
}
